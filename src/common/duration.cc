#include "common/duration.h"

#include <limits>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace strand {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// One decimal number: `whole` plus `fraction / scale` (fraction < scale).
struct Number {
  int64_t whole = 0;
  int64_t fraction = 0;
  int64_t scale = 1;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Consumes digits with an optional fraction ("5", "1.5", ".5", "5."), at least one digit.
// Fraction digits past 18 are read but dropped; a whole part past int64 is refused.
std::optional<Number> ConsumeNumber(std::string_view& s) {
  Number n;
  size_t i = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    const int digit = s[i] - '0';
    if (n.whole > (kMaxInt64 - digit) / 10) return std::nullopt;
    n.whole = n.whole * 10 + digit;
  }
  const bool has_whole = i > 0;
  bool has_fraction = false;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && IsDigit(s[i]); ++i) {
      has_fraction = true;
      if (n.scale <= kMaxInt64 / 10) {
        n.fraction = n.fraction * 10 + (s[i] - '0');
        n.scale *= 10;
      }
    }
  }
  if (!has_whole && !has_fraction) return std::nullopt;
  s.remove_prefix(i);
  return n;
}

std::optional<absl::Duration> UnitOf(std::string_view unit, const DurationSyntax& syntax) {
  if (unit == "ns") return absl::Nanoseconds(1);
  if (unit == "us" || (syntax.micro_sign && unit == "\xC2\xB5s")) return absl::Microseconds(1);
  if (unit == "ms") return absl::Milliseconds(1);
  if (unit == "s") return absl::Seconds(1);
  if (unit == "m") return absl::Minutes(1);
  if (unit == "h") return absl::Hours(1);
  if (syntax.days && unit == "d") return absl::Hours(24);
  return std::nullopt;
}

absl::Status Invalid(std::string_view text, const DurationSyntax& syntax) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid duration \"", std::string(text),
                   "\" (want a number and a unit: ns, us, ", syntax.micro_sign ? "\xC2\xB5s, " : "",
                   "ms, s, m, h", syntax.days ? ", d; e.g. 10s, 14d)" : "; e.g. 5s)"));
}

}  // namespace

absl::StatusOr<int64_t> ParseDuration(std::string_view text, const DurationSyntax& syntax) {
  std::string_view s = text;
  int64_t sign = 1;
  if (syntax.sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (s[0] == '-') sign = -1;
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return Invalid(text, syntax);
  absl::Duration total;
  bool first = true;
  while (!s.empty()) {
    const std::optional<Number> n = ConsumeNumber(s);
    if (!n) return Invalid(text, syntax);
    const std::string_view unit = s.substr(0, s.find_first_of("0123456789."));
    s.remove_prefix(unit.size());
    const std::optional<absl::Duration> u = UnitOf(unit, syntax);
    if (!u || (unit == "d" && (!first || !s.empty()))) return Invalid(text, syntax);
    // Exact arithmetic; a sum past absl::Duration's range (int64 seconds) is infinite.
    total += sign * n->whole * *u;
    total += sign * n->fraction * *u / n->scale;
    first = false;
  }
  if (total < absl::ZeroDuration() || total == absl::InfiniteDuration()) {
    return Invalid(text, syntax);
  }
  if (!syntax.saturate && total > absl::Nanoseconds(kMaxInt64)) return Invalid(text, syntax);
  return absl::ToInt64Nanoseconds(total);  // saturates
}

}  // namespace strand
