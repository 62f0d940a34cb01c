// LiveTraces: the spans of recently ingested traces, indexed by (tenant, trace ID), kept
// in memory until they are cut into blocks. Queries read them at once (read-your-writes).
//
// Memory: a request's spans are held as its OTLP protobuf bytes (a LiveBatch), not in
// decoded form; readers and the block cutter decode a batch again when they need its
// spans (the decoder runs at ~2M spans/s). An entry refers to spans by (batch, index in
// the decoded batch) and keeps its batches alive, so a batch's bytes are freed when the
// last trace that uses it has been cut.
//
// Cutting: SelectForCut() copies the entries a cut wants (idle, too old, or the oldest
// when the head is over its size budget) without removing them, so they stay readable
// while the block is written; Remove() then drops exactly the spans that went into the
// block (spans that arrived meanwhile stay live). One thread cuts at a time.
//
// Placement: an entry also keeps the time range its spans are placed at (PlaceSpan): their
// own times, or their ingest time for a span whose client clock is far off (outside the
// ingestion time range slack). The cutter's windows and the cut block's time range use it,
// so such a span cannot steer retention; the span itself is kept unchanged.
//
// The map is split into shards by trace ID, each with its own mutex, so concurrent ingest
// threads rarely contend. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "block/block_footer.h"
#include "common/memory_budget.h"
#include "otlp/span_batch.h"

namespace strand::store {

// Counts live batches and their bytes by cut epoch, so the store knows which WAL
// segments still hold spans that no block has. Thread-safe.
class LiveAccounting {
 public:
  // Live bytes are charged to `memory` (the process's budget; may be null) without
  // refusal: they belong to requests that were admitted and acknowledged.
  explicit LiveAccounting(MemoryBudget* memory = nullptr) : memory_(memory) {}
  void Register(uint64_t epoch, uint64_t bytes);
  void Release(uint64_t epoch, uint64_t bytes);
  // The lowest epoch that still has live batches, or nullopt when none is live.
  std::optional<uint64_t> OldestLiveEpoch() const;
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }

 private:
  MemoryBudget* const memory_;
  mutable absl::Mutex mu_;
  std::map<uint64_t, uint64_t> batches_by_epoch_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> batches_{0};
};

// One request's spans as live traces hold them: the ExportTraceServiceRequest protobuf
// bytes, decoded again on demand. Immutable; unregisters itself from the accounting when
// the last reference goes.
class LiveBatch {
 public:
  LiveBatch(std::shared_ptr<const std::string> bytes, uint32_t num_spans, uint64_t epoch,
            std::shared_ptr<LiveAccounting> accounting);
  ~LiveBatch();
  LiveBatch(const LiveBatch&) = delete;
  LiveBatch& operator=(const LiveBatch&) = delete;

  const std::shared_ptr<const std::string>& bytes() const { return bytes_; }
  uint32_t num_spans() const { return num_spans_; }
  uint64_t epoch() const { return epoch_; }
  // Bytes this batch keeps in memory (what the live budget counts).
  uint64_t memory_usage() const { return memory_usage_; }

  // Decodes the bytes; span i of the result is the span that entries refer to by index i.
  absl::StatusOr<std::shared_ptr<const otlp::SpanBatch>> Decode() const;

 private:
  const std::shared_ptr<const std::string> bytes_;
  const uint32_t num_spans_;
  const uint64_t epoch_;
  const uint64_t memory_usage_;
  const std::shared_ptr<LiveAccounting> accounting_;
};
using LiveBatchPtr = std::shared_ptr<const LiveBatch>;

struct LiveSpanRef {
  const LiveBatch* batch = nullptr;  // kept alive by the owning LiveTrace's `batches`
  uint32_t index = 0;
};

// A copy of one live trace's index entry.
struct LiveTrace {
  std::string tenant;
  otlp::TraceId id{};
  std::vector<LiveBatchPtr> batches;  // distinct, in arrival order
  std::vector<LiveSpanRef> spans;     // in arrival order
  // Where the trace's spans are placed in time (see PlaceSpan): the cutter's window, the
  // cut block's time range, time-range pruning. Not the spans' own times when some were
  // out of range.
  uint64_t min_start_unix_nano = 0;
  uint64_t max_start_unix_nano = 0;
  uint64_t min_end_unix_nano = 0;
  uint64_t max_end_unix_nano = 0;
  int64_t first_update = 0;  // clock time the entry was created
  int64_t last_update = 0;   // clock time of its newest span
};

// Where a span's own times lie relative to its ingest time.
enum class SpanTiming { kInRange, kPast, kFuture };

// A span's placement: the times that stand for it in its trace's and block's time range.
struct SpanPlacement {
  uint64_t start = 0;
  uint64_t end = 0;
  SpanTiming timing = SpanTiming::kInRange;
};

