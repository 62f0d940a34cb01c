#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace strand {
namespace {

TEST(CodingTest, VarintRoundTripsAcrossWidths) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                     uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    PutVarint64(&s, v);
    EXPECT_EQ(static_cast<int>(s.size()), VarintLength(v));
    uint64_t out = 0;
    const char* end = GetVarint64Ptr(s.data(), s.data() + s.size(), &out);
    ASSERT_NE(end, nullptr);
    EXPECT_EQ(end, s.data() + s.size());
    EXPECT_EQ(out, v);
  }
}

TEST(CodingTest, TruncatedVarintIsRejected) {
  std::string s;
  PutVarint64(&s, uint64_t{1} << 40);
  uint64_t out;
  EXPECT_EQ(GetVarint64Ptr(s.data(), s.data() + s.size() - 1, &out), nullptr);
}

TEST(CodingTest, OverlongVarintIsRejected) {
  std::string s(11, '\xff');
  uint64_t out;
  EXPECT_EQ(GetVarint64Ptr(s.data(), s.data() + s.size(), &out), nullptr);
}

TEST(CodingTest, FixedRoundTrip) {
  std::string s;
  PutFixed32(&s, 0xdeadbeef);
  PutFixed64(&s, 0x0123456789abcdefULL);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(DecodeFixed32(s.data()), 0xdeadbeefu);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0123456789abcdefULL);
}

}  // namespace
}  // namespace strand
