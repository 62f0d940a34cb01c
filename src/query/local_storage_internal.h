// Internals shared by local_storage.cc (fetches) and local_storage_tags.cc (tag names and
// values).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "otlp/span_batch.h"
#include "store/store.h"
#include "traceql/storage.h"

namespace strand::query::internal {

using store::BlockHandlePtr;

// Live traces are decoded in chunks of about this many spans, which bounds the memory a
// search holds (~1.5 KB per decoded span).
constexpr size_t kLiveChunkSpans = 50'000;

// The tenant's blocks that overlap [start, end], newest first.
inline std::vector<store::BlockHandlePtr> BlocksOf(const store::Store& store,
                                                   const std::string& tenant, uint64_t start,
                                                   uint64_t end) {
  std::vector<BlockHandlePtr> out;
  auto snapshot = store.blocks();
  for (const BlockHandlePtr& b : *snapshot) {
    if (b->meta.tenant != tenant) continue;
    if (!traceql::Overlaps(b->meta.min_start_unix_nano, b->meta.max_end_unix_nano, start, end))
      continue;
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const BlockHandlePtr& a, const BlockHandlePtr& b) {
    return a->meta.max_start_unix_nano > b->meta.max_start_unix_nano;
  });
  return out;
}

// Decodes live batches once per chunk of traces.
class LiveDecoder {
 public:
  absl::StatusOr<const otlp::SpanBatch*> Get(const store::LiveBatch* batch) {
    auto it = decoded_.find(batch);
    if (it != decoded_.end()) return it->second.get();
    auto d = batch->Decode();
    if (!d.ok()) return d.status();
    bytes_ += batch->bytes()->size();
    return (decoded_[batch] = std::move(*d)).get();
  }
  void Clear() { decoded_.clear(); }
  uint64_t bytes() const { return bytes_; }

 private:
  absl::flat_hash_map<const store::LiveBatch*, std::shared_ptr<const otlp::SpanBatch>> decoded_;
  uint64_t bytes_ = 0;
};

}  // namespace strand::query::internal
