// Decoders from OTLP wire bytes into a SpanBatch.
//
// Both decoders validate as they go. Malformed input (truncated protobuf, a field with the
// wrong wire type, invalid JSON, wrong JSON types) fails the whole request with
// InvalidArgument and a reason. A span whose IDs are invalid (trace ID not 16 bytes or all
// zero, span ID not 8 bytes or all zero, parent ID neither empty nor 8 bytes, a link
// with bad IDs) is left out of the batch and counted in `rejected_spans`, so the receiver
// can answer a partial success. Unknown fields are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/span_batch.h"

namespace strand::otlp {

struct DecodedRequest {
  SpanBatch batch;
  uint64_t rejected_spans = 0;
  std::string rejection_message;  // why the first rejected span was refused
};

// Decodes an ExportTraceServiceRequest (or TracesData, same wire shape) in protobuf.
// The batch adopts `body`; its string views point into it (zero-copy).
absl::StatusOr<DecodedRequest> DecodeProtoRequest(std::string&& body);
// The same over bytes shared with other owners; the batch keeps a reference.
absl::StatusOr<DecodedRequest> DecodeProtoRequest(std::shared_ptr<const std::string> body);

}  // namespace strand::otlp
