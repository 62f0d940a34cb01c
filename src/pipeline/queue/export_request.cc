#include "pipeline/queue/export_request.h"

#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace strand::pipeline {

namespace {

// A request with what the context says (tenant, batching) and no body yet.
ExportRequest RequestFor(const RequestContext& ctx, uint64_t spans) {
  ExportRequest r;
  r.tenant = ctx.tenant;
  r.batching = ctx.batching;
  if (r.batching != nullptr) {
    for (const auto& key : r.batching->metadata_keys) {
      r.batch_key.emplace_back(ctx.Metadata(key));
    }
  }
  r.spans = spans;
  return r;
}

}  // namespace

ExportRequest MakeExportRequest(const RequestContext& ctx, const otlp::SpanBatch& batch) {
  ExportRequest r = RequestFor(ctx, batch.spans.size());
  if (!batch.original_request().empty() && batch.shared_buffer() != nullptr) {
    r.body = batch.shared_buffer();
  } else {
    r.body = std::make_shared<const std::string>(otlp::EncodeExportRequest(batch));
  }
  return r;
}

ExportRequest MakeExportRequest(const RequestContext& ctx, std::string&& body, uint64_t spans) {
  ExportRequest r = RequestFor(ctx, spans);
  r.body = std::make_shared<const std::string>(std::move(body));
  return r;
}

absl::StatusOr<std::vector<std::string>> SplitRequest(std::string_view body, uint64_t max_spans) {
  auto decoded = otlp::DecodeProtoRequest(std::string(body));
  if (!decoded.ok()) return decoded.status();
  const otlp::SpanBatch& batch = decoded->batch;
  std::vector<std::string> parts;
  std::vector<otlp::SpanRef> refs;
  for (uint32_t i = 0; i < batch.spans.size(); ++i) {
    refs.push_back({&batch, i});
    if (refs.size() == max_spans) {
      parts.push_back(otlp::EncodeResourceSpans(refs));
      refs.clear();
    }
  }
  if (!refs.empty()) parts.push_back(otlp::EncodeResourceSpans(refs));
  return parts;
}

otlp::SpanBatch CloneBatch(const otlp::SpanBatch& batch) {
  std::shared_ptr<const std::string> bytes;
  if (!batch.original_request().empty() && batch.shared_buffer() != nullptr) {
    bytes = batch.shared_buffer();
  } else {
    bytes = std::make_shared<const std::string>(otlp::EncodeExportRequest(batch));
  }
  auto decoded = otlp::DecodeProtoRequest(std::move(bytes));
  // Our own encoding of a valid batch always decodes, with every span kept.
  if (!decoded.ok()) return otlp::SpanBatch();
  return std::move(decoded->batch);
}

}  // namespace strand::pipeline
