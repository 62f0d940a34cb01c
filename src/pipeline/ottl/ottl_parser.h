// The OTTL condition parser: the text of one filter-processor condition to a syntax tree
// (ottl_ast.h), for the span and spanevent contexts.
//
// The accepted language (docs/collector/filter.md): comparisons (== != < <= > >=) of
// values, joined with `and`, `or`, negated with `not`, grouped with parentheses; values
// are literals (string, int, float, bool, nil, 0x bytes), enums (SPAN_KIND_*,
// STATUS_CODE_*), paths of the context (`name`, `attributes["k"]`, `span.kind`,
// `resource.attributes["k"]`, ...) and the converters IsMatch, TraceID and SpanID.
// Errors are InvalidArgument `at column C: <reason>`; what OTTL has but Strand does not
// (other functions, math, lists, maps, cache) says "not supported: ...".
//
// Stateless and thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "pipeline/ottl/ottl_ast.h"

namespace strand::pipeline::ottl {

// Conditions longer than this are refused.
inline constexpr size_t kMaxConditionBytes = 16 * 1024;

absl::StatusOr<std::unique_ptr<Expr>> ParseCondition(std::string_view text, Context context);

}  // namespace strand::pipeline::ottl
