#include "block/bloom_filter.h"

#include <random>

#include "gtest/gtest.h"

namespace strand::block {
namespace {

otlp::TraceId RandomId(std::mt19937_64& rng) {
  otlp::TraceId id;
  for (auto& b : id) b = static_cast<uint8_t>(rng());
  return id;
}

TEST(BloomFilterTest, AddedIdsAreAlwaysFound) {
  std::mt19937_64 rng(1);
  std::vector<otlp::TraceId> ids;
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 5000; ++i) {
    ids.push_back(RandomId(rng));
    hashes.push_back(BloomFilter::HashTraceId(ids.back()));
  }
  const BloomFilter filter = BloomFilter::Build(hashes, 0.01);
  for (const otlp::TraceId& id : ids) EXPECT_TRUE(filter.MayContain(id));
}

TEST(BloomFilterTest, FalsePositiveRateIsNearTheTarget) {
  std::mt19937_64 rng(2);
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 20000; ++i) hashes.push_back(BloomFilter::HashTraceId(RandomId(rng)));
  const BloomFilter filter = BloomFilter::Build(hashes, 0.01);
  EXPECT_EQ(filter.num_hashes(), 7u);
  EXPECT_LT(filter.num_bits(), 20000u * 10);  // about 9.6 bits per ID
  int positives = 0;
  for (int i = 0; i < 100000; ++i) positives += filter.MayContain(RandomId(rng)) ? 1 : 0;
  EXPECT_GT(positives, 500);
  EXPECT_LT(positives, 1500);
}

TEST(BloomFilterTest, EmptyFilterFindsNothing) {
  const BloomFilter filter = BloomFilter::Build({}, 0.01);
  std::mt19937_64 rng(3);
  EXPECT_FALSE(filter.MayContain(RandomId(rng)));
  EXPECT_EQ(filter.num_bits(), 64u);
}

TEST(BloomFilterTest, SerializedFormParsesBack) {
  std::mt19937_64 rng(4);
  std::vector<otlp::TraceId> ids;
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(RandomId(rng));
    hashes.push_back(BloomFilter::HashTraceId(ids.back()));
  }
  const BloomFilter built = BloomFilter::Build(hashes, 0.01);
  std::optional<BloomFilter> parsed = BloomFilter::Parse(built.num_hashes(), built.bits());
  ASSERT_TRUE(parsed.has_value());
  for (const otlp::TraceId& id : ids) EXPECT_TRUE(parsed->MayContain(id));
}

TEST(BloomFilterTest, ParseRejectsImpossibleShapes) {
  EXPECT_FALSE(BloomFilter::Parse(0, std::string(8, '\0')).has_value());
  EXPECT_FALSE(BloomFilter::Parse(33, std::string(8, '\0')).has_value());
  EXPECT_FALSE(BloomFilter::Parse(7, "").has_value());
  EXPECT_FALSE(BloomFilter::Parse(7, std::string(9, '\0')).has_value());
}

}  // namespace
}  // namespace strand::block
