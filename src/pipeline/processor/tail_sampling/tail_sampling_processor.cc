#include "pipeline/processor/tail_sampling/tail_sampling_processor.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace strand::pipeline {
namespace {

// Sampled spans go downstream in requests of at most this many spans.
constexpr size_t kMaxSpansPerRequest = 8192;

}  // namespace

// A received batch, shared by the entries of the traces it carries; its bytes count in the
// processor's held-bytes figure for as long as it lives.
struct TailSamplingProcessor::HeldBatch {
  HeldBatch(otlp::SpanBatch&& b, std::shared_ptr<std::atomic<int64_t>> c)
      : batch(std::move(b)),
        counter(std::move(c)),
        bytes(static_cast<int64_t>(batch.MemoryUsage())) {
    *counter += bytes;
  }
  ~HeldBatch() { *counter -= bytes; }
  otlp::SpanBatch batch;
  std::shared_ptr<std::atomic<int64_t>> counter;
  int64_t bytes;
};

// Metric children, from the registry when there is one, else private. Shared with the
// done callbacks of requests in flight, which may outlive the processor.
struct TailSamplingProcessor::Metrics {
  Counter* dropped_not_sampled;  // spans; reason="not_sampled"
  Counter* dropped_evicted;      // reason="evicted" (num_traces exceeded before a decision)
  Counter* dropped_downstream;   // reason="downstream_failed"
  Counter* dropped_shutdown;     // reason="shutdown" (drop_pending_traces_on_shutdown)
  Counter* dropped_internal;     // reason="internal_error" (re-encoding failed)
  Counter* spans_sampled;
  Counter* traces_sampled;
  Counter* traces_not_sampled;
  Counter* traces_evicted;
  Counter* late_spans;
  Gauge* traces_in_memory;
  Gauge* held_bytes;
  std::vector<std::unique_ptr<Counter>> own_counters;
  std::vector<std::unique_ptr<Gauge>> own_gauges;

  Metrics(MetricsRegistry* registry, const std::string& id) {
    Family<Counter>* dropped = nullptr;
    Family<Counter>* traces = nullptr;
    Family<Counter>* spans = nullptr;
    Family<Counter>* late = nullptr;
    Family<Gauge>* in_memory = nullptr;
    Family<Gauge>* bytes = nullptr;
    if (registry != nullptr) {
      dropped = registry->AddCounter("strand_processor_tail_sampling_dropped_total",
                                     "Spans the tail_sampling processor dropped, by reason.",
                                     {"processor", "reason"});
      traces = registry->AddCounter("strand_processor_tail_sampling_traces_total",
                                    "Traces decided by the tail_sampling processor.",
                                    {"processor", "decision"});
      spans =
          registry->AddCounter("strand_processor_tail_sampling_sampled_spans_total",
                               "Spans the tail_sampling processor sent downstream.", {"processor"});
      late = registry->AddCounter(
          "strand_processor_tail_sampling_late_spans_total",
          "Spans that arrived after their trace was decided (forwarded or dropped at once).",
          {"processor"});
      in_memory = registry->AddGauge("strand_processor_tail_sampling_traces_in_memory",
                                     "Traces remembered (pending or decided).", {"processor"});
      bytes =
          registry->AddGauge("strand_processor_tail_sampling_held_bytes",
                             "Bytes of received batches held for pending traces.", {"processor"});
    }
    auto counter = [&](Family<Counter>* f, std::vector<std::string> labels) {
      if (f != nullptr) return f->With(labels);
      own_counters.push_back(std::make_unique<Counter>());
      return own_counters.back().get();
    };
    auto gauge = [&](Family<Gauge>* f) {
      if (f != nullptr) return f->With({id});
      own_gauges.push_back(std::make_unique<Gauge>());
      return own_gauges.back().get();
    };
    dropped_not_sampled = counter(dropped, {id, "not_sampled"});
    dropped_evicted = counter(dropped, {id, "evicted"});
    dropped_downstream = counter(dropped, {id, "downstream_failed"});
    dropped_shutdown = counter(dropped, {id, "shutdown"});
    dropped_internal = counter(dropped, {id, "internal_error"});
    spans_sampled = counter(spans, {id});
    traces_sampled = counter(traces, {id, "sampled"});
    traces_not_sampled = counter(traces, {id, "not_sampled"});
    traces_evicted = counter(traces, {id, "evicted"});
    late_spans = counter(late, {id});
    traces_in_memory = gauge(in_memory);
    held_bytes = gauge(bytes);
  }
};

