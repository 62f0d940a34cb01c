#include "common/clock.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "absl/time/time.h"

namespace strand {
namespace {

class RealClock : public Clock {
 public:
  int64_t NowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  bool AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                        int64_t timeout_nanos) const override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (timeout_nanos <= 0) return cond.Eval();
    if (timeout_nanos == kForever) {
      mu.Await(cond);
      return true;
    }
    return mu.AwaitWithTimeout(cond, absl::Nanoseconds(timeout_nanos));
  }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

bool FakeClock::AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                                 int64_t timeout_nanos) const {
  if (timeout_nanos <= 0) return cond.Eval();
  const int64_t now = MonotonicNanos();
  const int64_t deadline = timeout_nanos > kForever - now ? kForever : now + timeout_nanos;
  auto done = [&] { return cond.Eval() || MonotonicNanos() >= deadline; };
  {
    absl::MutexLock lock(&waiters_mu_);
    waiters_.push_back({&mu, deadline});
  }
  // WakeWaiters makes `mu` re-evaluate `done` promptly; the short real-time slices only
  // cover a wake-up lost to a race in absl::Mutex::TryLock, and cost a test nothing.
  while (!mu.AwaitWithTimeout(absl::Condition(&done), absl::Milliseconds(20))) {
  }
  {
    absl::MutexLock lock(&waiters_mu_);
    waiters_.erase(std::find_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) {
      return w.mu == &mu && w.deadline == deadline;
    }));
  }
  return cond.Eval();
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  now_ += d.count();
  WakeWaiters();
}

void FakeClock::Set(int64_t unix_nanos) {
  now_ = unix_nanos;
  WakeWaiters();
}

bool FakeClock::AwaitWaiterUntilForTest(int64_t monotonic_nanos) const {
  absl::MutexLock lock(&waiters_mu_);
  auto waiting = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(waiters_mu_) {
    return std::any_of(waiters_.begin(), waiters_.end(),
                       [&](const Waiter& w) { return w.deadline == monotonic_nanos; });
  };
  return waiters_mu_.AwaitWithTimeout(absl::Condition(&waiting), absl::Seconds(10));
}

void FakeClock::WakeWaiters() {
  // Releasing a mutex makes absl re-evaluate its waiters' conditions, which read the new
  // time. A mutex that is held now will be released by its holder, with the same effect;
  // so TryLock, never Lock: a waiter takes waiters_mu_ while it holds its mutex.
  absl::MutexLock lock(&waiters_mu_);
  for (const Waiter& w : waiters_) {
    absl::Mutex* mu = w.mu;
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (mu->TryLock()) {
        mu->Unlock();
        break;
      }
      std::this_thread::yield();
    }
  }
}

}  // namespace strand
