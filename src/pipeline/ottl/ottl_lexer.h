// The OTTL lexer: a condition's text to tokens with their columns (for ottl_parser.cc).
// Strings are decoded (escapes \" \\ \n \t \r; other backslashes are kept), `0x` byte
// literals are decoded to bytes. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/ottl/ottl_ast.h"

namespace strand::pipeline::ottl {

enum class Tok {
  kEnd,
  kIdent,
  kString,
  kInt,
  kFloat,
  kBytes,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kComma,
  kDot,
  kCompare,  // == != < <= > >=
  kMath,     // + - * /
  kAssign,   // a single =
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // as written; for kString and kBytes the decoded value
  uint32_t column = 1;
  size_t offset = 0;  // byte offset in the text
  size_t end = 0;     // byte offset just past the token
  Op op = Op::kEq;
};

// The error form of the OTTL parser: InvalidArgument `at column C: <message>`.
absl::Status ErrorAt(uint32_t column, std::string_view message);

// The tokens of `text`, ending with one kEnd token; a lexical error is returned.
absl::StatusOr<std::vector<Token>> Lex(std::string_view text);

}  // namespace strand::pipeline::ottl
