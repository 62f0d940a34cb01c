// TraceDecisionCache: a bounded LRU set of trace keys, for tail_sampling's decision_cache
// (the IDs of traces already sampled, or already dropped, kept after their spans are gone
// so that late spans get the same answer). Capacity 0 keeps nothing.
// Not thread-safe: the owner locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>

#include "absl/container/flat_hash_map.h"
#include "otlp/span_batch.h"

namespace strand::pipeline {

// A trace of one tenant (tenants are interned to small numbers by the owner).
struct TraceKey {
  uint32_t tenant = 0;
  otlp::TraceId id{};
  friend bool operator==(const TraceKey& a, const TraceKey& b) {
    return a.tenant == b.tenant && a.id == b.id;
  }
  template <typename H>
  friend H AbslHashValue(H h, const TraceKey& k) {
    return H::combine(std::move(h), k.tenant, otlp::IdBytes(k.id));
  }
};

class TraceDecisionCache {
 public:
  explicit TraceDecisionCache(size_t capacity) : capacity_(capacity) {}

  // True when `key` is cached; marks it most recently used.
  bool Contains(const TraceKey& key);
  // Adds `key` (or refreshes it), evicting the least recently used beyond capacity.
  void Put(const TraceKey& key);
  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::list<TraceKey> order_;  // most recently used first
  absl::flat_hash_map<TraceKey, std::list<TraceKey>::iterator> index_;
};

}  // namespace strand::pipeline
