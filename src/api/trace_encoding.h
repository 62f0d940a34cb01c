// Encodings of a trace for the Tempo API: protobuf bytes and protobuf's canonical JSON,
// in the v1 (`{"batches":[...]}`) and v2 (`{"trace":{"resourceSpans":[...]}}`) shapes.
// The JSON goes through libprotobuf's JSON printer on our own Tempo messages, so it is
// exactly protobuf's canonical mapping (IDs base64, enums by name, 64-bit as strings).
// Thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/proto_encoder.h"

namespace strand::api {

enum class TraceApiVersion { kV1, kV2 };

// Protobuf body: v1 is the Trace message; v2 the TraceByIDResponse message, whose status
// is PARTIAL with `partial` as its message when `partial` is not empty (v1 has no place
// for it).
std::string TraceToProto(std::span<const otlp::SpanRef> spans, TraceApiVersion version,
                         uint64_t inspected_bytes, std::string_view partial = {});

absl::StatusOr<std::string> TraceToJson(std::span<const otlp::SpanRef> spans,
                                        TraceApiVersion version, uint64_t inspected_bytes,
                                        std::string_view partial = {});

}  // namespace strand::api
