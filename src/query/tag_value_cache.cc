#include "query/tag_value_cache.h"

namespace strand::query {

TagValueCache::Values TagValueCache::Get(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void TagValueCache::Put(const std::string& key, Values values) {
  absl::MutexLock lock(&mu_);
  if (entries_.size() >= kMaxEntries) {
    // Evict the oldest half (insertion order): simple, and blocks are few.
    while (order_.size() > kMaxEntries / 2) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }
  if (entries_.emplace(key, std::move(values)).second) order_.push_back(key);
}

}  // namespace strand::query
