// Pacer: spaces one worker's requests evenly at a target rate, or lets them go as fast as
// slots free up when the rate is 0. A worker that falls more than a second behind drops the
// backlog instead of bursting. Not thread-safe: one per worker.
#pragma once

#include <chrono>

namespace strand::loadgen {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  Pacer(double requests_per_second, Clock::time_point start)
      : interval_(requests_per_second > 0
                      ? std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(1.0 / requests_per_second))
                      : Clock::duration::zero()),
        next_(start) {}

  bool throttled() const { return interval_ > Clock::duration::zero(); }
  // When the next request is due.
  Clock::time_point next() const { return next_; }
  bool Due(Clock::time_point now) const { return !throttled() || now >= next_; }
  // Records that a request went out at `now`.
  void Sent(Clock::time_point now) {
    if (!throttled()) return;
    next_ += interval_;
    if (now - next_ > std::chrono::seconds(1)) next_ = now;
  }

 private:
  Clock::duration interval_;
  Clock::time_point next_;
};

}  // namespace strand::loadgen
