// Static checks of a parsed TraceQL query: operand types and regular expressions.
//
// Types: literals and intrinsics have known types; attributes are of unknown type and go
// with anything. int, float and duration are numeric and mix freely; strings go with
// strings, bools with bools, status and kind only with their literals; nil may be compared
// with = and != against anything. Regular expressions must be string literals that RE2
// compiles. A spanset filter's expression must be boolean. Errors are parse errors
// (parse_error.h) at the offending node. Stateless and thread-safe.
#pragma once

#include "absl/status/status.h"
#include "traceql/ast.h"

namespace strand::traceql {

absl::Status Validate(const Query& query);

}  // namespace strand::traceql
