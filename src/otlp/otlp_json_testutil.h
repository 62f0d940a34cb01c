// Test-only: renders a libprotobuf ExportTraceServiceRequest as OTLP/JSON, for tests and
// benchmarks that compare our decoders. It prints protobuf's canonical JSON, then rewrites
// the trace and span IDs from base64 (protobuf's rule for bytes) to hex (OTLP/JSON's rule).
#pragma once

#include <google/protobuf/util/json_util.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace strand::otlp::testutil {

struct OtlpJsonOptions {
  bool enums_as_ints = true;          // OTLP/JSON's rule; names are accepted leniently
  bool proto_field_names = false;     // snake_case keys instead of lowerCamelCase
  bool print_default_values = false;  // also print zeros, empty strings and empty IDs
  bool pretty = false;
};

// Returns the OTLP/JSON text, or an empty string if protobuf refused to print.
inline std::string ToOtlpJson(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
    const OtlpJsonOptions& options = {}) {
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_enums_as_ints = options.enums_as_ints;
  print.preserve_proto_field_names = options.proto_field_names;
  print.always_print_primitive_fields = options.print_default_values;
  print.add_whitespace = options.pretty;
  std::string canonical;
  if (!google::protobuf::util::MessageToJsonString(request, &canonical, print).ok()) return {};

  // A key such as "traceId" cannot occur quoted like this inside a string value, where
  // its quotes would be escaped, so a plain scan finds exactly the ID fields.
  static constexpr std::string_view kIdKeys[] = {
      "\"traceId\":",  "\"spanId\":",  "\"parentSpanId\":",
      "\"trace_id\":", "\"span_id\":", "\"parent_span_id\":"};
  std::string out;
  out.reserve(canonical.size() + canonical.size() / 4);
  size_t pos = 0;
  while (pos < canonical.size()) {
    size_t key_end = std::string::npos;
    for (std::string_view key : kIdKeys) {
      if (canonical.compare(pos, key.size(), key) == 0) key_end = pos + key.size();
    }
    if (key_end == std::string::npos) {
      out += canonical[pos++];
      continue;
    }
    out.append(canonical, pos, key_end - pos);
    pos = key_end;
    while (pos < canonical.size() && (canonical[pos] == ' ' || canonical[pos] == '\n')) {
      out += canonical[pos++];
    }
    const size_t open = pos;  // the opening quote of the base64 value
    const size_t close = canonical.find('"', open + 1);
    if (canonical[open] != '"' || close == std::string::npos) return {};
    std::optional<std::string> bytes =
        Base64Decode(std::string_view(canonical).substr(open + 1, close - open - 1));
    if (!bytes.has_value()) return {};
    out += '"';
    out += HexEncode(*bytes);
    out += '"';
    pos = close + 1;
  }
  return out;
}

}  // namespace strand::otlp::testutil
