// TraceqlSpanFilter: a TraceQL spanset filter (`{ span.http.route = "/healthz" }`) applied
// to the spans of one SpanBatch, for the filter processor (a Strand extension of it).
//
// The batch's spans are grouped by trace ID and each group is evaluated as a trace by the
// TraceQL evaluator; the spans of the result spansets match. Only a single plain spanset
// filter is accepted: spanset operators (&&, ||), structural operators, pipelines,
// metrics, hints and the trace-level intrinsics (traceDuration, rootName,
// rootServiceName) are refused, because a batch holds part of a trace, not the whole.
//
// Immutable after Compile; Match() is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/span_batch.h"

namespace strand::traceql {
class Evaluator;
}

namespace strand::pipeline {

class TraceqlSpanFilter {
 public:
  // Parses and checks `query`; errors are InvalidArgument (TraceQL parse errors carry
  // their line and column).
  static absl::StatusOr<std::unique_ptr<TraceqlSpanFilter>> Compile(std::string_view query);
  ~TraceqlSpanFilter();

  // The indices (into batch.spans, ascending) of the spans the filter matches.
  std::vector<uint32_t> Match(const otlp::SpanBatch& batch) const;

 private:
  explicit TraceqlSpanFilter(std::unique_ptr<traceql::Evaluator> evaluator);
  std::unique_ptr<traceql::Evaluator> evaluator_;
};

}  // namespace strand::pipeline
