// SamplingPolicy: one tail-sampling rule, evaluated on all the spans of one trace once the
// trace's decision_wait has passed. Built from a PolicyConfig by BuildSamplingPolicy().
//
// Decisions follow otelcol's tailsamplingprocessor: a policy with `invert_match` answers
// kInvertSampled / kInvertNotSampled, which CombineDecisions() weighs differently from the
// plain answers (an inverted "no" vetoes the trace; an inverted "yes" samples only when no
// other policy said a plain "no"). Inside and/composite policies inverted answers count as
// plain ones.
//
// Thread safety: not thread-safe. Stateful policies (rate_limiting, composite) keep
// counters, so the owner serializes Evaluate() calls (the processor holds its lock).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/proto_encoder.h"
#include "otlp/span_batch.h"
#include "pipeline/processor/tail_sampling/tail_sampling_config.h"

namespace strand::pipeline {

enum class Decision {
  kNotSampled,
  kSampled,
  kInvertNotSampled,
  kInvertSampled,
  kDropped,  // a drop policy matched: the trace is not sampled whatever else said
};

// The spans of one trace, possibly spread over several batches.
struct TraceView {
  otlp::TraceId trace_id{};
  std::span<const otlp::SpanRef> spans;
};

class SamplingPolicy {
 public:
  virtual ~SamplingPolicy() = default;
  // `now_nanos` is the processor clock's monotonic time (rate limits count per second).
  virtual Decision Evaluate(const TraceView& trace, int64_t now_nanos) = 0;
};

// Builds the evaluator of a parsed policy (and its sub-policies).
absl::StatusOr<std::unique_ptr<SamplingPolicy>> BuildSamplingPolicy(const PolicyConfig& config);

// Folds the policies' answers into the final one (kSampled or not), upstream's order:
// dropped, then an inverted "no", then any "yes", then an inverted "yes" with no plain "no".
bool CombineDecisions(std::span<const Decision> decisions);

// FNV-1a (64 bit) over `salt` then the trace ID: the probabilistic policy's hash, the same
// function otelcol uses so that both sample the same traces for the same salt.
uint64_t ProbabilisticHash(std::string_view salt, const otlp::TraceId& id);

}  // namespace strand::pipeline
