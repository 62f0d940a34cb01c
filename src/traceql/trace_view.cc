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
  // Depths, walking each chain up once: a link back into the chain being walked closes a
  // cycle and is dropped. Then a counting sort by depth gives parents before children.
  std::vector<uint32_t> depth(n, 0);
  std::vector<uint8_t> state(n, 0);  // 0 new, 1 on the current chain, 2 done
  std::vector<uint32_t> chain;
  uint32_t max_depth = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (state[i] != 0) continue;
    chain.clear();
    int32_t x = static_cast<int32_t>(i);
    while (x >= 0 && state[x] == 0) {
      state[x] = 1;
      chain.push_back(static_cast<uint32_t>(x));
      x = parent_[x];
    }
    if (x >= 0 && state[x] == 1) parent_[chain.back()] = -1;  // the cycle's closing link
    for (size_t k = chain.size(); k-- > 0;) {
      const uint32_t c = chain[k];
      depth[c] = parent_[c] < 0 ? 0 : depth[parent_[c]] + 1;
      max_depth = std::max(max_depth, depth[c]);
      state[c] = 2;
    }
  }
  std::vector<uint32_t> at_depth(max_depth + 2, 0);
  for (uint32_t i = 0; i < n; ++i) ++at_depth[depth[i] + 1];
  for (size_t d = 1; d < at_depth.size(); ++d) at_depth[d] += at_depth[d - 1];
  top_down_.resize(n);
  for (uint32_t i = 0; i < n; ++i) top_down_[at_depth[depth[i]]++] = i;
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
