// TraceSet and CanonicalSpans: test helpers for comparing what went into a block, a store
// or an API answer with what came out. TraceSet decodes OTLP requests (typically from
// TraceGenerator) with our decoder and groups their spans by trace ID; CanonicalSpans gives
// one deterministic string per span so that two span sets compare equal exactly when they
// hold the same spans, whatever their grouping and order.
//
// Test-only; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_encoder.h"
#include "otlp/span_batch.h"

namespace strand::testdata {

// Decoded batches and their spans grouped by trace ID (ascending).
struct TraceSet {
  std::vector<std::unique_ptr<otlp::SpanBatch>> batches;
  std::map<otlp::TraceId, std::vector<otlp::SpanRef>> traces;
  uint64_t wire_bytes = 0;  // protobuf request bytes added
  uint64_t span_count = 0;

  // Decodes an ExportTraceServiceRequest and adds its spans.
  absl::Status AddRequest(std::string bytes);
  absl::Status AddRequest(
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request);
};

// One string per span: the span with its resource, scope and schema URLs as a
// deterministic ResourceSpans serialization, sorted. Two span sets hold the same spans
// exactly when their canonical forms are equal (grouping and order do not matter).
std::vector<std::string> CanonicalSpans(std::span<const otlp::SpanRef> spans);
std::vector<std::string> CanonicalSpans(const otlp::SpanBatch& batch);

}  // namespace strand::testdata
