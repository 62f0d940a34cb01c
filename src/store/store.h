// Store: the embedded trace backend. Ingest makes spans durable in the write-ahead log
// and indexes them in the live traces; a cutter thread moves traces that are done into
// immutable blocks (docs/format/block.md) and truncates the WAL behind them; a
// maintenance thread compacts blocks and applies retention. Queries read live traces and
// blocks together.
//
// Data directory: `wal/` (segments), `blocks/<tenant>/<block id>/`, `quarantine/`.
//
// Ingest contract: `done` runs exactly once, with OK only after the spans are on disk
// (fsynced, unless durability was relaxed by `wal_sync: false`) and queryable. It runs on
// the WAL's writer thread, so it must be quick (hand the answer to an I/O thread).
//
// Open() loads the blocks and replays the WAL segments not yet covered by blocks, so a
// restart serves every span that was acknowledged before it. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/log_limiter.h"
#include "common/metrics.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"
#include "overrides/overrides.h"
#include "store/block_list.h"
#include "store/live_traces.h"

namespace strand {
class WalWriter;
}

namespace strand::store {

struct StoreOptions {
  std::string data_dir = "./data";
  bool wal_sync = true;                       // fsync before acknowledging
  uint64_t wal_segment_bytes = 128ull << 20;  // rotate WAL segments at this size
  uint64_t wal_max_queued_bytes = 256ull << 20;
  // Hard memory budget of live traces. Above it, Ingest refuses with Unavailable
  // (retryable) instead of growing: never an out-of-memory kill.
  uint64_t max_live_bytes = 384ull << 20;

  // Cutting live traces into blocks. A trace is cut once it has been idle this long...
  int64_t trace_idle_nanos = 10'000'000'000;
  // ...or once it has been live this long, even if still active (a live span holds its
  // WAL segment; this bounds how much WAL a restart replays).
  int64_t max_trace_live_nanos = 60'000'000'000;
  // ...or, when live traces hold more than this many bytes, the least recently updated
  // ones, until they are back under half of it.
  uint64_t max_head_bytes = 64ull << 20;
  // Spans per cut block, about (a bigger cut writes several blocks). Cutting decodes the
  // block's batches at once, so this bounds the cutter's memory (~1.5 KB per span).
  uint64_t max_cut_spans = 50'000;
  // Spans one cut selects at most (the rest waits for the next round).
  uint64_t max_cut_select_spans = 2'000'000;
  // How often the cutter looks (it is also woken when the head grows over its size).
  int64_t cut_interval_nanos = 1'000'000'000;
  int cut_zstd_level = 3;
  // Cut blocks are short-lived (compaction merges them), so they use small row groups:
  // compaction holds one decoded row group per input (~1 KB per span).
  uint32_t cut_spans_per_row_group = 1000;

  // Compaction merges blocks of one tenant and time window into bigger ones.
  bool compaction_enabled = true;
  int64_t compaction_window_nanos = 3600ll * 1'000'000'000;
  // A merge starts when it would make a block of max_block_spans / 2 spans or more (a
  // final block: not merged further), or when max_inputs blocks are waiting; the blocks
  // left in a window after its end (once no cut adds to it) are merged when there are
  // min_inputs of them. So at a steady load each span is compacted once: cut blocks wait
  // until enough of them make a final block. Compaction holds one decoded row group per
  // input (cut blocks: cut_spans_per_row_group spans, ~1 KB each).
  int compaction_min_inputs = 8;
  int compaction_max_inputs = 64;
  uint64_t compaction_max_block_spans = 5'000'000;
  int compaction_zstd_level = 3;
  // Blocks whose newest span ended longer ago than this are deleted (by the block's time
  // range: out-of-range spans count at their ingest time). 0 keeps forever.
  int64_t retention_nanos = 14ll * 24 * 3600 * 1'000'000'000;
  // A span whose start or end lies outside [ingest time - this, ingest time + this] (a
  // client clock far off, or a span delivered very late) is placed by its ingest time:
  // block time ranges, compaction windows and retention see the ingest time, reads see the
  // span as sent. Counted in strand_spans_out_of_time_range_total. 0 trusts client clocks
  // (importing old data).
  int64_t ingestion_time_range_slack_nanos = 3600ll * 1'000'000'000;
  int64_t maintenance_interval_nanos = 10'000'000'000;  // compaction and retention

  // Bloom filters of open blocks: false probes them in the block files (page cache) so
  // that memory stays per block instead of ~1.2 bytes per stored trace.
  bool bloom_filters_in_memory = false;

  // The process's memory limit (strand.memory_limit; may be null): live traces are charged
  // to it, and a cut charges the spans it decodes while it runs.
  MemoryBudget* memory = nullptr;

  // false: no background threads; tests drive CutBlocks / Compact / ApplyRetention.
  bool background = true;

