#include "pipeline/processor/memory_limiter/memory_limiter.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/logging.h"

namespace strand::pipeline {

MemoryLimits ComputeMemoryLimits(const MemoryLimiterSettings& s, uint64_t total_bytes) {
  MemoryLimits l;
  constexpr uint64_t kMib = 1 << 20;
  if (s.limit_mib > 0) {
    l.hard = s.limit_mib * kMib;
    const uint64_t spike = s.spike_limit_mib > 0 ? s.spike_limit_mib * kMib : l.hard / 5;
    l.soft = l.hard > spike ? l.hard - spike : 0;
  } else {
    l.hard = total_bytes / 100 * s.limit_percentage;
    // The default spike is a fifth of the limit in bytes (a fifth of the percentage,
    // rounded to a whole percent, would lose up to 0.8% of the machine).
    const uint64_t spike =
        s.spike_limit_percentage > 0 ? total_bytes / 100 * s.spike_limit_percentage : l.hard / 5;
    l.soft = l.hard > spike ? l.hard - spike : 0;
  }
  return l;
}

struct MemoryLimiter::State {
  MemoryLimits limits;
  int64_t interval_nanos;
  const Clock* clock = nullptr;  // times the checks
  std::function<uint64_t()> usage;
  std::string id;
  std::atomic<bool> refusing{false};
  // Usage at the last check, and request bytes let through since: between checks, memory
  // can grow by what was admitted, so the sum is compared with the soft limit too.
  std::atomic<uint64_t> last_usage{0};
  std::atomic<uint64_t> admitted_since_check{0};
  Counter* refused_spans = nullptr;
  Counter* refused_requests = nullptr;
  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;
  std::thread thread;
};

MemoryLimiter::MemoryLimiter(const MemoryLimiterSettings& settings, MemoryLimits limits,
                             std::function<uint64_t()> usage, const BuildContext& ctx,
                             TracesConsumer& next)
    : state_(std::make_unique<State>()), next_(next) {
  state_->limits = limits;
  state_->interval_nanos = settings.check_interval_nanos;
  state_->clock = ctx.clock != nullptr ? ctx.clock : Clock::Real();
  state_->usage = std::move(usage);
  state_->id = ctx.id.ToString();
  if (ctx.metrics != nullptr) {
    state_->refused_spans =
        ctx.metrics
            ->AddCounter("strand_processor_refused_spans_total",
                         "Spans a processor refused with a retryable error.", {"processor"})
            ->With({state_->id});
    state_->refused_requests =
        ctx.metrics
            ->AddCounter("strand_processor_refused_requests_total",
                         "Requests a processor refused before decoding.", {"processor"})
            ->With({state_->id});
    State* st = state_.get();
    ctx.metrics->AddCallback("strand_memory_limiter_soft_limit_bytes",
                             "The memory_limiter's soft limit.", MetricType::kGauge,
                             [st] { return static_cast<double>(st->limits.soft); });
  }
}

MemoryLimiter::~MemoryLimiter() { Shutdown(); }

absl::Status MemoryLimiter::Start() {
  LOG_INFO("{}: hard limit {} MiB, soft limit {} MiB, checked every {} ms", state_->id,
           state_->limits.hard >> 20, state_->limits.soft >> 20, state_->interval_nanos / 1000000);
  Check();
  State* st = state_.get();
  state_->thread = std::thread([this, st] {
    for (;;) {
      {
        absl::MutexLock lock(&st->mu);
        if (st->clock->AwaitWithTimeout(st->mu, absl::Condition(&st->stop), st->interval_nanos)) {
          return;
        }
      }
      Check();
    }
  });
  return absl::OkStatus();
}

void MemoryLimiter::Shutdown() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stop = true;
  }
  if (state_->thread.joinable()) state_->thread.join();
}

