#include "common/log_limiter.h"

namespace strand {

bool LogLimiter::Allow(uint64_t& suppressed) {
  const int64_t now = clock_->MonotonicNanos();
  int64_t next = next_allowed_.load(std::memory_order_relaxed);
  while (now >= next) {
    // One caller wins the interval; the others count as held back.
    if (next_allowed_.compare_exchange_weak(next, now + interval_nanos_,
                                            std::memory_order_relaxed)) {
      suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      return true;
    }
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace strand
