#include "common/memory_budget.h"

#include <gtest/gtest.h>

#include <atomic>

#include "common/metrics.h"

namespace strand {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(MemoryBudgetTest, RequestMemoryMayHoldFourFifthsOfTheLimit) {
  MemoryBudget budget(100 * kMiB, [] { return uint64_t{0}; });
  EXPECT_EQ(budget.tracked_limit(), 80 * kMiB);
  ASSERT_TRUE(budget.TryTake(60 * kMiB, "request body").ok());
  absl::Status refused = budget.TryTake(30 * kMiB, "request body");
  EXPECT_TRUE(absl::IsUnavailable(refused));
  EXPECT_NE(refused.message().find("memory limit reached: request body needs 30 MiB, 60 MiB of 80 MiB"),
            std::string_view::npos)
      << refused;
  EXPECT_NE(refused.message().find("strand.memory_limit"), std::string_view::npos);
  EXPECT_EQ(budget.used(), 60 * kMiB);  // a refusal takes nothing
  ASSERT_TRUE(budget.TryTake(20 * kMiB, "request body").ok());
  budget.Give(80 * kMiB);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudgetTest, TakeChargesWithoutRefusingAndLaterRequestsSeeIt) {
  MemoryBudget budget(10 * kMiB, [] { return uint64_t{0}; });
  budget.Take(9 * kMiB);  // live traces of acknowledged requests
  EXPECT_EQ(budget.used(), 9 * kMiB);
  EXPECT_FALSE(budget.TryTake(kMiB, "decoded batch").ok());
  EXPECT_FALSE(budget.CheckAdmission(1, "request").ok());
  budget.Give(9 * kMiB);
  EXPECT_TRUE(budget.CheckAdmission(kMiB, "request").ok());
}

TEST(MemoryBudgetTest, ResidentSetOverTheLimitRefusesEverythingUntilItFalls) {
  std::atomic<uint64_t> rss{50 * kMiB};
  MemoryBudget budget(100 * kMiB, [&rss] { return rss.load(); });
  budget.Sample();
  EXPECT_TRUE(budget.TryTake(kMiB, "request body").ok());
  rss = 100 * kMiB;  // untracked memory (allocator slack, transport buffers) reached it
  budget.Sample();
  EXPECT_TRUE(budget.over_resident());
  absl::Status refused = budget.TryTake(1, "request body");
  EXPECT_TRUE(absl::IsUnavailable(refused));
  EXPECT_NE(refused.message().find("the process holds 100 MiB"), std::string_view::npos)
      << refused;
  rss = 70 * kMiB;
  budget.Sample();
  EXPECT_FALSE(budget.over_resident());
  EXPECT_TRUE(budget.TryTake(1, "request body").ok());
}

TEST(MemoryBudgetTest, LeaseGrowsShrinksAndGivesBackWhenItEnds) {
  MemoryBudget budget(10 * kMiB, [] { return uint64_t{0}; });
  {
    MemoryLease lease(&budget);
    ASSERT_TRUE(lease.TryResize(4 * kMiB, "request body").ok());
    EXPECT_EQ(budget.used(), 4 * kMiB);
    EXPECT_FALSE(lease.TryResize(9 * kMiB, "inflated body").ok());
    EXPECT_EQ(lease.bytes(), 4 * kMiB);  // unchanged by the refusal
    ASSERT_TRUE(lease.TryResize(kMiB, "decoded batch").ok());
    EXPECT_EQ(budget.used(), kMiB);
    MemoryLease moved = std::move(lease);
    EXPECT_EQ(lease.bytes(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state
    EXPECT_EQ(budget.used(), kMiB);
    moved.Resize(20 * kMiB);  // held already: charged without refusal
    EXPECT_EQ(budget.used(), 20 * kMiB);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudgetTest, LeaseWithoutBudgetGrantsEverything) {
  MemoryLease lease;
  EXPECT_TRUE(lease.TryResize(uint64_t{1} << 40, "request body").ok());
  EXPECT_EQ(lease.bytes(), uint64_t{1} << 40);
}

TEST(MemoryBudgetTest, RefusalsAreCountedByWhat) {
  MetricsRegistry metrics;
  MemoryBudget budget(kMiB, [] { return uint64_t{0}; });
  budget.RegisterMetrics(metrics);
  EXPECT_FALSE(budget.TryTake(2 * kMiB, "request body").ok());
  const std::string text = metrics.RenderText();
  EXPECT_NE(text.find("strand_memory_refusals_total{what=\"request body\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("strand_memory_limit_bytes 1048576"), std::string::npos) << text;
}

}  // namespace
}  // namespace strand
