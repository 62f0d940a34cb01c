#include "common/hex.h"

#include <gtest/gtest.h>

namespace strand {
namespace {

TEST(HexTest, RoundTripAndCaseInsensitive) {
  std::string bytes("\x01\xab\xff\x00", 4);
  EXPECT_EQ(HexEncode(bytes), "01abff00");
  EXPECT_EQ(HexDecode("01ABFF00").value(), bytes);
}

TEST(HexTest, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(HexTest, Base64AcceptsStandardAndUrlSafe) {
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff", 2)), "+/8=");
  EXPECT_EQ(Base64Decode("+/8=").value(), std::string("\xfb\xff", 2));
  EXPECT_EQ(Base64Decode("-_8").value(), std::string("\xfb\xff", 2));
  EXPECT_FALSE(Base64Decode("!!!").has_value());
}

}  // namespace
}  // namespace strand
