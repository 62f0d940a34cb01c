#include "pipeline/processor/tail_sampling/trace_decision_cache.h"

namespace strand::pipeline {

bool TraceDecisionCache::Contains(const TraceKey& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

void TraceDecisionCache::Put(const TraceKey& key) {
  if (capacity_ == 0 || Contains(key)) return;
  order_.push_front(key);
  index_[key] = order_.begin();
  if (index_.size() > capacity_) {
    index_.erase(order_.back());
    order_.pop_back();
  }
}

}  // namespace strand::pipeline
