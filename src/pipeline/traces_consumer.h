// TracesConsumer: the seam between receivers and whatever takes their spans next (the
// store today; pipelines of processors and exporters later).
//
// Consume() takes ownership of the batch and calls `done` exactly once, from any thread:
// OK once the spans are durable (store) or acknowledged by the next hop (exporter);
// Unavailable / ResourceExhausted when the caller should retry later; other codes when
// retrying will not help. Implementations are thread-safe.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "otlp/span_batch.h"

namespace strand::pipeline {

class TracesConsumer {
 public:
  virtual ~TracesConsumer() = default;
  // A cheap check before a receiver decodes a request: non-OK (Unavailable or
  // ResourceExhausted) refuses it at once, so that an overloaded consumer does not also
  // pay for decoding requests it would refuse.
  virtual absl::Status Admit(const std::string& /*tenant*/) { return absl::OkStatus(); }
  virtual void Consume(const std::string& tenant, otlp::SpanBatch&& batch,
                       std::function<void(absl::Status)> done) = 0;
};

}  // namespace strand::pipeline