TailSamplingProcessor::TailSamplingProcessor(const TailSamplingSettings& settings,
                                             std::vector<std::unique_ptr<SamplingPolicy>> policies,
                                             const BuildContext& ctx, TracesConsumer& next)
    : settings_(settings),
      id_(ctx.id.ToString()),
      clock_(ctx.clock != nullptr ? ctx.clock : Clock::Real()),
      next_(next),
      metrics_(std::make_shared<Metrics>(ctx.metrics, id_)),
      held_bytes_(std::make_shared<std::atomic<int64_t>>(0)),
      policies_(std::move(policies)),
      sampled_cache_(settings.sampled_cache_size),
      not_sampled_cache_(settings.non_sampled_cache_size) {
  // expected_new_traces_per_sec sizes the table for one decision_wait's worth of traces.
  const uint64_t wait_seconds = std::max<int64_t>(1, settings.decision_wait_nanos / 1'000'000'000);
  traces_.reserve(
      std::min(settings.num_traces, settings.expected_new_traces_per_sec * wait_seconds));
}

TailSamplingProcessor::~TailSamplingProcessor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status TailSamplingProcessor::Start() {
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void TailSamplingProcessor::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (clock_->AwaitWithTimeout(mu_, absl::Condition(&stopping_), 1'000'000'000)) return;
    }
    Tick(/*everything=*/false);
  }
}

void TailSamplingProcessor::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;  // refuse new batches while the last ones are flushed
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  Tick(/*everything=*/true);
}

size_t TailSamplingProcessor::TracesInMemoryForTest() {
  absl::MutexLock lock(&mu_);
  return traces_.size();
}

uint32_t TailSamplingProcessor::TenantLocked(const std::string& tenant) {
  auto [it, inserted] = tenant_index_.try_emplace(tenant, static_cast<uint32_t>(tenants_.size()));
  if (inserted) tenants_.push_back(tenant);
  return it->second;
}

void TailSamplingProcessor::Consume(RequestContext&& ctx, otlp::SpanBatch&& batch,
                                    ConsumeDone done) {
  const uint32_t n = static_cast<uint32_t>(batch.spans.size());
  if (n == 0) {
    done(absl::OkStatus());
    return;
  }
  auto held = std::make_shared<HeldBatch>(std::move(batch), held_bytes_);
  absl::Cleanup publish = [&] {
    held.reset();
    PublishHeldBytes();
  };
  std::vector<uint32_t> late_sampled;  // spans of traces already sampled: forwarded now
  uint64_t late_dropped = 0;           // spans of traces already dropped
  std::vector<Piece> garbage;          // released after the lock
  bool refused = false;
  {
    absl::MutexLock lock(&mu_);
    refused = shut_down_;
    if (!refused) {
      const uint32_t tenant = TenantLocked(ctx.tenant);
      const int64_t now = clock_->MonotonicNanos();
      enum class Action { kBuffer, kForward, kDrop } action = Action::kBuffer;
      Entry* entry = nullptr;
      std::optional<TraceKey> last;
      for (uint32_t i = 0; i < n; ++i) {
        const TraceKey key{tenant, held->batch.spans[i].trace_id};
        if (!last || !(*last == key)) {  // spans of one trace usually come together
          last = key;
          if (sampled_cache_.Contains(key)) {
            action = Action::kForward;
          } else if (not_sampled_cache_.Contains(key)) {
            action = Action::kDrop;
          } else {
            auto it = traces_.find(key);
            entry = it != traces_.end() ? &it->second : &CreateEntryLocked(key, now, garbage);
            action = entry->state == State::kPending   ? Action::kBuffer
                     : entry->state == State::kSampled ? Action::kForward
                                                       : Action::kDrop;
          }
        }
        switch (action) {
          case Action::kBuffer:
            if (entry->pieces.empty() || entry->pieces.back().batch != held) {
              entry->pieces.push_back({held, {}});
            }
            entry->pieces.back().spans.push_back(i);
            ++entry->span_count;
            break;
          case Action::kForward:
            late_sampled.push_back(i);
            break;
          case Action::kDrop:
            ++late_dropped;
            break;
        }
      }
      UpdateGaugesLocked();
    }
  }
  garbage.clear();
  if (refused) {
    done(absl::UnavailableError("tail_sampling processor is shut down"));
    return;
  }
  metrics_->late_spans->Increment(late_sampled.size() + late_dropped);
  metrics_->dropped_not_sampled->Increment(late_dropped);
  metrics_->spans_sampled->Increment(late_sampled.size());
  if (late_sampled.size() == n) {
    // Only late spans of sampled traces: nothing is buffered, so the batch (and its
    // original bytes) goes on as it came, and the client's acknowledgement follows it.
    otlp::SpanBatch whole = std::move(held->batch);
    held.reset();
    next_.Consume(std::move(ctx), std::move(whole), std::move(done));
    return;
  }
  done(absl::OkStatus());  // buffered in memory: acknowledged, as otelcol does
  if (late_sampled.empty()) return;
  std::vector<otlp::SpanRef> refs;
  refs.reserve(late_sampled.size());
  for (uint32_t i : late_sampled) refs.push_back({&held->batch, i});
  Send(ctx.tenant, refs);
}

