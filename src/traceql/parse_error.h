// The one error form of the TraceQL lexer, parser and validator, and a string helper:
//   InvalidArgument "parse error at line <L>, column <C>: <reason>".
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "traceql/ast.h"

namespace strand::traceql {

// Debian's Abseil has its own string_view: this views a std::string_view for absl::StrCat.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

inline absl::Status ParseErrorAt(const Pos& pos, std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("parse error at line ", pos.line, ", column ", pos.column, ": ", Sv(reason)));
}

}  // namespace strand::traceql
