// TracesConsumer: the seam between receivers and whatever takes their spans next: the
// store, or a collector pipeline of processors and exporters.
//
// Consume() takes ownership of the batch and calls `done` exactly once, from any thread:
// OK once the spans are durable (store, persistent queue), held by an exporter's
// in-memory sending queue, or acknowledged by the next hop; Unavailable /
// ResourceExhausted when the caller should retry later; other codes when retrying will
// not help. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "otlp/span_batch.h"

namespace strand {

struct BatchPolicy;  // consumer/batch_policy.h

// Spans a consumer refused by policy while accepting the rest (OTLP partial success).
struct SpanRefusals {
  uint64_t spans = 0;
  std::string message;
};

// What a receiver knows about a request besides its spans.
struct RequestContext {
  std::string tenant;
  // Client metadata (HTTP headers or gRPC metadata; keys lower-case) when the receiver
  // keeps it (`include_metadata`); empty otherwise.
  std::vector<std::pair<std::string, std::string>> metadata;
  // Set by a `batch` processor: exporters that send join requests into batches by this
  // policy (batch_processor.h). Null: send each request as it is.
  std::shared_ptr<const BatchPolicy> batching;
  // Set by a receiver that answers with OTLP partial success: a consumer that refuses some
  // spans by policy (the store's per-tenant limits) records them here before `done` runs.
  // Null: nobody asks.
  std::shared_ptr<SpanRefusals> refused;

  // The first value of metadata `key` (lower-case), or "" when absent.
  std::string_view Metadata(std::string_view key) const {
    for (const auto& [k, v] : metadata) {
      if (k == key) return v;
    }
    return {};
  }
};

using ConsumeDone = std::function<void(absl::Status)>;

class TracesConsumer {
 public:
  virtual ~TracesConsumer() = default;
  // A cheap check before a receiver decodes a request: non-OK (Unavailable or
  // ResourceExhausted) refuses it at once, so that an overloaded consumer does not also
  // pay for decoding requests it would refuse.
  virtual absl::Status Admit(const RequestContext& /*ctx*/) { return absl::OkStatus(); }
  virtual void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) = 0;
};

}  // namespace strand
