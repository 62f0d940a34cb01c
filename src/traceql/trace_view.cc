#include "traceql/trace_view.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace strand::traceql {

const otlp::AnyValue* FindAttribute(const otlp::SpanBatch& batch, otlp::Range range,
                                    std::string_view key) {
  for (uint32_t a = range.begin; a < range.end; ++a) {
    if (batch.attributes[a].key == key) return &batch.attributes[a].value;
  }
  return nullptr;
}

TraceView::TraceView(const otlp::TraceId& id, std::vector<otlp::SpanRef> spans)
    : id_(id), spans_(std::move(spans)) {
  const uint32_t n = static_cast<uint32_t>(spans_.size());
  parent_.assign(n, -1);
  min_start_ = UINT64_MAX;
  max_end_ = 0;
  absl::flat_hash_map<otlp::SpanId, int32_t> by_id;
  by_id.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    const otlp::Span& s = span(i);
    by_id.try_emplace(s.span_id, static_cast<int32_t>(i));
    min_start_ = std::min(min_start_, s.start_time_unix_nano);
    max_end_ = std::max(max_end_, s.end_time_unix_nano);
  }
  if (n == 0) min_start_ = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const otlp::Span& s = span(i);
    if (s.has_parent) {
      auto it = by_id.find(s.parent_span_id);
      if (it != by_id.end() && it->second != static_cast<int32_t>(i)) parent_[i] = it->second;
    } else if (root_ < 0 || s.start_time_unix_nano < span(root_).start_time_unix_nano) {
      root_ = static_cast<int32_t>(i);
    }
  }
}

std::string_view TraceView::ResourceString(uint32_t i, std::string_view key) const {
  const otlp::SpanBatch& b = batch(i);
  const otlp::Span& s = span(i);
  if (s.scope_index >= b.scopes.size()) return {};
  const uint32_t r = b.scopes[s.scope_index].resource_index;
  if (r >= b.resources.size()) return {};
  const otlp::AnyValue* v = FindAttribute(b, b.resources[r].attributes, key);
  return v != nullptr && v->type == otlp::ValueType::kString ? v->str : std::string_view();
}

std::string_view TraceView::RootServiceName() const {
  if (root_ >= 0) return ResourceString(root_, "service.name");
  return {};
}

std::string_view TraceView::RootSpanName() const {
  return root_ >= 0 ? span(root_).name : std::string_view();
}

}  // namespace strand::traceql
