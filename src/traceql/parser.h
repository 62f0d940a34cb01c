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

// Parentheses, unary operators, `^` operands and nested pipelines may nest this deep;
// deeper queries are refused with a parse error (this bounds the parser's recursion).
inline constexpr int kMaxNestingDepth = 200;

// Syntax trees may be at most this tall (long chains such as `a || b || ...` count), so
// recursive walks of a tree (ToString, destruction, the executor) stay within the stack.
inline constexpr int kMaxTreeHeight = 1000;

absl::StatusOr<Query> Parse(std::string_view text);

}  // namespace strand::traceql
