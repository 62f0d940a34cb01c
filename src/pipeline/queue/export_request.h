// ExportRequest: one request on its way to the next hop, as exporters queue, batch and
// send it: the OTLP ExportTraceServiceRequest bytes (the receiver's original bytes when
// no processor changed the batch) and what batching needs to know.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "consumer/batch_policy.h"
#include "consumer/traces_consumer.h"

namespace strand::pipeline {

struct ExportRequest {
  std::string tenant;
  // The values of the batch policy's metadata_keys, in its order ("" when absent).
  std::vector<std::string> batch_key;
  std::shared_ptr<const BatchPolicy> batching;  // null: not batched
  std::shared_ptr<const std::string> body;      // ExportTraceServiceRequest protobuf
  uint64_t spans = 0;
};

// Builds the request for a batch (forwarding its original bytes when it has them).
ExportRequest MakeExportRequest(const RequestContext& ctx, const otlp::SpanBatch& batch);
// Builds a request around a ready ExportTraceServiceRequest `body` of `spans` spans.
ExportRequest MakeExportRequest(const RequestContext& ctx, std::string&& body, uint64_t spans);

// Splits `body` (an ExportTraceServiceRequest) into requests of at most `max_spans`
// spans each, for send_batch_max_size. InvalidArgument if `body` does not decode.
absl::StatusOr<std::vector<std::string>> SplitRequest(std::string_view body, uint64_t max_spans);

// A deep copy of a batch (for a fan-out to several consumers).
otlp::SpanBatch CloneBatch(const otlp::SpanBatch& batch);

}  // namespace strand::pipeline
