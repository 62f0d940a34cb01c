#include "loadgen/latency_histogram.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace strand::loadgen {
namespace {

TEST(LatencyHistogramTest, BucketsHoldTheirValuesWithinOneSixtyFourth) {
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 129ULL, 1000ULL, 123456789ULL, 60'000'000'000ULL,
                     (1ULL << 62) + 12345}) {
    const int b = LatencyHistogram::BucketOf(v);
    EXPECT_GE(LatencyHistogram::BucketUpperBound(b), v);
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::BucketUpperBound(b - 1), v);
    }
    EXPECT_LE(LatencyHistogram::BucketUpperBound(b) - v, v / 64 + 1);
  }
}

TEST(LatencyHistogramTest, PercentilesOfAUniformSpread) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);  // 1 µs .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000);
  EXPECT_EQ(h.max(), 100'000'000);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 50e6, 50e6 / 64);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.99)), 99e6, 99e6 / 64);
  EXPECT_EQ(h.Percentile(1.0), 100'000'000);
  EXPECT_NEAR(h.mean(), 50.0005e6, 1);
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.Record(10);
  b.Record(5'000'000);
  b.Record(7);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), 7);
  EXPECT_EQ(a.max(), 5'000'000);
  EXPECT_EQ(a.Percentile(0.5), 10);
}

}  // namespace
}  // namespace strand::loadgen
