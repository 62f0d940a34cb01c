// MemoryBudget: the process-wide memory limit (`strand.memory_limit`, docs/security.md).
//
// Everything that holds request bytes takes them from one budget before it holds them:
// HTTP bodies being read, inflated buffers, decoded batches, live traces, the collector's
// in-memory export queues, trace lookups' results. Two gates refuse new work:
//   - tracked bytes: a part asks (TryTake, or a MemoryLease) before it allocates and gives
//     the bytes back when it frees them; a request that would take the tracked total past
//     `tracked_limit()` (four fifths of the limit: the rest is the process's own baseline,
//     thread stacks, allocator slack and the buffers of gRPC's transport) is refused;
//   - resident set: Sample() (every 50 ms on the sampler thread) reads the process's RSS;
//     while it is at or over the limit, every TryTake is refused, whatever is tracked, and
//     freed heap is handed back to the system (malloc_trim) before the next sample.
// Refusals are Unavailable, with a message naming the limit: receivers answer HTTP 503
// with Retry-After / gRPC UNAVAILABLE, which OTLP clients retry. Take() charges without
// refusing: for memory that is held already and must be kept (live traces of an
// acknowledged request, a cut in progress), so that later admissions see it.
//
// A null MemoryBudget* means "no limit" wherever one is accepted. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace strand {

class MetricsRegistry;
template <typename T>
class Family;
class Counter;

// The memory available to this process: the cgroup's limit if there is one, else MemTotal.
uint64_t AvailableMemoryBytes();
// The process's resident set size in bytes.
uint64_t ResidentBytes();

class MemoryBudget {
 public:
  // `limit` is the process's limit in bytes. `resident` reports the resident set (null:
  // ResidentBytes); tests inject their own.
  explicit MemoryBudget(uint64_t limit, std::function<uint64_t()> resident = nullptr);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // The default limit: four fifths of AvailableMemoryBytes().
  static uint64_t DefaultLimit();

  uint64_t limit() const { return limit_; }
  uint64_t tracked_limit() const { return tracked_limit_; }
  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  // Whether the resident set was at or over the limit at the last sample.
  bool over_resident() const { return over_resident_.load(std::memory_order_relaxed); }

  // Takes `bytes` if the tracked total stays within tracked_limit() and the resident set is
  // under the limit; otherwise Unavailable naming `what` (a short noun: "request body").
  absl::Status TryTake(uint64_t bytes, std::string_view what);
  // OK when a request of `bytes` would be admitted now (nothing is taken).
  absl::Status CheckAdmission(uint64_t bytes, std::string_view what) const;
  void Take(uint64_t bytes);
  void Give(uint64_t bytes);

  // Reads the resident set once and updates over_resident() (the sampler's step).
  void Sample();
  // Starts the sampler thread (stopped by the destructor), sampling every `interval` of
  // `clock`'s time (null: the real clock; it outlives the budget).
  void StartSampler(std::chrono::milliseconds interval = std::chrono::milliseconds(50),
                    const Clock* clock = nullptr);
  // Registers strand_memory_* gauges and the refusal counter in `metrics` (which must
  // outlive the budget).
  void RegisterMetrics(MetricsRegistry& metrics);

 private:
  absl::Status Refusal(uint64_t bytes, std::string_view what) const;

  const uint64_t limit_;
  const uint64_t tracked_limit_;
  std::function<uint64_t()> resident_;
  std::atomic<uint64_t> used_{0};
  std::atomic<uint64_t> last_resident_{0};
  std::atomic<bool> over_resident_{false};
  Family<Counter>* refusals_ = nullptr;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sampler_;
};

// Bytes held from a budget, given back when the lease ends. Move-only. A lease without a
// budget (default-constructed, or from a null budget) grants everything.
class MemoryLease {
 public:
  MemoryLease() = default;
  explicit MemoryLease(MemoryBudget* budget) : budget_(budget) {}
  MemoryLease(MemoryLease&& other) noexcept
      : budget_(other.budget_), bytes_(other.bytes_) {
    other.bytes_ = 0;
  }
  MemoryLease& operator=(MemoryLease&& other) noexcept;
  ~MemoryLease() { Reset(); }
  MemoryLease(const MemoryLease&) = delete;
  MemoryLease& operator=(const MemoryLease&) = delete;

  // Grows or shrinks the lease to `bytes`. Growing is refused (Unavailable, the lease
  // unchanged) when the budget cannot give the difference; shrinking always succeeds.
  absl::Status TryResize(uint64_t bytes, std::string_view what);
  // Grows or shrinks without refusing (memory already held).
  void Resize(uint64_t bytes);
  // Gives everything back.
  void Reset() { Resize(0); }

  uint64_t bytes() const { return bytes_; }
  MemoryBudget* budget() const { return budget_; }

 private:
  MemoryBudget* budget_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace strand
