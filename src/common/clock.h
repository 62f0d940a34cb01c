// Clock: the source of wall and monotonic time, injectable so tests control time.
// Everything whose behaviour time decides (queues, retries, batching, cutting,
// retention, refresh loops) reads the time and waits through a Clock: production wiring
// passes Clock::Real(), tests a FakeClock that they advance by hand, so time-decided
// behaviour is tested without sleeping.
// Thread-safe: implementations must be callable from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace strand {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch.
  virtual int64_t NowUnixNanos() const = 0;
  // Monotonic nanoseconds from an arbitrary origin.
  virtual int64_t MonotonicNanos() const = 0;

  // With `mu` held, waits until `cond` holds or `timeout_nanos` of this clock's monotonic
  // time have passed (mu is released while waiting, as absl::Mutex::AwaitWithTimeout
  // does). Returns whether `cond` holds. A timeout <= 0 only evaluates `cond`; kForever
  // waits for `cond` alone.
  virtual bool AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                                int64_t timeout_nanos) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;

  static constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

  // The process-wide real clock. Never null; lives forever.
  static Clock* Real();
};

// A clock that moves only when told to; both its wall and monotonic time are the same
// counter. Waiters in AwaitWithTimeout wake when Advance or Set moves the time past their
// deadline (and, as with a real mutex, when `cond` may have changed). Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t unix_nanos = 1'700'000'000'000'000'000) : now_(unix_nanos) {}
  int64_t NowUnixNanos() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load(); }
  bool AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                        int64_t timeout_nanos) const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void Advance(std::chrono::nanoseconds d);
  void Set(int64_t unix_nanos);
  // Blocks (up to 10 s of real time) until a thread waits in AwaitWithTimeout with a
  // deadline of exactly `monotonic_nanos`; false on timeout. A test calls it before
  // Advance to know that the code under test has started the wait it means to end.
  bool AwaitWaiterUntilForTest(int64_t monotonic_nanos) const;

 private:
  struct Waiter {
    absl::Mutex* mu;
    int64_t deadline;
  };

  // Wakes every waiter so that it re-reads the time.
  void WakeWaiters();

  std::atomic<int64_t> now_;
  // The mutexes that waiters hold; each stays alive while it is listed (its waiter is
  // inside AwaitWithTimeout). Lock order: a waiter's mutex, then waiters_mu_.
  mutable absl::Mutex waiters_mu_;
  mutable std::vector<Waiter> waiters_ ABSL_GUARDED_BY(waiters_mu_);
};

}  // namespace strand
