// TailSamplingProcessor: the `tail_sampling` processor. It holds spans by (tenant, trace
// ID) until `decision_wait` has passed since the trace's first span, evaluates the
// policies on the whole trace, then forwards the sampled traces downstream (reassembled
// into new batches, one request per tenant and tick) and drops the others.
//
// Acknowledgement: like otelcol, a batch is acknowledged (done(OK)) once its spans are
// buffered in memory — not durable, and not yet accepted downstream. A failure of the
// later downstream call is a drop, counted as reason="downstream_failed". The exception:
// a batch made only of late spans of already-sampled traces is passed through at once,
// with the client's `done`.
//
// Bookkeeping: at most `num_traces` traces (pending or decided) are remembered; a new trace
// beyond that evicts the oldest, and an undecided one is dropped (reason="evicted"). A
// decided trace stays remembered without its spans, so late spans follow its decision; with
// `decision_cache` the IDs move to LRU caches that outlive the trace entries. Spans are
// held by reference into the received batches (a batch is freed when its last trace is
// decided); the bytes held are exposed as a gauge.
//
// Decisions run on a background thread every second (Start()), or by TickForTest().
// Shutdown() stops the thread and decides (or drops, with drop_pending_traces_on_shutdown)
// everything still pending, flushing it downstream; later batches are refused.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "pipeline/config/component.h"
#include "pipeline/processor/tail_sampling/sampling_policy.h"
#include "pipeline/processor/tail_sampling/tail_sampling_config.h"
#include "pipeline/processor/tail_sampling/trace_decision_cache.h"

namespace strand::pipeline {

class TailSamplingProcessor : public Processor {
 public:
  // `ctx.clock` may be null (the real clock); `ctx.metrics` may be null. `next` outlives this.
  TailSamplingProcessor(const TailSamplingSettings& settings,
                        std::vector<std::unique_ptr<SamplingPolicy>> policies,
                        const BuildContext& ctx, TracesConsumer& next);
  ~TailSamplingProcessor() override;

  absl::Status Start() override;
  void Shutdown() override;
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override;

  // One decision pass at the clock's current time (what the background thread runs).
  void TickForTest() { Tick(/*everything=*/false); }
  size_t TracesInMemoryForTest();
  int64_t HeldBytesForTest() const { return held_bytes_->load(); }

  struct Metrics;  // counters and gauges (shared with in-flight done callbacks)

 private:
  struct HeldBatch;
  // Spans of one trace from one received batch.
  struct Piece {
    std::shared_ptr<const HeldBatch> batch;
    std::vector<uint32_t> spans;
  };
  enum class State { kPending, kSampled, kNotSampled };
  struct Entry {
    State state = State::kPending;
    uint64_t seq = 0;  // tells a re-created entry apart from stale queue items
    uint32_t span_count = 0;
    std::vector<Piece> pieces;  // empty once decided
  };
  struct QueueItem {
    TraceKey key;
    uint64_t seq;
    int64_t due_nanos;
  };
  // Sampled spans of one tenant, ready to go downstream.
  struct Output {
    uint32_t tenant_index;
    std::string tenant;
    std::vector<Piece> pieces;
  };

  void Tick(bool everything);
  void Run();
  uint32_t TenantLocked(const std::string& tenant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts the oldest traces while full, then adds a pending entry for `key`.
  Entry& CreateEntryLocked(const TraceKey& key, int64_t now, std::vector<Piece>& garbage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictOldestLocked(std::vector<Piece>& garbage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decides the entry and releases its spans into `outputs` (sampled) or `garbage`.
  void DecideLocked(const TraceKey& key, Entry& entry, int64_t now, bool drop,
                    std::vector<Output>& outputs, std::vector<Piece>& garbage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Emit(std::vector<Output>& outputs);
  // Re-encodes `refs` into new batches (bounded size) and sends them downstream.
  void Send(const std::string& tenant, std::span<const otlp::SpanRef> refs);
  void UpdateGaugesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishHeldBytes();  // after the lock, once released batches are freed

  const TailSamplingSettings settings_;
  const std::string id_;
  Clock* const clock_;
  TracesConsumer& next_;
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<std::atomic<int64_t>> held_bytes_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<SamplingPolicy>> policies_ ABSL_GUARDED_BY(mu_);
  absl::node_hash_map<TraceKey, Entry> traces_ ABSL_GUARDED_BY(mu_);
  std::deque<QueueItem> pending_ ABSL_GUARDED_BY(mu_);  // arrival order
  std::deque<QueueItem> order_ ABSL_GUARDED_BY(mu_);    // arrival order, for eviction
  TraceDecisionCache sampled_cache_ ABSL_GUARDED_BY(mu_);
  TraceDecisionCache not_sampled_cache_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> tenants_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> tenant_index_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The factory for type `tail_sampling`.
std::unique_ptr<ProcessorFactory> NewTailSamplingProcessorFactory();

}  // namespace strand::pipeline
