// Store: the embedded trace backend. Ingest makes spans durable in the write-ahead log,
// then indexes them in the live traces; queries read live traces (and, later, blocks).
//
// Ingest contract: `done` runs exactly once, with OK only after the spans are on disk
// (fsynced, unless durability was relaxed by `wal_sync: false`) and queryable. It runs on
// the WAL's writer thread, so it must be quick (hand the answer to an I/O thread).
//
// Open() replays the WAL found in the data directory, so a restart serves every span
// that was acknowledged before it. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/metrics.h"
#include "otlp/proto_decoder.h"
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
  // Memory budget of live traces (bytes held by their batches). Above it, Ingest refuses
  // with Unavailable (retryable) instead of growing: never an out-of-memory kill.
  uint64_t max_live_bytes = 1ull << 30;
};

// A finished trace lookup: the spans (deduplicated) and what the lookup read.
struct TraceResult {
  TraceSpans spans;
  uint64_t inspected_bytes = 0;  // bytes read from blocks; 0 when only live traces answered
};

class Store {
 public:
  // Opens (creating if needed) the data directory and replays the WAL.
  // `env`, `clock` and `metrics` must outlive the store; `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<Store>> Open(Env& env, Clock& clock,
                                                     MetricsRegistry* metrics,
                                                     StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Makes the batch durable and queryable; see the class comment for `done`.
  void Ingest(const std::string& tenant, otlp::SpanBatch&& batch,
              std::function<void(absl::Status)> done);

  // Every stored span of the trace, one copy of each (by span ID and kind), or NotFound.
  // `start`/`end` (unix seconds, 0 = open) limit which blocks are read; live traces are
  // always read.
  absl::StatusOr<TraceResult> FindTraceById(const std::string& tenant, const otlp::TraceId& id,
                                            int64_t start_unix_seconds = 0,
                                            int64_t end_unix_seconds = 0) const;

  // Spans and traces held in memory, and the bytes their batches hold.
  const LiveTraces& live() const { return *live_; }
  uint64_t live_bytes() const { return live_bytes_.load(std::memory_order_relaxed); }

  // Flushes and closes the WAL; ingest afterwards fails with Unavailable.
  void Close();

 private:
  Store(Env& env, Clock& clock, MetricsRegistry* metrics, StoreOptions options);
  absl::Status Replay();

  Env& env_;
  Clock& clock_;
  StoreOptions options_;
  std::unique_ptr<LiveTraces> live_;
  std::unique_ptr<WalWriter> wal_;  // set by Open, closed (not freed) by Close
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> live_bytes_{0};
  Counter* refused_over_budget_ = nullptr;
  Counter* replayed_records_ = nullptr;
  Counter* replayed_spans_ = nullptr;
  Counter* wal_errors_ = nullptr;
};

// The WAL record type of a span batch; its payload is a varint tenant length, the tenant,
// then the OTLP ExportTraceServiceRequest bytes.
inline constexpr uint8_t kWalRecordSpans = 1;

}  // namespace strand::store
