#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "common/clock.h"
#include "common/metrics.h"
#include "overrides/overrides.h"
#include "overrides/rate_limiter.h"

namespace strand::overrides {
namespace {

using std::chrono::seconds;

constexpr int64_t kHour = 3600ll * 1'000'000'000;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/overrides-" + std::to_string(getpid()) + "-" + name;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

TEST(OverridesFileTest, GroupedTempoKeysApplyOverDefaults) {
  Limits defaults;
  defaults.max_traces_per_user = 500;
  auto parsed = ParseOverridesFile(R"(
overrides:
  team-a:
    ingestion:
      rate_limit_bytes: 1000
      burst_size_bytes: 2000
      max_traces_per_user: 10
    global:
      max_bytes_per_trace: 5000
    read:
      max_search_duration: 1h
      max_bytes_per_tag_values_query: 300
    compaction:
      block_retention: 48h
)",
                                   defaults);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Limits& a = parsed->For("team-a", defaults);
  EXPECT_EQ(a.ingestion_rate_limit_bytes, 1000u);
  EXPECT_EQ(a.ingestion_burst_size_bytes, 2000u);
  EXPECT_EQ(a.max_traces_per_user, 10u);
  EXPECT_EQ(a.max_bytes_per_trace, 5000u);
  EXPECT_EQ(a.max_search_duration_nanos, kHour);
  EXPECT_EQ(a.max_bytes_per_tag_values_query, 300u);
  EXPECT_EQ(a.block_retention_nanos, 48 * kHour);
  EXPECT_EQ(parsed->For("team-b", defaults), defaults);
}

TEST(OverridesFileTest, LegacyFlatKeysAndWildcard) {
  auto parsed = ParseOverridesFile(R"(
overrides:
  "*":
    ingestion_rate_limit_bytes: 10
    max_bytes_per_trace: 20
  big:
    max_traces_per_user: 0
    max_global_traces_per_user: 7
    block_retention: 336h
    max_search_duration: 0
)",
                                   Limits{});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Limits& other = parsed->For("anyone", Limits{});
  EXPECT_EQ(other.ingestion_rate_limit_bytes, 10u);
  EXPECT_EQ(other.max_bytes_per_trace, 20u);
  const Limits& big = parsed->For("big", Limits{});
  EXPECT_EQ(big.ingestion_rate_limit_bytes, 0u);  // a named tenant does not inherit "*"
  EXPECT_EQ(big.max_traces_per_user, 7u);
  EXPECT_EQ(big.block_retention_nanos, 336 * kHour);
  EXPECT_EQ(big.max_search_duration_nanos, 0);
}

TEST(OverridesFileTest, UnknownKeysAreErrorsNamingThem) {
  auto bad = ParseOverridesFile("overrides:\n  t:\n    ingestion:\n      rate_limit: 5\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("overrides::t::ingestion::rate_limit"), std::string::npos)
      << bad.status();
  bad = ParseOverridesFile("overrides:\n  t:\n    max_spans_per_trace: 5\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("max_spans_per_trace"), std::string::npos);
  bad = ParseOverridesFile("limits:\n  t: {}\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown key limits"), std::string::npos);
  bad = ParseOverridesFile("overrides:\n  t:\n    read:\n      max_search_duration: soon\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("invalid duration"), std::string::npos);
  bad = ParseOverridesFile("overrides:\n  t:\n    ingestion:\n      burst_size_bytes: 5\n", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("without rate_limit_bytes"), std::string::npos);
}

TEST(OverridesTest, FileIsReadAgainAfterThePeriodAndABadFileKeepsTheLastGood) {
  FakeClock clock;
  MetricsRegistry metrics;
  const std::string path = TempPath("reload.yaml");
  WriteFile(path, "overrides:\n  a:\n    global:\n      max_bytes_per_trace: 100\n");
  OverridesConfig config;
  config.per_tenant_override_config = path;
  config.per_tenant_override_period_nanos = 10'000'000'000;
  auto o = Overrides::Open(config, clock, &metrics);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ((*o)->For("a").max_bytes_per_trace, 100u);

  WriteFile(path, "overrides:\n  a:\n    global:\n      max_bytes_per_trace: 250000\n");
  EXPECT_EQ((*o)->For("a").max_bytes_per_trace, 100u);  // the period has not passed
  clock.Advance(seconds(11));
  EXPECT_EQ((*o)->For("a").max_bytes_per_trace, 250000u);

  WriteFile(path, "overrides:\n  a:\n    global:\n      max_bytes_per_trace: lots\n");
  clock.Advance(seconds(11));
  EXPECT_EQ((*o)->For("a").max_bytes_per_trace, 250000u);  // kept
  const std::string text = metrics.RenderText();
  EXPECT_NE(text.find("strand_overrides_reloads_total{result=\"failure\"} 1"), std::string::npos)
      << text;
  EXPECT_FALSE((*o)->Reload().ok());
  std::remove(path.c_str());
}

TEST(OverridesTest, ABadFileAtStartFailsOpen) {
  FakeClock clock;
  const std::string path = TempPath("bad.yaml");
  WriteFile(path, "overrides:\n  a:\n    nonsense: 1\n");
  OverridesConfig config;
  config.per_tenant_override_config = path;
  auto o = Overrides::Open(config, clock, nullptr);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("nonsense"), std::string::npos) << o.status();
  EXPECT_NE(o.status().message().find(path), std::string::npos) << o.status();
  config.per_tenant_override_config = TempPath("missing.yaml");
  EXPECT_FALSE(Overrides::Open(config, clock, nullptr).ok());
  std::remove(path.c_str());
}

TEST(RateLimiterTest, BurstThenRefillAtTheRate) {
  FakeClock clock;
  RateLimiter limiter(clock);
  Limits limits;
  limits.ingestion_rate_limit_bytes = 100;
  limits.ingestion_burst_size_bytes = 300;
  EXPECT_TRUE(limiter.Take("t", 200, limits).ok());
  EXPECT_TRUE(limiter.Take("t", 100, limits).ok());
  absl::Status refused = limiter.Take("t", 50, limits);
  EXPECT_TRUE(absl::IsResourceExhausted(refused));
  EXPECT_NE(refused.message().find("rate_limit_bytes=100"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find("tenant t"), std::string::npos) << refused;
  EXPECT_TRUE(limiter.Take("other", 300, limits).ok());  // buckets are per tenant
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_TRUE(limiter.Take("t", 50, limits).ok());
  EXPECT_FALSE(limiter.Take("t", 10, limits).ok());
  clock.Advance(seconds(100));  // refills up to the burst, no further
  EXPECT_FALSE(limiter.Take("t", 301, limits).ok());
  EXPECT_TRUE(limiter.Take("t", 300, limits).ok());
  EXPECT_TRUE(limiter.Take("t", 1'000'000, Limits{}).ok());  // no rate limit
  EXPECT_EQ(RateLimiter::RetryAfterSeconds(250, limits), 3);
}

}  // namespace
}  // namespace strand::overrides
