#include "pipeline/processor/memory_limiter/memory_limiter.h"

#include <gtest/gtest.h>

#include <atomic>

#include "pipeline/builtin_components.h"
#include "pipeline/testutil/capture_consumer_testutil.h"
#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

constexpr uint64_t kMib = 1 << 20;

class MemoryLimiterTest : public ::testing::Test {
 protected:
  void Build(uint64_t hard_mib, uint64_t soft_mib) {
    MemoryLimiterSettings s;
    s.check_interval_nanos = 3'600'000'000'000;  // the test samples by hand
    BuildContext ctx;
    ctx.id = ComponentId{"memory_limiter", ""};
    ctx.metrics = &metrics_;
    limiter_ = std::make_unique<MemoryLimiter>(
        s, MemoryLimits{hard_mib * kMib, soft_mib * kMib}, [this] { return usage_.load(); }, ctx,
        next_);
  }
  absl::Status Consume(int spans) {
    absl::Status result = absl::UnknownError("no answer");
    limiter_->Consume(RequestContext{}, testing::TracesBatch({1}, spans),
                      [&](absl::Status s) { result = std::move(s); });
    return result;
  }

  MetricsRegistry metrics_;
  std::atomic<uint64_t> usage_{0};
  testutil::CaptureConsumer next_;
  std::unique_ptr<MemoryLimiter> limiter_;
};

TEST_F(MemoryLimiterTest, RefusesAboveTheSoftLimitAndResumesBelow) {
  Build(/*hard_mib=*/100, /*soft_mib=*/80);
  usage_ = 50 * kMib;
  limiter_->CheckForTest();
  EXPECT_FALSE(limiter_->refusing());
  EXPECT_TRUE(limiter_->Admit(RequestContext{}).ok());
  EXPECT_TRUE(Consume(2).ok());
  EXPECT_EQ(next_.batches.size(), 1u);

  usage_ = 85 * kMib;
  limiter_->CheckForTest();
  EXPECT_TRUE(limiter_->refusing());
  EXPECT_TRUE(absl::IsUnavailable(limiter_->Admit(RequestContext{})));
  absl::Status refused = Consume(3);
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_EQ(next_.batches.size(), 1u);  // nothing passed on

  usage_ = 79 * kMib;
  limiter_->CheckForTest();
  EXPECT_FALSE(limiter_->refusing());
  EXPECT_TRUE(Consume(1).ok());
  EXPECT_EQ(next_.batches.size(), 2u);
}

TEST_F(MemoryLimiterTest, StartSamplesAtOnce) {
  Build(100, 80);
  usage_ = 90 * kMib;
  ASSERT_TRUE(limiter_->Start().ok());
  EXPECT_TRUE(limiter_->refusing());
  limiter_->Shutdown();
}

TEST_F(MemoryLimiterTest, LimitsFromMib) {
  MemoryLimiterSettings s;
  s.limit_mib = 1000;
  s.spike_limit_mib = 300;
  MemoryLimits l = ComputeMemoryLimits(s, 0);
  EXPECT_EQ(l.hard, 1000 * kMib);
  EXPECT_EQ(l.soft, 700 * kMib);
  s.spike_limit_mib = 0;  // default: 20% of the limit
  l = ComputeMemoryLimits(s, 0);
  EXPECT_EQ(l.soft, 800 * kMib);
}

TEST_F(MemoryLimiterTest, LimitsFromPercentages) {
  MemoryLimiterSettings s;
  s.limit_percentage = 80;
  s.spike_limit_percentage = 25;
  const uint64_t total = 4000 * kMib;
  MemoryLimits l = ComputeMemoryLimits(s, total);
  EXPECT_EQ(l.hard, 3200 * kMib);
  EXPECT_EQ(l.soft, 2200 * kMib);
  s.spike_limit_percentage = 0;  // default: 20% of the limit, 640 MiB
  l = ComputeMemoryLimits(s, total);
  EXPECT_EQ(l.soft, 2560 * kMib);
}

// 20% of a limit that is not a multiple of five percent must not be rounded down to a
// whole percentage of the machine (12% of 10 GiB: the spike is 2.4%, not 2%).
TEST_F(MemoryLimiterTest, DefaultSpikeIsAFifthOfAPercentageLimit) {
  MemoryLimiterSettings s;
  s.limit_percentage = 12;
  const uint64_t total = 10000 * kMib;
  const MemoryLimits l = ComputeMemoryLimits(s, total);
  EXPECT_EQ(l.hard, 1200 * kMib);
  EXPECT_EQ(l.soft, 960 * kMib);
}

TEST_F(MemoryLimiterTest, ValidationErrors) {
  const auto& factory = static_cast<const ProcessorFactory&>(
      *BuiltinComponents().Find(ComponentKind::kProcessor, "memory_limiter"));
  testutil::ExpectParseErrors(
      factory,
      {
          {"limit_mib: 100\n", "check_interval"},
          {"check_interval: 0\nlimit_mib: 100\n", "check_interval"},
          {"check_interval: 1s\n", "limit_mib or limit_percentage"},
          {"check_interval: 1s\nlimit_mib: 100\nlimit_percentage: 50\n", "only one"},
          {"check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 100\n", "spike_limit_mib"},
          {"check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 150\n", "spike_limit_mib"},
          {"check_interval: 1s\nlimit_percentage: 50\nspike_limit_percentage: 50\n",
           "spike_limit_percentage"},
          {"check_interval: 1s\nlimit_percentage: 150\n", "between 0 and 100"},
          {"check_interval: 1s\nlimit_mib: 100\nballast_size_mib: 10\n", "unknown key"},
      });
  EXPECT_TRUE(testutil::ParseSettings(factory,
                                      "check_interval: 1s\nlimit_percentage: 75\n"
                                      "spike_limit_percentage: 15\n")
                  .ok());
}

}  // namespace
}  // namespace strand::pipeline
