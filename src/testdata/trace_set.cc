#include "testdata/trace_set.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "otlp/proto_decoder.h"

namespace strand::testdata {

namespace pb = ::opentelemetry::proto;

absl::Status TraceSet::AddRequest(std::string bytes) {
  wire_bytes += bytes.size();
  absl::StatusOr<otlp::DecodedRequest> decoded = otlp::DecodeProtoRequest(std::move(bytes));
  if (!decoded.ok()) return decoded.status();
  if (decoded->rejected_spans != 0) {
    return absl::InvalidArgumentError("request had rejected spans: " + decoded->rejection_message);
  }
  batches.push_back(std::make_unique<otlp::SpanBatch>(std::move(decoded->batch)));
  const otlp::SpanBatch* batch = batches.back().get();
  for (uint32_t i = 0; i < batch->spans.size(); ++i) {
    traces[batch->spans[i].trace_id].push_back({batch, i});
  }
  span_count += batch->spans.size();
  return absl::OkStatus();
}

absl::Status TraceSet::AddRequest(const pb::collector::trace::v1::ExportTraceServiceRequest& r) {
  return AddRequest(r.SerializeAsString());
}

std::vector<std::string> CanonicalSpans(std::span<const otlp::SpanRef> spans) {
  pb::trace::v1::TracesData data;
  std::vector<std::string> out;
  if (!data.ParseFromString(otlp::EncodeResourceSpans(spans))) {
    out.push_back("<unparseable>");
    return out;
  }
  for (const pb::trace::v1::ResourceSpans& rs : data.resource_spans()) {
    for (const pb::trace::v1::ScopeSpans& ss : rs.scope_spans()) {
      for (const pb::trace::v1::Span& span : ss.spans()) {
        pb::trace::v1::ResourceSpans one;
        *one.mutable_resource() = rs.resource();
        one.set_schema_url(rs.schema_url());
        pb::trace::v1::ScopeSpans* scope = one.add_scope_spans();
        *scope->mutable_scope() = ss.scope();
        scope->set_schema_url(ss.schema_url());
        *scope->add_spans() = span;
        std::string bytes;
        {
          google::protobuf::io::StringOutputStream stream(&bytes);
          google::protobuf::io::CodedOutputStream coded(&stream);
          coded.SetSerializationDeterministic(true);
          one.SerializeToCodedStream(&coded);
        }
        out.push_back(std::move(bytes));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> CanonicalSpans(const otlp::SpanBatch& batch) {
  std::vector<otlp::SpanRef> refs;
  for (uint32_t i = 0; i < batch.spans.size(); ++i) refs.push_back({&batch, i});
  return CanonicalSpans(refs);
}

}  // namespace strand::testdata
