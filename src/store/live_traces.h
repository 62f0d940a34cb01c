// LiveTraces: the spans of recently ingested traces, indexed by (tenant, trace ID), kept
// in memory until they are cut into blocks. Queries read them at once (read-your-writes).
//
// Batches are shared: an entry refers to spans by (batch, index) and keeps its batches
// alive. The map is split into shards by trace ID, each with its own mutex, so concurrent
// ingest threads rarely contend. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "otlp/proto_encoder.h"
#include "otlp/span_batch.h"

namespace strand::store {

using BatchPtr = std::shared_ptr<const otlp::SpanBatch>;

// The spans of one trace, with the batches that own them.
struct TraceSpans {
  std::vector<BatchPtr> batches;
  std::vector<otlp::SpanRef> spans;
  uint64_t min_start_unix_nano = 0;
  uint64_t max_end_unix_nano = 0;
};

class LiveTraces {
 public:
  explicit LiveTraces(int num_shards = 64);

  // Indexes every span of `batch` under `tenant`. `now_unix_nanos` stamps the traces'
  // last-update time (what idle cutting looks at).
  void Add(const std::string& tenant, BatchPtr batch, int64_t now_unix_nanos);

  // The spans of one trace, or nullopt if no live spans have that trace ID.
  std::optional<TraceSpans> Find(const std::string& tenant, const otlp::TraceId& id) const;

  // Number of live traces and spans, and bytes held by the batches they reference.
  uint64_t NumTraces() const;
  uint64_t NumSpans() const;

 private:
  struct Key {
    std::string tenant;
    otlp::TraceId id;
    bool operator==(const Key& o) const { return id == o.id && tenant == o.tenant; }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.tenant, k.id);
    }
  };
  struct Entry {
    std::vector<BatchPtr> batches;  // distinct, in arrival order
    std::vector<otlp::SpanRef> spans;
    uint64_t min_start = UINT64_MAX;
    uint64_t max_end = 0;
    int64_t last_update = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<Key, Entry> traces ABSL_GUARDED_BY(mu);
    uint64_t spans ABSL_GUARDED_BY(mu) = 0;
  };

  size_t ShardOf(const otlp::TraceId& id) const;

  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace strand::store
