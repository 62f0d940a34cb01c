// Clock: the source of wall and monotonic time, injectable so tests control time.
// Thread-safe: implementations must be callable from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace strand {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch.
  virtual int64_t NowUnixNanos() const = 0;
  // Monotonic nanoseconds from an arbitrary origin.
  virtual int64_t MonotonicNanos() const = 0;

  // The process-wide real clock. Never null; lives forever.
  static Clock* Real();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t unix_nanos = 1'700'000'000'000'000'000) : now_(unix_nanos) {}
  int64_t NowUnixNanos() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load(); }
  void Advance(std::chrono::nanoseconds d) { now_ += d.count(); }
  void Set(int64_t unix_nanos) { now_ = unix_nanos; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace strand
