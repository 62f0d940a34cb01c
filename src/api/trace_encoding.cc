#include "api/trace_encoding.h"

#include <google/protobuf/util/json_util.h>

#include "common/coding.h"
#include "strand/tempopb/tempo.pb.h"

namespace strand::api {
namespace {

std::string Metrics(uint64_t inspected_bytes) {
  std::string m;
  if (inspected_bytes > 0) {
    m.push_back(0x08);
    PutVarint64(&m, inspected_bytes);
  }
  return m;
}

}  // namespace

std::string TraceToProto(std::span<const otlp::SpanRef> spans, TraceApiVersion version,
                         uint64_t inspected_bytes, std::string_view partial) {
  std::string trace = otlp::EncodeResourceSpans(spans);
  if (version == TraceApiVersion::kV1) return trace;
  std::string out;
  otlp::AppendLengthDelimited(out, 1, trace);
  otlp::AppendLengthDelimited(out, 2, Metrics(inspected_bytes));
  if (!partial.empty()) {
    out.push_back(0x18);  // field 3 (status), varint: PARTIAL
    out.push_back(0x01);
    otlp::AppendLengthDelimited(out, 4, partial);
  }
  return out;
}

absl::StatusOr<std::string> TraceToJson(std::span<const otlp::SpanRef> spans,
                                        TraceApiVersion version, uint64_t inspected_bytes,
                                        std::string_view partial) {
  std::string bytes = TraceToProto(spans, version, inspected_bytes, partial);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  google::protobuf::util::Status st;
  if (version == TraceApiVersion::kV1) {
    tempopb::TraceV1 msg;
    if (!msg.ParseFromString(bytes)) return absl::InternalError("cannot re-read encoded trace");
    st = google::protobuf::util::MessageToJsonString(msg, &json, options);
  } else {
    tempopb::TraceByIDResponse msg;
    if (!msg.ParseFromString(bytes)) return absl::InternalError("cannot re-read encoded trace");
    st = google::protobuf::util::MessageToJsonString(msg, &json, options);
  }
  if (!st.ok()) return absl::InternalError(std::string(st.message()));
  return json;
}

}  // namespace strand::api
