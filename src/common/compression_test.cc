#include "common/compression.h"

#include <gtest/gtest.h>

namespace strand {
namespace {

std::string Sample() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "span-" + std::to_string(i) + ";";
  return s;
}

TEST(CompressionTest, EveryEncodingRoundTrips) {
  for (std::string enc : {"gzip", "deflate", "snappy", "zstd"}) {
    auto c = Compress(enc, Sample());
    ASSERT_TRUE(c.ok()) << enc;
    auto d = Decompress(enc, std::move(*c), 1 << 20);
    ASSERT_TRUE(d.ok()) << enc << ": " << d.status();
    EXPECT_EQ(*d, Sample());
  }
}

TEST(CompressionTest, GzipLevelsTradeSizeForSpeed) {
  auto fast = Compress("gzip", Sample(), 1);
  auto small = Compress("gzip", Sample(), 9);
  ASSERT_TRUE(fast.ok() && small.ok());
  EXPECT_LE(small->size(), fast->size());
  for (auto* c : {&*fast, &*small}) {
    auto d = Decompress("gzip", std::string(*c), 1 << 20);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(*d, Sample());
  }
}

TEST(CompressionTest, IdentityPassesThrough) {
  auto d = Decompress("", "abc", 10);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "abc");
}

TEST(CompressionTest, UnknownEncodingIsInvalidArgument) {
  auto d = Decompress("br", "abc", 10);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("unsupported Content-Encoding"), std::string::npos);
}

TEST(CompressionTest, CorruptGzipIsInvalidArgument) {
  auto c = Compress("gzip", Sample());
  ASSERT_TRUE(c.ok());
  std::string truncated = c->substr(0, c->size() / 2);
  EXPECT_EQ(Decompress("gzip", std::move(truncated), 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("gzip", "not gzip at all", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress("zstd", "not zstd at all", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompressionTest, ExpansionBeyondLimitIsResourceExhausted) {
  std::string zeros(10 << 20, '\0');
  for (std::string enc : {"gzip", "zstd"}) {
    auto c = Compress(enc, zeros);
    ASSERT_TRUE(c.ok());
    auto d = Decompress(enc, std::move(*c), 1 << 20);
    ASSERT_FALSE(d.ok()) << enc;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted) << enc;
  }
}

}  // namespace
}  // namespace strand
