#include "store/live_traces.h"

#include <algorithm>
#include <cstring>

namespace strand::store {

LiveTraces::LiveTraces(int num_shards) {
  for (int i = 0; i < num_shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

size_t LiveTraces::ShardOf(const otlp::TraceId& id) const {
  // Trace IDs are random in their low bytes; mix a little anyway for hand-made IDs.
  uint64_t v;
  std::memcpy(&v, id.data() + 8, 8);
  v ^= v >> 29;
  v *= 0xbf58476d1ce4e5b9ULL;
  v ^= v >> 32;
  return v % shards_.size();
}

void LiveTraces::Add(const std::string& tenant, BatchPtr batch, int64_t now_unix_nanos) {
  const auto& spans = batch->spans;
  if (spans.empty()) return;
  // Group span indices by shard so each shard is locked once per batch.
  std::vector<std::pair<uint32_t, uint32_t>> order(spans.size());  // (shard, span index)
  for (uint32_t i = 0; i < spans.size(); ++i) {
    order[i] = {static_cast<uint32_t>(ShardOf(spans[i].trace_id)), i};
  }
  std::sort(order.begin(), order.end());
  Key key{tenant, {}};
  size_t i = 0;
  while (i < order.size()) {
    Shard& shard = *shards_[order[i].first];
    absl::MutexLock lock(&shard.mu);
    const uint32_t shard_index = order[i].first;
    for (; i < order.size() && order[i].first == shard_index; ++i) {
      const otlp::Span& s = spans[order[i].second];
      key.id = s.trace_id;
      Entry& e = shard.traces[key];
      if (e.batches.empty() || e.batches.back() != batch) e.batches.push_back(batch);
      e.spans.push_back({batch.get(), order[i].second});
      e.min_start = std::min(e.min_start, s.start_time_unix_nano);
      e.max_end = std::max(e.max_end, s.end_time_unix_nano);
      e.last_update = now_unix_nanos;
      ++shard.spans;
    }
  }
}

std::optional<TraceSpans> LiveTraces::Find(const std::string& tenant,
                                           const otlp::TraceId& id) const {
  const Shard& shard = *shards_[ShardOf(id)];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.traces.find(Key{tenant, id});
  if (it == shard.traces.end()) return std::nullopt;
  TraceSpans out;
  out.batches = it->second.batches;
  out.spans = it->second.spans;
  out.min_start_unix_nano = it->second.min_start;
  out.max_end_unix_nano = it->second.max_end;
  return out;
}

uint64_t LiveTraces::NumTraces() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += s->traces.size();
  }
  return n;
}

uint64_t LiveTraces::NumSpans() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    absl::MutexLock lock(&s->mu);
    n += s->spans;
  }
  return n;
}

}  // namespace strand::store