void MemoryLimiter::Check() {
  State& st = *state_;
  uint64_t used = st.usage();
  if (used >= st.limits.soft) {
    // Give back what the allocator holds but does not use, then look again.
    malloc_trim(0);
    used = st.usage();
  }
  st.last_usage.store(used);
  st.admitted_since_check.store(0);
  const bool was = st.refusing.load();
  const bool now = used >= st.limits.soft;
  if (now != was) {
    st.refusing.store(now);
    if (now) {
      LOG_WARN("{}: memory use {} MiB is above the soft limit {} MiB; refusing data", st.id,
               used >> 20, st.limits.soft >> 20);
    } else {
      LOG_INFO("{}: memory use {} MiB is below the soft limit again; accepting data", st.id,
               used >> 20);
    }
  }
}

bool MemoryLimiter::refusing() const { return state_->refusing.load(); }

namespace {
absl::Status Refusal() {
  return absl::UnavailableError(
      "data refused due to high memory usage (memory_limiter soft limit); retry later");
}
}  // namespace

bool MemoryLimiter::OverSoftLimit() const {
  const State& st = *state_;
  return st.refusing.load(std::memory_order_relaxed) ||
         st.last_usage.load(std::memory_order_relaxed) +
                 st.admitted_since_check.load(std::memory_order_relaxed) >=
             st.limits.soft;
}

absl::Status MemoryLimiter::Admit(const RequestContext& ctx) {
  if (OverSoftLimit()) {
    if (state_->refused_requests != nullptr) state_->refused_requests->Increment();
    return Refusal();
  }
  return next_.Admit(ctx);
}

void MemoryLimiter::Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) {
  if (OverSoftLimit()) {
    if (state_->refused_spans != nullptr) state_->refused_spans->Increment(batch.spans.size());
    done(Refusal());
    return;
  }
  // What stays in memory after this call is mostly the request's bytes (queued for
  // sending); the decoded form is transient.
  const std::string_view original = batch.original_request();
  state_->admitted_since_check.fetch_add(original.empty() ? batch.MemoryUsage() : original.size(),
                                         std::memory_order_relaxed);
  next_.Consume(std::move(ctx), std::move(batch), std::move(done));
}

namespace {

class MemoryLimiterFactory : public ProcessorFactory {
 public:
  std::string_view type() const override { return "memory_limiter"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<MemoryLimiterSettings>();
    map.ReadDuration("check_interval", s->check_interval_nanos);
    map.Read("limit_mib", s->limit_mib);
    map.Read("spike_limit_mib", s->spike_limit_mib);
    map.Read("limit_percentage", s->limit_percentage);
    map.Read("spike_limit_percentage", s->spike_limit_percentage);
    // Go garbage-collector pacing: Strand has no collector to pace; trimming the heap
    // happens at every check above the soft limit.
    map.Ignore("min_gc_interval_when_soft_limited");
    map.Ignore("min_gc_interval_when_hard_limited");
    return s;
  }
  absl::Status Validate(const ComponentSettings& settings) const override {
    const auto& s = static_cast<const MemoryLimiterSettings&>(settings);
    if (s.check_interval_nanos <= 0) {
      return absl::InvalidArgumentError("check_interval must be greater than zero");
    }
    if (s.limit_mib == 0 && s.limit_percentage == 0) {
      return absl::InvalidArgumentError("set limit_mib or limit_percentage");
    }
    if (s.limit_mib > 0 && s.limit_percentage > 0) {
      return absl::InvalidArgumentError("set only one of limit_mib and limit_percentage");
    }
    if (s.limit_mib > 0 && s.spike_limit_mib >= s.limit_mib) {
      return absl::InvalidArgumentError("spike_limit_mib must be smaller than limit_mib");
    }
    if (s.limit_percentage > 100 || s.spike_limit_percentage > 100) {
      return absl::InvalidArgumentError("percentages must be between 0 and 100");
    }
    if (s.limit_percentage > 0 && s.spike_limit_percentage >= s.limit_percentage) {
      return absl::InvalidArgumentError(
          "spike_limit_percentage must be smaller than limit_percentage");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx,
                                                    TracesConsumer& next) const override {
    const auto& s = static_cast<const MemoryLimiterSettings&>(settings);
    MemoryLimits limits = ComputeMemoryLimits(s, AvailableMemoryBytes());
    return std::make_unique<MemoryLimiter>(s, limits, ResidentBytes, ctx, next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewMemoryLimiterFactory() {
  return std::make_unique<MemoryLimiterFactory>();
}

}  // namespace strand::pipeline
