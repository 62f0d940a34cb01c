#include "common/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace strand {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(DurationTest, NumbersWithUnitsGoStyle) {
  const std::pair<const char*, int64_t> accepted[] = {
      {"0", 0},
      {"7ns", 7},
      {"3us", 3'000},
      {"250ms", 250'000'000},
      {"10s", 10 * kSecond},
      {"2m", 120 * kSecond},
      {"1h30m", 5400 * kSecond},
      {"2h45m30s", 9930 * kSecond},
      {"1.5h", 5400 * kSecond},
      {"1.1s", 1'100'000'000},
      {".5s", kSecond / 2},
      {"5.s", 5 * kSecond},
      {"1s1s", 2 * kSecond},
      {"0s", 0},
      {"0.0s", 0},
      {"00000000000000000000001s", kSecond},
      {"0.0000000000000000000000001s", 0},  // fraction digits past 18 are dropped
      {"1000000h", 3'600'000'000 * kSecond},
  };
  for (const auto& [text, nanos] : accepted) {
    auto d = ParseDuration(text, {});
    ASSERT_TRUE(d.ok()) << text << ": " << d.status();
    EXPECT_EQ(*d, nanos) << text;
  }
}

TEST(DurationTest, RefusesWhatIsNotANumberAndAUnit) {
  for (const char* text : {"", "5", "00", "s", ".", ".s", "1..5s", "1.5.5s", "5x", "5S", "5 s",
                           " 5s", "5s ", "1e3s", "5sec", "inf", "+5s", "-5s", "-0", "14d",
                           "5\xC2\xB5s", "99999999999999999999ns", "3000000h"}) {
    auto d = ParseDuration(text, {});
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ParseDuration("5x", {}).status().message(),
            "invalid duration \"5x\" (want a number and a unit: ns, us, ms, s, m, h; e.g. 5s)");
}

TEST(DurationTest, SignIsReadButNegativesAreRefused) {
  const DurationSyntax signed_syntax{.sign = true};
  EXPECT_EQ(*ParseDuration("+5s", signed_syntax), 5 * kSecond);
  EXPECT_EQ(*ParseDuration("-0s", signed_syntax), 0);
  EXPECT_EQ(*ParseDuration("-0", signed_syntax), 0);
  EXPECT_EQ(*ParseDuration("+0", signed_syntax), 0);
  for (const char* text : {"-5s", "-1ns", "-", "+", "+-5s", "--5s", "-inf", "+inf"}) {
    EXPECT_FALSE(ParseDuration(text, signed_syntax).ok()) << text;
  }
}

TEST(DurationTest, MicroSignIsAnOption) {
  const DurationSyntax go{.micro_sign = true};
  EXPECT_EQ(*ParseDuration("300\xC2\xB5s", go), 300'000);  // U+00B5 MICRO SIGN
  EXPECT_EQ(*ParseDuration("1ms300\xC2\xB5s", go), 1'300'000);
  EXPECT_FALSE(ParseDuration("300\xCE\xBCs", go).ok());  // U+03BC GREEK SMALL LETTER MU
  EXPECT_FALSE(ParseDuration("\xC2\xB5s", go).ok());
  EXPECT_EQ(ParseDuration("5x", go).status().message(),
            "invalid duration \"5x\" (want a number and a unit: ns, us, \xC2\xB5s, ms, s, m, h; "
            "e.g. 5s)");
}

TEST(DurationTest, DaysStandAlone) {
  const DurationSyntax days{.days = true};
  EXPECT_EQ(*ParseDuration("14d", days), 14 * 86400 * kSecond);
  EXPECT_EQ(*ParseDuration("1.5d", days), 129600 * kSecond);
  EXPECT_EQ(*ParseDuration("0.1d", days), 8640 * kSecond);
  EXPECT_EQ(*ParseDuration("10s", days), 10 * kSecond);
  for (const char* text : {"d", "1d12h", "12h1d", "1d1d", "1e3d", "5 d", "infd", "nand"}) {
    EXPECT_FALSE(ParseDuration(text, days).ok()) << text;
  }
  EXPECT_EQ(ParseDuration("1d12h", days).status().message(),
            "invalid duration \"1d12h\" (want a number and a unit: ns, us, ms, s, m, h, d; e.g. "
            "10s, 14d)");
}

TEST(DurationTest, PastTheInt64RangeSaturatesOrIsRefused) {
  const DurationSyntax saturate{.saturate = true};
  EXPECT_EQ(*ParseDuration("3000000h", saturate), kMax);
  EXPECT_EQ(*ParseDuration("9223372036854775807ns", saturate), kMax);
  EXPECT_EQ(*ParseDuration("9223372036854775807ns", {}), kMax);
  EXPECT_FALSE(ParseDuration("9223372036854775807ns1ns", {}).ok());
  EXPECT_EQ(*ParseDuration("9223372036854775807ns1ns", saturate), kMax);
  // Past absl::Duration's own range (int64 seconds) nothing is accepted.
  EXPECT_FALSE(ParseDuration("9223372036854775807h", saturate).ok());
  EXPECT_EQ(*ParseDuration("1000000000000d", DurationSyntax{.days = true, .saturate = true}), kMax);
}

}  // namespace
}  // namespace strand
