#include "store/live_traces.h"

#include <algorithm>
#include <cstring>

#include "otlp/proto_decoder.h"

namespace strand::store {

void LiveAccounting::Register(uint64_t epoch, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  ++batches_by_epoch_[epoch];
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  if (memory_ != nullptr) memory_->Take(bytes);
}

void LiveAccounting::Release(uint64_t epoch, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  auto it = batches_by_epoch_.find(epoch);
  if (it != batches_by_epoch_.end() && --it->second == 0) batches_by_epoch_.erase(it);
  bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  batches_.fetch_sub(1, std::memory_order_relaxed);
  if (memory_ != nullptr) memory_->Give(bytes);
}

std::optional<uint64_t> LiveAccounting::OldestLiveEpoch() const {
  absl::MutexLock lock(&mu_);
  if (batches_by_epoch_.empty()) return std::nullopt;
  return batches_by_epoch_.begin()->first;
}

LiveBatch::LiveBatch(std::shared_ptr<const std::string> bytes, uint32_t num_spans, uint64_t epoch,
                     std::shared_ptr<LiveAccounting> accounting)
    : bytes_(std::move(bytes)),
      num_spans_(num_spans),
      epoch_(epoch),
      // The bytes, this object, and the index's references to its spans.
      memory_usage_(bytes_->capacity() + sizeof(*this) + sizeof(std::string) +
                    num_spans * sizeof(LiveSpanRef)),
      accounting_(std::move(accounting)) {
  accounting_->Register(epoch_, memory_usage_);
}

LiveBatch::~LiveBatch() { accounting_->Release(epoch_, memory_usage_); }

absl::StatusOr<std::shared_ptr<const otlp::SpanBatch>> LiveBatch::Decode() const {
  auto decoded = otlp::DecodeProtoRequest(bytes_);
  if (!decoded.ok()) return decoded.status();
  if (decoded->batch.spans.size() != num_spans_) {
    return absl::InternalError("a live batch decoded to a different number of spans");
  }
  return std::make_shared<const otlp::SpanBatch>(std::move(decoded->batch));
}

SpanPlacement PlaceSpan(uint64_t start, uint64_t end, int64_t now_unix_nanos, int64_t slack_nanos) {
  if (slack_nanos <= 0) return {start, end, SpanTiming::kInRange};
  // The window [low, high]; both operands are below 2^63, so `high` cannot overflow.
  const uint64_t now = now_unix_nanos > 0 ? static_cast<uint64_t>(now_unix_nanos) : 0;
  const uint64_t slack = static_cast<uint64_t>(slack_nanos);
  const uint64_t low = now > slack ? now - slack : 0;
  const uint64_t high = now + slack;
  if (start > high || end > high) return {now, now, SpanTiming::kFuture};
  if (start < low || end < low) return {now, now, SpanTiming::kPast};
  return {start, end, SpanTiming::kInRange};
}

LiveTraces::LiveTraces(int64_t ingestion_time_range_slack_nanos, int num_shards)
    : slack_nanos_(ingestion_time_range_slack_nanos) {
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

OutOfRangeSpans LiveTraces::Add(const std::string& tenant, const LiveBatchPtr& batch,
                                const otlp::SpanBatch& decoded, int64_t now_unix_nanos,
                                std::span<const uint32_t> span_bytes) {
  OutOfRangeSpans out_of_range;
  const auto& spans = decoded.spans;
  if (spans.empty()) return out_of_range;
  // Group span indices by shard so each shard is locked once per batch.
  std::vector<std::pair<uint32_t, uint32_t>> order(spans.size());  // (shard, span index)
  for (uint32_t i = 0; i < spans.size(); ++i) {
    order[i] = {static_cast<uint32_t>(ShardOf(spans[i].trace_id)), i};
  }
  std::sort(order.begin(), order.end());
  Key key{tenant, {}};
  int64_t new_traces = 0;
  size_t i = 0;
  while (i < order.size()) {
    Shard& shard = *shards_[order[i].first];
    absl::MutexLock lock(&shard.mu);
    const uint32_t shard_index = order[i].first;
    for (; i < order.size() && order[i].first == shard_index; ++i) {
      const otlp::Span& s = spans[order[i].second];
      key.id = s.trace_id;
      auto [it, inserted] = shard.traces.try_emplace(key);
      Entry& e = it->second;
      if (inserted) {
        e.first_update = now_unix_nanos;
        ++new_traces;
      }
      if (!span_bytes.empty()) e.bytes += span_bytes[order[i].second];
      if (e.batches.empty() || e.batches.back() != batch) e.batches.push_back(batch);
      e.spans.push_back({batch.get(), order[i].second});
      const SpanPlacement p =
          PlaceSpan(s.start_time_unix_nano, s.end_time_unix_nano, now_unix_nanos, slack_nanos_);
      e.placed.Add(p.start, p.end);
      out_of_range.past += p.timing == SpanTiming::kPast;
      out_of_range.future += p.timing == SpanTiming::kFuture;
      e.last_update = now_unix_nanos;
      ++shard.spans;
    }
  }
  AddTraceCount(tenant, new_traces);
  return out_of_range;
}

void LiveTraces::AddTraceCount(const std::string& tenant, int64_t delta) {
  if (delta == 0) return;
  absl::MutexLock lock(&counts_mu_);
  uint64_t& n = trace_counts_[tenant];
  n += static_cast<uint64_t>(delta);
  if (n == 0) trace_counts_.erase(tenant);
}

uint64_t LiveTraces::NumTraces(const std::string& tenant) const {
  absl::MutexLock lock(&counts_mu_);
  auto it = trace_counts_.find(tenant);
  return it == trace_counts_.end() ? 0 : it->second;
}

std::vector<SpanRefusal> LiveTraces::CheckLimits(const std::string& tenant,
                                                 const otlp::SpanBatch& decoded,
                                                 std::span<const uint32_t> span_bytes,
                                                 const TraceLimits& limits) const {
  std::vector<SpanRefusal> out(decoded.spans.size(), SpanRefusal::kNone);
  struct Pending {
    bool refused = false;  // a new trace past max_traces
    uint64_t bytes = 0;
  };
  absl::flat_hash_map<otlp::TraceId, Pending> traces;
  uint64_t live = NumTraces(tenant);
  Key key{tenant, {}};
  for (size_t i = 0; i < decoded.spans.size(); ++i) {
    key.id = decoded.spans[i].trace_id;
    auto [it, first] = traces.try_emplace(key.id);
    Pending& p = it->second;
    if (first) {
      const Shard& shard = *shards_[ShardOf(key.id)];
      absl::MutexLock lock(&shard.mu);
      auto found = shard.traces.find(key);
      if (found != shard.traces.end()) {
        p.bytes = found->second.bytes;
      } else if (limits.max_traces != 0 && live >= limits.max_traces) {
        p.refused = true;
      } else {
        ++live;
      }
    }
    if (p.refused) {
      out[i] = SpanRefusal::kLiveTracesExceeded;
      continue;
    }
    const uint64_t size = span_bytes.empty() ? 0 : span_bytes[i];
    if (limits.max_bytes_per_trace != 0 && p.bytes + size > limits.max_bytes_per_trace) {
      out[i] = SpanRefusal::kTraceTooLarge;
      continue;
    }
    p.bytes += size;
  }
  return out;
}

LiveTrace LiveTraces::Copy(const Key& key, const Entry& e) {
  LiveTrace out;
  out.tenant = key.tenant;
  out.id = key.id;
  out.batches = e.batches;
  out.spans = e.spans;
  out.min_start_unix_nano = e.placed.min_start;
  out.max_start_unix_nano = e.placed.max_start;
  out.min_end_unix_nano = e.placed.min_end;
  out.max_end_unix_nano = e.placed.max_end;
  out.first_update = e.first_update;
  out.last_update = e.last_update;
  return out;
}

std::optional<LiveTrace> LiveTraces::Find(const std::string& tenant,
                                          const otlp::TraceId& id) const {
  const Shard& shard = *shards_[ShardOf(id)];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.traces.find(Key{tenant, id});
  if (it == shard.traces.end()) return std::nullopt;
  return Copy(it->first, it->second);
}

std::vector<LiveTrace> LiveTraces::SnapshotTenant(const std::string& tenant) const {
  std::vector<LiveTrace> out;
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    for (const auto& [key, e] : shard->traces) {
      if (key.tenant == tenant) out.push_back(Copy(key, e));
    }
  }
  return out;
}

std::vector<LiveTrace> LiveTraces::SelectForCut(const CutSelection& sel) const {
  std::vector<LiveTrace> out;
  uint64_t taken = 0;
  auto wanted = [&](const Entry& e) {
    return sel.all || e.last_update < sel.idle_before || e.first_update < sel.created_before;
  };
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    for (const auto& [key, e] : shard->traces) {
      if (taken >= sel.max_spans) return out;
      if (!wanted(e)) continue;
      out.push_back(Copy(key, e));
      taken += e.spans.size();
    }
  }
  if (sel.extra_spans == 0 || taken >= sel.max_spans) return out;
  // Over the size budget: also take the least recently updated traces. Find the update
  // time below which the oldest traces add up to `extra_spans`, then take those.
  std::vector<std::pair<int64_t, uint64_t>> updates;  // (last update, spans)
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    for (const auto& [key, e] : shard->traces) {
      if (!wanted(e)) updates.push_back({e.last_update, e.spans.size()});
    }
  }
  std::sort(updates.begin(), updates.end());
  int64_t threshold = INT64_MIN;
  uint64_t sum = 0;
  for (const auto& [t, n] : updates) {
    threshold = t;
    sum += n;
    if (sum >= sel.extra_spans) break;
  }
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    for (const auto& [key, e] : shard->traces) {
      if (taken >= sel.max_spans) return out;
      if (wanted(e) || e.last_update > threshold) continue;
      out.push_back(Copy(key, e));
      taken += e.spans.size();
    }
  }
  return out;
}