// Places a span ingested at `now`: by its own start and end when both lie within
// [now - slack, now + slack], else (a client clock far off) by `now` for both. Timing is
// kFuture when a time lies after the window, else kPast. slack <= 0 trusts every span.
SpanPlacement PlaceSpan(uint64_t start, uint64_t end, int64_t now_unix_nanos, int64_t slack_nanos);

// Out-of-range spans one LiveTraces::Add placed by their ingest time.
struct OutOfRangeSpans {
  uint64_t past = 0;
  uint64_t future = 0;
};

// Why a tenant's limits refuse a span (LiveTraces::CheckLimits).
enum class SpanRefusal : uint8_t { kNone, kTraceTooLarge, kLiveTracesExceeded };

// The limits of one tenant that live traces enforce; 0 is no limit.
struct TraceLimits {
  uint64_t max_bytes_per_trace = 0;  // protobuf bytes of one live trace's spans
  uint64_t max_traces = 0;           // live traces of the tenant
};

// Which traces a cut takes (clock times in unix nanoseconds).
struct CutSelection {
  bool all = false;                    // everything (shutdown)
  int64_t idle_before = INT64_MIN;     // traces last updated before this
  int64_t created_before = INT64_MIN;  // traces first seen before this (head age limit)
  uint64_t extra_spans = 0;            // and at least this many more spans, oldest first
  uint64_t max_spans = UINT64_MAX;     // stop adding traces beyond this many spans
};

class LiveTraces {
 public:
  // Spans are placed in time by PlaceSpan with `ingestion_time_range_slack_nanos` (0: by
  // their own times).
  explicit LiveTraces(int64_t ingestion_time_range_slack_nanos = 0, int num_shards = 64);

  // Indexes every span of `decoded` (the decoded form of `batch`) under `tenant`.
  // `now_unix_nanos` is the ingest time: it stamps the traces' update times (what idle
  // cutting looks at) and places out-of-range spans, which it returns the count of.
  // `span_bytes`, when not empty, holds each span's encoded size, added to its trace's
  // byte count (what max_bytes_per_trace looks at; spans added without it count 0).
  OutOfRangeSpans Add(const std::string& tenant, const LiveBatchPtr& batch,
                      const otlp::SpanBatch& decoded, int64_t now_unix_nanos,
                      std::span<const uint32_t> span_bytes = {});

  // Which spans of `decoded` `limits` refuse, changing nothing: spans of a trace that is
  // not live when the tenant already has max_traces live traces (counting the batch's new
  // ones), and spans that would take their trace over max_bytes_per_trace (`span_bytes`:
  // each span's encoded size). Concurrent adds can overshoot a limit by one batch.
  std::vector<SpanRefusal> CheckLimits(const std::string& tenant, const otlp::SpanBatch& decoded,
                                       std::span<const uint32_t> span_bytes,
                                       const TraceLimits& limits) const;

  // Live traces of one tenant.
  uint64_t NumTraces(const std::string& tenant) const;

  // A copy of one trace's entry, or nullopt if no live spans have that trace ID.
  std::optional<LiveTrace> Find(const std::string& tenant, const otlp::TraceId& id) const;

  // Copies of every entry of `tenant` (search reads them; nothing is removed).
  std::vector<LiveTrace> SnapshotTenant(const std::string& tenant) const;

  // Copies of the entries `selection` takes; nothing is removed.
  std::vector<LiveTrace> SelectForCut(const CutSelection& selection) const;

  // Drops the spans of `cut` (entries from SelectForCut, since when only appends have
  // happened): the first cut.spans.size() spans of each entry. Empty entries are erased.
  void Remove(const std::vector<LiveTrace>& cut);

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
    std::vector<LiveBatchPtr> batches;
    std::vector<LiveSpanRef> spans;
    block::TimeRange placed;  // of the spans' placements
    uint64_t bytes = 0;       // encoded size of the spans added with their sizes
    int64_t first_update = 0;
    int64_t last_update = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<Key, Entry> traces ABSL_GUARDED_BY(mu);
    uint64_t spans ABSL_GUARDED_BY(mu) = 0;
  };

  size_t ShardOf(const otlp::TraceId& id) const;
  static LiveTrace Copy(const Key& key, const Entry& e);

  void AddTraceCount(const std::string& tenant, int64_t delta);

  const int64_t slack_nanos_;
  std::vector<std::unique_ptr<Shard>> shards_;
  mutable absl::Mutex counts_mu_;  // after a shard's mutex, never before
  absl::flat_hash_map<std::string, uint64_t> trace_counts_ ABSL_GUARDED_BY(counts_mu_);
};

}  // namespace strand::store