  // Per-tenant limits (strand.overrides): max_bytes_per_trace and max_traces_per_user at
  // ingest, block_retention in ApplyRetention. Null: none (retention_nanos for all).
  // Must outlive the store.
  overrides::Overrides* overrides = nullptr;
};

// Spans of one Ingest refused by the tenant's limits (OTLP partial success).
struct IngestRefusals {
  uint64_t spans = 0;
  std::string message;  // names the limit and the tenant
};

// A finished trace lookup: the spans (deduplicated), the batches that own them, and what
// the lookup read.
struct TraceResult {
  std::vector<std::shared_ptr<const otlp::SpanBatch>> batches;
  std::vector<otlp::SpanRef> spans;
  uint64_t inspected_bytes = 0;  // bytes read from blocks; 0 when only live traces answered
  uint32_t blocks_read = 0;
  // Set when damaged parts of blocks may hold more of the trace: "data unavailable: block
  // <id> row group <n> is damaged (...); the trace may be incomplete".
  std::string partial;
};

// Shrinks the store's own memory budgets to fit a process memory limit whose tracked share
// is `request_memory` bytes (MemoryBudget::tracked_limit()): live traces get at most half
// of it, the head that triggers a cut a quarter of that, a cut decodes at most an eighth
// of it at once (~1.5 KB per span), and so do a compaction's inputs (one row group of a cut
// block each, at most max_inputs). Budgets already smaller are kept. Returns the
// settings it changed, as "key old -> new" strings for the log.
std::vector<std::string> FitToMemoryLimit(StoreOptions& options, uint64_t request_memory);

class Store {
 public:
  // Opens (creating if needed) the data directory, loads the block list and replays the
  // WAL. `env`, `clock` and `metrics` must outlive the store; `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<Store>> Open(Env& env, Clock& clock,
                                                     MetricsRegistry* metrics,
                                                     StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // OK when Ingest would currently take a batch; Unavailable (retryable) when the store is
  // closing or its live traces are over their memory budget. Cheap.
  absl::Status CheckAdmission() const;

  // Makes the batch durable and queryable; see the class comment for `done`. Spans the
  // tenant's limits refuse are left out, counted in strand_discarded_spans_total and, when
  // `refused` is not null, recorded there before `done` runs (it must outlive `done`).
  void Ingest(const std::string& tenant, otlp::SpanBatch&& batch,
              std::function<void(absl::Status)> done, IngestRefusals* refused = nullptr);

  // Every stored span of the trace, live and in blocks, one copy of each (by span ID and
  // kind), or NotFound. `start`/`end` (unix seconds, 0 = open) limit which blocks are
  // read; live traces are always read. Damaged parts of blocks that may hold the trace
  // (by bloom filter and row group ID ranges) are skipped: with spans found elsewhere the
  // result says so in `partial`; without, the answer is DataLoss "data unavailable: ..."
  // (not NotFound: the trace may well be stored there).
  absl::StatusOr<TraceResult> FindTraceById(const std::string& tenant, const otlp::TraceId& id,
                                            int64_t start_unix_seconds = 0,
                                            int64_t end_unix_seconds = 0) const;

  // Cuts the traces that are due (idle, too old, over the head size; all of them when
  // `all`) into blocks, then truncates the WAL below what is still live. Runs on the
  // cutter thread; callable directly (tests, shutdown).
  //
  // With `fill_blocks` (the background cutter) a last chunk smaller than max_cut_spans
  // stays live (readable as before) for a later round, for at most trace_idle_period:
  // cut blocks then come out full, so compaction can merge them once into final blocks.
  absl::Status CutBlocks(bool all = false, bool fill_blocks = false);
  // One round of compaction: merges one group of blocks if a group qualifies. Returns
  // whether it merged something. Blocks of one tenant and window, smallest first, are
  // merged so that each span is compacted about once: only when the merge makes a final
  // block (max_block_spans / 2 or more), or takes max_inputs blocks, or takes the last
  // min_inputs or more of a window that no cut adds to any more.
  absl::StatusOr<bool> Compact();
  // Deletes blocks past retention. Returns how many.
  absl::StatusOr<int> ApplyRetention();

  // Records damage found in a block while serving (a lookup, a search, compaction): the
  // block stays listed and its other parts go on being read (see BlockDamage). Logged and
  // counted once per damaged part; `row_group` is used with BlockPart::kRowGroup.
  void ReportDamage(const BlockHandlePtr& block, BlockPart part, size_t row_group,
                    const absl::Status& damage) const;

  const LiveTraces& live() const { return *live_; }
  uint64_t live_bytes() const { return accounting_->bytes(); }
  std::shared_ptr<const BlockSnapshot> blocks() const { return blocks_->snapshot(); }

  // Stops the background work, cuts every live trace into blocks, truncates the WAL and
  // closes it; ingest afterwards fails with Unavailable. Idempotent.
  void Close();

