#include "common/log_limiter.h"

#include <gtest/gtest.h>

namespace strand {
namespace {

TEST(LogLimiterTest, OneLinePerIntervalWithTheCountHeldBack) {
  FakeClock clock;
  LogLimiter limiter(1'000'000'000, &clock);
  uint64_t suppressed = 99;
  ASSERT_TRUE(limiter.Allow(suppressed));
  EXPECT_EQ(suppressed, 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow(suppressed));
  clock.Advance(std::chrono::milliseconds(999));
  EXPECT_FALSE(limiter.Allow(suppressed));
  clock.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(limiter.Allow(suppressed));
  EXPECT_EQ(suppressed, 1001u);
  EXPECT_FALSE(limiter.Allow(suppressed));
}

TEST(LogLimiterTest, MacroCompilesWithAndWithoutArguments) {
  LogLimiter limiter;
  LOG_WARN_LIMITED(limiter, "plain line");
  LOG_WARN_LIMITED(limiter, "line with {} argument", 1);
}

}  // namespace
}  // namespace strand
