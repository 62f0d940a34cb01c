// The TraceQL parser: query text to a validated AST (ast.h).
//
// Errors are InvalidArgument with a message of the form
//   parse error at line 1, column 14: expected a value after "=", got "}"
// (1-based line and column of the offending token), so the API can answer 400 with it.
// Validation after parsing (operand types: numbers with numbers, strings with strings,
// status with status literals, ...) reports errors in the same form.
//
// Stateless and thread-safe.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "traceql/ast.h"

namespace strand::traceql {

// Queries longer than this are refused (InvalidArgument) before parsing.
inline constexpr size_t kMaxQueryBytes = 64 * 1024;

absl::StatusOr<Query> Parse(std::string_view text);

}  // namespace strand::traceql
