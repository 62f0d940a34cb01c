// TagValueCache: tag values per (block, tag). Blocks are immutable, so the values of a
// block wholly inside a request's time range never change. Bounded (the oldest half is
// dropped when full); thread-safe.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "traceql/storage.h"

namespace strand::query {

class TagValueCache {
 public:
  using Values = std::shared_ptr<const std::vector<traceql::TagValue>>;

  // The values stored under `key`, or null.
  Values Get(const std::string& key);
  // Stores `values` under `key` unless it holds some already.
  void Put(const std::string& key, Values values);

 private:
  static constexpr size_t kMaxEntries = 4096;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Values> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand::query
