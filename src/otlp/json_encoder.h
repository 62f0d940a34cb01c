// Renders an ExportTraceServiceRequest as OTLP/JSON, the way OTLP/HTTP JSON exporters send
// it: lowerCamelCase keys, trace and span IDs as hex, enums as integers, 64-bit integers as
// decimal strings, bytes as base64, default values omitted. Used by the otlphttp exporter
// (encoding: json) and by strand-loadgen. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace strand::otlp {

// Offsets in a rendered body of its trace IDs (32 hex digits), span, parent and link span
// IDs (16 hex digits) and 19-digit timestamps, for tools that rewrite bodies in place.
struct JsonIdSites {
  std::vector<uint32_t> trace_ids;
  std::vector<uint32_t> span_ids;
  std::vector<uint32_t> times;
};

// Returns the JSON text. When `sites` is not null, fills it (timestamps of other lengths
// are not recorded).
std::string WriteOtlpJson(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
    JsonIdSites* sites);

// The same from protobuf bytes; InvalidArgument when they do not parse.
absl::StatusOr<std::string> ProtoRequestToJson(std::string_view body);

}  // namespace strand::otlp