TailSamplingProcessor::Entry& TailSamplingProcessor::CreateEntryLocked(
    const TraceKey& key, int64_t now, std::vector<Piece>& garbage) {
  while (traces_.size() >= settings_.num_traces && !order_.empty()) EvictOldestLocked(garbage);
  const uint64_t seq = next_seq_++;
  Entry& entry = traces_[key];
  entry.seq = seq;
  pending_.push_back({key, seq, now + settings_.decision_wait_nanos});
  order_.push_back({key, seq, now});
  // Entries erased on decision (decision caches) leave stale items behind: compact.
  if (order_.size() > 2 * settings_.num_traces + 1024) {
    // A plain loop rather than std::erase_if: the thread-safety analysis does not see that a
    // predicate lambda runs here, under mu_.
    auto out = order_.begin();
    for (auto in = order_.begin(); in != order_.end(); ++in) {
      auto it = traces_.find(in->key);
      if (it != traces_.end() && it->second.seq == in->seq) *out++ = std::move(*in);
    }
    order_.erase(out, order_.end());
  }
  return entry;
}

void TailSamplingProcessor::EvictOldestLocked(std::vector<Piece>& garbage) {
  while (!order_.empty()) {
    const QueueItem item = order_.front();
    order_.pop_front();
    auto it = traces_.find(item.key);
    if (it == traces_.end() || it->second.seq != item.seq) continue;  // already gone
    Entry& entry = it->second;
    if (entry.state == State::kPending) {
      metrics_->traces_evicted->Increment();
      metrics_->dropped_evicted->Increment(entry.span_count);
      std::move(entry.pieces.begin(), entry.pieces.end(), std::back_inserter(garbage));
    }
    traces_.erase(it);
    return;
  }
}

void TailSamplingProcessor::DecideLocked(const TraceKey& key, Entry& entry, int64_t now, bool drop,
                                         std::vector<Output>& outputs,
                                         std::vector<Piece>& garbage) {
  bool sample = false;
  if (!drop) {
    std::vector<otlp::SpanRef> refs;
    refs.reserve(entry.span_count);
    for (const Piece& piece : entry.pieces) {
      for (uint32_t i : piece.spans) refs.push_back({&piece.batch->batch, i});
    }
    const TraceView view{key.id, refs};
    std::vector<Decision> decisions;
    decisions.reserve(policies_.size());
    for (auto& policy : policies_) {
      const Decision d = policy->Evaluate(view, now);
      decisions.push_back(d);
      if (d == Decision::kDropped) break;
      if (settings_.sample_on_first_match && d == Decision::kSampled) break;
    }
    sample = CombineDecisions(decisions);
  }
  if (sample) {
    metrics_->traces_sampled->Increment();
    metrics_->spans_sampled->Increment(entry.span_count);
    auto out = std::find_if(outputs.begin(), outputs.end(),
                            [&](const Output& o) { return o.tenant_index == key.tenant; });
    if (out == outputs.end()) {
      out = outputs.insert(outputs.end(), Output{key.tenant, tenants_[key.tenant], {}});
    }
    std::move(entry.pieces.begin(), entry.pieces.end(), std::back_inserter(out->pieces));
  } else {
    metrics_->traces_not_sampled->Increment();
    (drop ? metrics_->dropped_shutdown : metrics_->dropped_not_sampled)
        ->Increment(entry.span_count);
    std::move(entry.pieces.begin(), entry.pieces.end(), std::back_inserter(garbage));
  }
  entry.pieces.clear();
  entry.state = sample ? State::kSampled : State::kNotSampled;
  // With a decision cache the ID outlives the entry; without one the entry itself keeps
  // the decision until num_traces pushes it out.
  TraceDecisionCache& cache = sample ? sampled_cache_ : not_sampled_cache_;
  if (cache.capacity() > 0) {
    cache.Put(key);
    traces_.erase(key);
  }
}

