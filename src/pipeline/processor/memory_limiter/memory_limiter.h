// The `memory_limiter` processor: refuses data with a retryable error while the process
// uses more memory than its soft limit (limit − spike), and lets data through again once
// usage falls below it.
//
// Usage is the process's resident set (what the kernel's out-of-memory killer and a
// container's memory limit count), sampled every `check_interval` by a background thread;
// `limit_percentage` is of the container's memory limit (cgroup v2 or v1) or, without
// one, of the machine's memory. Above the soft limit the processor also returns freed heap
// to the system (malloc_trim) before it samples again, so memory the allocator merely
// cached does not keep it refusing. Between two checks it also counts the bytes of the
// batches it let through: when the last sample plus those bytes reach the soft limit, it
// refuses until the next check, so a fast burst cannot overshoot the limit while the
// sampler sleeps. Refusals are Unavailable: receivers answer gRPC UNAVAILABLE / HTTP 503,
// which OTLP clients retry. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "common/memory_budget.h"
#include "pipeline/config/component.h"

namespace strand::pipeline {

struct MemoryLimiterSettings : ComponentSettings {
  int64_t check_interval_nanos = 0;
  uint64_t limit_mib = 0;
  uint64_t spike_limit_mib = 0;
  uint64_t limit_percentage = 0;
  uint64_t spike_limit_percentage = 0;
};

// The limits in bytes that settings give on a machine with `total_bytes` of memory.
struct MemoryLimits {
  uint64_t hard = 0;
  uint64_t soft = 0;
};
MemoryLimits ComputeMemoryLimits(const MemoryLimiterSettings& s, uint64_t total_bytes);

class MemoryLimiter : public Processor {
 public:
  // `usage` reports current memory use in bytes (ResidentBytes in production).
  MemoryLimiter(const MemoryLimiterSettings& settings, MemoryLimits limits,
                std::function<uint64_t()> usage, const BuildContext& ctx, TracesConsumer& next);
  ~MemoryLimiter() override;

  absl::Status Start() override;
  void Shutdown() override;
  absl::Status Admit(const RequestContext& ctx) override;
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override;

  // Samples usage once and updates the refusing state (the background thread's step).
  void CheckForTest() { Check(); }
  bool refusing() const;

 private:
  struct State;
  void Check();
  bool OverSoftLimit() const;

  std::unique_ptr<State> state_;
  TracesConsumer& next_;
};

std::unique_ptr<ProcessorFactory> NewMemoryLimiterFactory();

}  // namespace strand::pipeline
