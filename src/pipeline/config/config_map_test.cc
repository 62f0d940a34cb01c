#include "pipeline/config/config_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace strand::pipeline {
namespace {

// Reads `text` as the duration setting `d` of the map `x`.
absl::StatusOr<int64_t> Duration(const std::string& text) {
  ConfigMap m(YAML::Load(absl::StrCat("d: '", text, "'")), "x");
  int64_t nanos = -1;
  m.ReadDuration("d", nanos);
  if (auto s = m.Finish(); !s.ok()) return s;
  return nanos;
}

// The syntax of every collector duration (common/duration.h with a sign, without days).
TEST(ConfigMapTest, DurationSyntax) {
  constexpr int64_t kSecond = 1'000'000'000;
  const std::pair<const char*, int64_t> accepted[] = {
      {"0", 0},
      {"5s", 5 * kSecond},
      {"1m30s", 90 * kSecond},
      {"200ms", 200'000'000},
      {"3us", 3'000},
      {"7ns", 7},
      {"1.5h", 5400 * kSecond},
      {".5s", kSecond / 2},
      {"5.s", 5 * kSecond},
      {"+5s", 5 * kSecond},
      {"-0s", 0},
      {"-0", 0},
      {"1000000h", 3'600'000'000 * kSecond},
      // Past the int64 nanosecond range (~292 years): the largest duration.
      {"3000000h", std::numeric_limits<int64_t>::max()},
  };
  for (const auto& [text, nanos] : accepted) {
    auto d = Duration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status();
    EXPECT_EQ(*d, nanos) << text;
  }
  for (const char* text : {"", "5", "00", "14d", "1d12h", "-5s", "-", "5x", "5S", "5 s", "1e3s",
                           "1..5s", ".s", "inf", "+inf", "5\xC2\xB5s", "ten seconds"}) {
    auto d = Duration(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_NE(
        d.status().message().find(absl::StrCat("x::d (line 1): invalid duration \"", text, "\"")),
        std::string::npos)
        << d.status();
  }
  EXPECT_EQ(Duration("14d").status().message(),
            "x::d (line 1): invalid duration \"14d\" (want a number and a unit: ns, us, ms, s, "
            "m, h; e.g. 5s)");
  ConfigMap list(YAML::Load("d: [5s]"), "x");
  int64_t nanos = 0;
  list.ReadDuration("d", nanos);
  EXPECT_EQ(list.Finish().message(), "x::d (line 1): must be a duration");
}

// Booleans and integers take every spelling yaml-cpp took for the strand: section, which
// was read with yaml-cpp's conversions before this reader.
TEST(ConfigMapTest, ScalarSyntax) {
  ConfigMap m(YAML::Load("a: on\nb: OFF\nc: yes\nd: 1\ne: 0x10\nf: '010'\ng: 0X1f\n"), "x");
  bool a = false, b = true, c = false, d = false;
  uint64_t e = 0;
  int64_t f = 0;
  int g = 0;
  m.Read("a", a);
  m.Read("b", b);
  m.Read("c", c);
  m.Read("d", d);
  m.Read("e", e);
  m.Read("f", f);
  m.Read("g", g);
  ASSERT_TRUE(m.Finish().ok()) << m.status();
  EXPECT_TRUE(a);
  EXPECT_FALSE(b);
  EXPECT_TRUE(c);
  EXPECT_TRUE(d);
  EXPECT_EQ(e, 16u);
  EXPECT_EQ(f, 10);
  EXPECT_EQ(g, 31);
  for (const char* bad : {"maybe", "0x", "0xg", "1e3", "5.0", "-0x1"}) {
    ConfigMap n(YAML::Load(absl::StrCat("v: '", bad, "'")), "x");
    uint64_t v = 0;
    n.Read("v", v);
    EXPECT_FALSE(n.Finish().ok()) << bad;
  }
}

}  // namespace
}  // namespace strand::pipeline
