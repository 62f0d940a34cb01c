#include "common/clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace strand {
namespace {

using std::chrono::seconds;

TEST(RealClockTest, AwaitWithTimeoutReturnsTheCondition) {
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(Clock::Real()->AwaitWithTimeout(mu, absl::Condition(&ready), 1'000'000));
  EXPECT_FALSE(Clock::Real()->AwaitWithTimeout(mu, absl::Condition(&ready), 0));
  ready = true;
  EXPECT_TRUE(Clock::Real()->AwaitWithTimeout(mu, absl::Condition(&ready), Clock::kForever));
}

TEST(FakeClockTest, AwaitEndsWhenTheClockPassesTheDeadline) {
  FakeClock clock;
  const int64_t start = clock.MonotonicNanos();
  absl::Mutex mu;
  bool ready = false;
  bool result = true;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithTimeout(mu, absl::Condition(&ready), 10'000'000'000);
  });
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(start + 10'000'000'000));
  clock.Advance(seconds(9));  // not yet: the waiter stays
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(start + 10'000'000'000));
  clock.Advance(seconds(1));
  waiter.join();
  EXPECT_FALSE(result);
}

TEST(FakeClockTest, AwaitEndsWhenTheConditionHoldsWithoutTimePassing) {
  FakeClock clock;
  const int64_t start = clock.MonotonicNanos();
  absl::Mutex mu;
  bool ready = false;
  bool result = false;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithTimeout(mu, absl::Condition(&ready), Clock::kForever);
  });
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(Clock::kForever));
  {
    absl::MutexLock lock(&mu);
    ready = true;
  }
  waiter.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(clock.MonotonicNanos(), start);
}

TEST(FakeClockTest, SetWakesWaitersToo) {
  FakeClock clock(1'000);
  absl::Mutex mu;
  bool ready = false;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    clock.AwaitWithTimeout(mu, absl::Condition(&ready), 500);
  });
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(1'500));
  clock.Set(1'500);
  waiter.join();
  EXPECT_EQ(clock.NowUnixNanos(), 1'500);
}

TEST(FakeClockTest, NoWaitWithoutATimeout) {
  FakeClock clock;
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(clock.AwaitWithTimeout(mu, absl::Condition(&ready), 0));
  EXPECT_FALSE(clock.AwaitWithTimeout(mu, absl::Condition(&ready), -5));
}

}  // namespace
}  // namespace strand