 private:
  Store(Env& env, Clock& clock, MetricsRegistry* metrics, StoreOptions options);
  absl::Status Replay();
  void RegisterMetrics(MetricsRegistry& metrics);
  void StartBackground();
  void StopBackground();
  void CutterLoop();
  void MaintenanceLoop();
  // Compact's rule: whether to merge `inputs` blocks holding `spans` spans, taken smallest
  // first from the small blocks of compaction window number `window`.
  bool ShouldMerge(int64_t window, size_t inputs, uint64_t spans, int64_t now) const;
  // Writes `traces` (a part of one selection) into blocks, one per tenant and time
  // window, publishes them
  // and drops the spans from live traces.
  absl::Status CutChunk(std::vector<LiveTrace> traces);
  absl::StatusOr<BlockHandlePtr> WriteCutBlock(const std::string& tenant,
                                               std::span<const LiveTrace> traces);
  absl::Status TruncateWal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(cut_mu_);
  // Checks every part of a block (after a compaction that read it failed with damage) and
  // reports what is damaged.
  void FindDamage(const BlockHandlePtr& block) const;
  // Counts the section damage BlockList::OpenBlock found in a block just opened.
  void CountOpenDamage(const BlockHandle& block) const;
  // Leaves out of `batch` the spans the tenant's limits refuse (re-encoding it when some
  // are), counts them and describes them in `refused`; `sizes` becomes the encoded size of
  // each span left (empty when no byte limit applies).
  void ApplyTraceLimits(const std::string& tenant, otlp::SpanBatch& batch,
                        std::vector<uint32_t>& sizes, IngestRefusals* refused);
  // Counts (and logs, rate-limited) the out-of-range spans one ingest placed.
  void CountOutOfRange(const std::string& tenant, const OutOfRangeSpans& spans);
  void AddLiveSpans(const LiveTrace& trace, TraceResult& result,
                    absl::flat_hash_set<otlp::SpanCopyKey>& seen) const;

  Env& env_;
  Clock& clock_;
  StoreOptions options_;
  std::shared_ptr<LiveAccounting> accounting_;
  std::unique_ptr<LiveTraces> live_;
  std::unique_ptr<BlockList> blocks_;
  std::unique_ptr<WalWriter> wal_;  // set by Open, closed (not freed) by Close
  std::atomic<bool> closed_{false};

  // Cut epochs: a batch is stamped with the epoch current when it is ingested; batches of
  // epoch >= e are in WAL segments >= epoch_first_segment_[e].
  std::atomic<uint64_t> epoch_{1};
  absl::Mutex cut_mu_;  // one cut (or compaction swap) at a time
  std::map<uint64_t, uint64_t> epoch_first_segment_ ABSL_GUARDED_BY(cut_mu_);
  // Since when CutBlocks(fill_blocks) has left a partial chunk live (0: it has not).
  int64_t partial_chunk_since_ ABSL_GUARDED_BY(cut_mu_) = 0;
  std::atomic<uint64_t> appends_since_rotate_{0};

  // Background threads. They wait on clock_ (a test's fake clock moves them), and wake
  // early when stopping or asked for a cut; a cut request also starts a maintenance pass.
  absl::Mutex bg_mu_;
  bool stopping_ ABSL_GUARDED_BY(bg_mu_) = false;
  bool cut_wanted_ ABSL_GUARDED_BY(bg_mu_) = false;
  uint64_t cut_requests_ ABSL_GUARDED_BY(bg_mu_) = 0;
  std::thread cutter_;
  std::thread maintenance_;

  Counter* refused_over_budget_ = nullptr;
  Counter* replayed_records_ = nullptr;
  Counter* replayed_spans_ = nullptr;
  Counter* wal_errors_ = nullptr;
  Counter* blocks_cut_ = nullptr;
  Counter* spans_cut_ = nullptr;
  Counter* cut_errors_ = nullptr;
  Counter* wal_segments_removed_ = nullptr;
  Counter* wal_segments_quarantined_ = nullptr;
  Counter* blocks_compacted_ = nullptr;
  Counter* compaction_errors_ = nullptr;
  Counter* compaction_spans_ = nullptr;
  Counter* duplicates_dropped_ = nullptr;
  Counter* blocks_quarantined_ = nullptr;
  Family<Counter>* block_damage_ = nullptr;
  Counter* blocks_recovered_ = nullptr;
  Counter* blocks_expired_ = nullptr;
  Counter* spans_out_of_range_past_ = nullptr;
  Counter* spans_out_of_range_future_ = nullptr;
  Family<Counter>* discarded_spans_ = nullptr;  // {tenant, reason}
  LogLimiter limits_log_;                       // one line a minute about refused spans
  LogLimiter out_of_range_log_;                 // one line a minute about out-of-range spans
};

// The WAL record type of a span batch; its payload is a varint tenant length, the tenant,
// then the OTLP ExportTraceServiceRequest bytes.
inline constexpr uint8_t kWalRecordSpans = 1;

}  // namespace strand::store
