// Decoder from OTLP/JSON (ExportTraceServiceRequest as JSON) into a SpanBatch.
// Same validation contract as proto_decoder.h. OTLP/JSON rules: lowerCamelCase keys
// (snake_case accepted too), trace and span IDs as hex of either case, enums as integers,
// 64-bit integers as decimal strings or numbers, bytes as base64, unknown keys ignored.
// Known limitation: a doubleValue written as the integer literal `-0` reads as +0 (the
// parser sees an integer); `-0.0` and "-0" keep the sign.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/proto_decoder.h"

namespace strand::otlp {

// Strings are copied into the batch's arena; `body` need not outlive the result.
absl::StatusOr<DecodedRequest> DecodeJsonRequest(std::string_view body);

}  // namespace strand::otlp
