// LogLimiter: lets one log line of a kind through per interval and counts the lines it held
// back, so a condition that repeats thousands of times a second (accept failing with
// EMFILE, a flood of bad packets) writes one line a second with a count instead of filling
// the disk.
//
// Thread-safe: Allow() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"
#include "common/logging.h"

namespace strand {

class LogLimiter {
 public:
  // `clock` must outlive the limiter; null means the real clock.
  explicit LogLimiter(int64_t interval_nanos = 1'000'000'000, const Clock* clock = nullptr)
      : interval_nanos_(interval_nanos), clock_(clock != nullptr ? clock : Clock::Real()) {}

  // True when a line may be written now. Then `suppressed` is the number of calls that
  // returned false since the previous line was let through.
  bool Allow(uint64_t& suppressed);

 private:
  const int64_t interval_nanos_;
  const Clock* clock_;
  std::atomic<int64_t> next_allowed_{INT64_MIN};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace strand

// Writes at `level` (warn, error, info) through `limiter`, adding how many similar lines
// were held back since the last one.
#define STRAND_LOG_LIMITED(level, limiter, fmt_str, ...)                                   \
  do {                                                                                      \
    uint64_t strand_suppressed_ = 0;                                                        \
    if ((limiter).Allow(strand_suppressed_)) {                                              \
      if (strand_suppressed_ == 0) {                                                        \
        ::spdlog::level(fmt_str __VA_OPT__(, ) __VA_ARGS__);                                \
      } else {                                                                              \
        ::spdlog::level(fmt_str " ({} similar lines held back in the last interval)"        \
                        __VA_OPT__(, ) __VA_ARGS__, strand_suppressed_);                    \
      }                                                                                     \
    }                                                                                       \
  } while (0)

#define LOG_WARN_LIMITED(limiter, ...) STRAND_LOG_LIMITED(warn, limiter, __VA_ARGS__)
#define LOG_ERROR_LIMITED(limiter, ...) STRAND_LOG_LIMITED(error, limiter, __VA_ARGS__)