void LiveTraces::Remove(const std::vector<LiveTrace>& cut) {
  Key key;
  absl::flat_hash_map<std::string, int64_t> erased;  // by tenant
  for (const LiveTrace& t : cut) {
    Shard& shard = *shards_[ShardOf(t.id)];
    absl::MutexLock lock(&shard.mu);
    key.tenant = t.tenant;
    key.id = t.id;
    auto it = shard.traces.find(key);
    if (it == shard.traces.end()) continue;
    Entry& e = it->second;
    const size_t n = std::min(t.spans.size(), e.spans.size());
    shard.spans -= n;
    if (n == e.spans.size()) {
      shard.traces.erase(it);
      --erased[t.tenant];
      continue;
    }
    e.spans.erase(e.spans.begin(), e.spans.begin() + static_cast<ptrdiff_t>(n));
    // Keep only the batches the remaining spans use.
    std::vector<LiveBatchPtr> kept;
    for (const LiveBatchPtr& b : e.batches) {
      for (const LiveSpanRef& r : e.spans) {
        if (r.batch == b.get()) {
          kept.push_back(b);
          break;
        }
      }
    }
    e.batches = std::move(kept);
    e.first_update = e.last_update;
  }
  for (const auto& [tenant, delta] : erased) AddTraceCount(tenant, delta);
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
