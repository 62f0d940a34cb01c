// ParseDuration: the one parser of durations written as text, for the YAML configuration
// (strand.* and the collector's settings) and the Tempo API's query parameters.
//
// A duration is "0" or a sequence of decimal numbers, each with a unit, Go-style: "10s",
// "1.5h", "1h30m", "250ms", ".5s". Units: ns, us, ms, s, m, h; the syntax options below
// add the others. Negative durations are always refused. Thread-safe (a pure function).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace strand {

// What a caller accepts beyond the common syntax. Each caller keeps the syntax it has
// always had, so each is set where it is used.
struct DurationSyntax {
  // A leading '+' or '-' is read ("+5s", "-0s"); the result must still not be negative.
  bool sign = false;
  // "µs" (U+00B5, as Go prints microseconds) as well as "us".
  bool micro_sign = false;
  // Days: "14d", "1.5d", on their own (not combined: "1d12h" is refused).
  bool days = false;
  // A duration past the int64 nanosecond range (~292 years) becomes the largest int64
  // instead of an error.
  bool saturate = false;
};

// Nanoseconds, or InvalidArgument `invalid duration "<text>" (want a number and a unit:
// <the units `syntax` accepts>; e.g. ...)` for which callers add where the text came from.
absl::StatusOr<int64_t> ParseDuration(std::string_view text, const DurationSyntax& syntax);

}  // namespace strand