void TailSamplingProcessor::Tick(bool everything) {
  std::vector<Output> outputs;
  std::vector<Piece> garbage;
  {
    absl::MutexLock lock(&mu_);
    const int64_t now = clock_->MonotonicNanos();
    const bool drop = everything && settings_.drop_pending_traces_on_shutdown;
    while (!pending_.empty() && (everything || pending_.front().due_nanos <= now)) {
      const QueueItem item = pending_.front();
      pending_.pop_front();
      auto it = traces_.find(item.key);
      if (it == traces_.end() || it->second.seq != item.seq) continue;  // evicted
      if (it->second.state != State::kPending) continue;
      DecideLocked(item.key, it->second, now, drop, outputs, garbage);
    }
    UpdateGaugesLocked();
  }
  garbage.clear();
  Emit(outputs);
  PublishHeldBytes();
}

void TailSamplingProcessor::Emit(std::vector<Output>& outputs) {
  for (Output& out : outputs) {
    std::vector<otlp::SpanRef> refs;
    for (const Piece& piece : out.pieces) {
      for (uint32_t i : piece.spans) refs.push_back({&piece.batch->batch, i});
    }
    Send(out.tenant, refs);
    out.pieces.clear();
  }
}

void TailSamplingProcessor::Send(const std::string& tenant, std::span<const otlp::SpanRef> refs) {
  for (size_t begin = 0; begin < refs.size(); begin += kMaxSpansPerRequest) {
    const auto chunk = refs.subspan(begin, std::min(kMaxSpansPerRequest, refs.size() - begin));
    auto decoded = otlp::DecodeProtoRequest(otlp::EncodeResourceSpans(chunk));
    if (!decoded.ok() || decoded->batch.spans.size() != chunk.size()) {
      LOG_ERROR("tail_sampling {}: re-encoding sampled spans failed: {}", id_,
                decoded.ok() ? "spans lost" : decoded.status().ToString());
      metrics_->dropped_internal->Increment(chunk.size());
      continue;
    }
    RequestContext ctx;
    ctx.tenant = tenant;
    next_.Consume(std::move(ctx), std::move(decoded->batch),
                  [metrics = metrics_, n = chunk.size()](absl::Status status) {
                    if (!status.ok()) metrics->dropped_downstream->Increment(n);
                  });
  }
}

void TailSamplingProcessor::UpdateGaugesLocked() {
  metrics_->traces_in_memory->Set(static_cast<int64_t>(traces_.size()));
}

void TailSamplingProcessor::PublishHeldBytes() { metrics_->held_bytes->Set(held_bytes_->load()); }

namespace {

class TailSamplingFactory : public ProcessorFactory {
 public:
  std::string_view type() const override { return "tail_sampling"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    return ParseTailSamplingSettings(map);
  }
  absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx,
                                                    TracesConsumer& next) const override {
    const auto& s = static_cast<const TailSamplingSettings&>(settings);
    std::vector<std::unique_ptr<SamplingPolicy>> policies;
    for (const PolicyConfig& config : s.policies) {
      auto policy = BuildSamplingPolicy(config);
      if (!policy.ok()) return policy.status();
      policies.push_back(*std::move(policy));
    }
    return std::make_unique<TailSamplingProcessor>(s, std::move(policies), ctx, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewTailSamplingProcessorFactory() {
  return std::make_unique<TailSamplingFactory>();
}

}  // namespace strand::pipeline
