// OttlCondition: one compiled OTTL boolean condition of the filter processor, evaluated
// against a span (span context) or a span event (spanevent context) of a SpanBatch.
//
// Comparison semantics follow OTTL's rules: ints compare as int64, an int with a float
// as float64, strings and byte slices byte by byte, false < true; values of different
// types are "not equal" (only != holds); nil equals only nil (and a missing attribute is
// nil); maps and slices support only == and != (deep equality). IsMatch is an unanchored
// RE2 search; a nil target never matches, other targets are converted to strings (ints
// and floats in decimal, bools as true/false, bytes in base64).
//
// Evaluation errors (rare: indexing a value that is not a map or list, an out-of-range
// list index, IsMatch on a map or list) are returned as InvalidArgument; the caller's
// error_mode decides what they mean.
//
// Immutable after Parse; Evaluate() is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/span_batch.h"
#include "pipeline/ottl/ottl_ast.h"

namespace strand::pipeline {

class OttlCondition {
 public:
  // Parses and compiles `text`; errors are InvalidArgument `at column C: <reason>`.
  static absl::StatusOr<std::unique_ptr<OttlCondition>> Parse(std::string_view text,
                                                              ottl::Context context);
  ~OttlCondition();

  // Whether span `span` of `batch` matches; in the spanevent context, `event` indexes
  // batch.events (an event of that span).
  absl::StatusOr<bool> Evaluate(const otlp::SpanBatch& batch, uint32_t span,
                                uint32_t event = 0) const;

  const std::string& text() const { return text_; }
  ottl::Context context() const { return context_; }

 private:
  OttlCondition(std::string text, ottl::Context context, std::unique_ptr<ottl::Expr> root);

  std::string text_;
  ottl::Context context_;
  std::unique_ptr<ottl::Expr> root_;
};

}  // namespace strand::pipeline
