// The TraceQL lexer: query text to tokens with positions (1-based line and column, columns
// counted in characters; byte offsets from 0).
//
// Attributes are single tokens: `span.http.url`, `.foo`, `resource."a b"`. A name runs until
// whitespace or one of `{ } ( ) = ~ ! < > & | ^ ,`; quoted parts (`"..."`, escapes \" and \\)
// may contain anything. Intrinsics (`duration`, `span:id`, ...), status and kind literals are
// single tokens too. Numbers followed by a unit are durations (`10ms`, `1.5s`, `1h30m`).
//
// Tokenize never fails: a lexical error becomes a final kError token carrying the message,
// so the parser reports the first error in text order. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "traceql/ast.h"

namespace strand::traceql {

enum class TokenKind {
  kEnd,    // end of query
  kError,  // a lexical error; `text` is the message
  // values
  kString,
  kInt,
  kFloat,
  kDuration,
  kTrue,
  kFalse,
  kNil,
  kStatus,  // ok error unset
  kKind,    // unspecified internal server client producer consumer
  kAttribute,
  kIntrinsic,
  kIdentifier,  // any other word (hint names)
  // keywords
  kBy,
  kSelect,
  kCoalesce,
  kWith,
  kAggregate,    // count avg min max sum
  kMetricsFn,    // rate count_over_time ... compare
  kSecondStage,  // topk bottomk
  // punctuation
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kComma,
  kPipe,
  // operators
  kEq,        // =
  kNeq,       // !=
  kGt,        // >  (also child)
  kGte,       // >=
  kLt,        // <  (also parent)
  kLte,       // <=
  kRegex,     // =~
  kNotRegex,  // !~ (also not-sibling)
  kAnd,       // &&
  kOr,        // ||
  kNot,       // !
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kCaret,
  kDescendant,       // >>
  kAncestor,         // <<
  kTilde,            // ~
  kNotChild,         // !>
  kNotParent,        // !<
  kNotDescendant,    // !>>
  kNotAncestor,      // !<<
  kUnionChild,       // &>
  kUnionParent,      // &<
  kUnionDescendant,  // &>>
  kUnionAncestor,    // &<<
  kUnionSibling,     // &~
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  Pos pos;
  std::string_view source;  // the token's text in the query (empty for kEnd)
  std::string text;         // kString: decoded; kAttribute: the name; kError: the message;
                            // kIdentifier, kMetricsFn, kSecondStage: the word
  Value value;              // literals: the value (kStatus / kKind in value.i)
  AttributeScope scope = AttributeScope::kNone;  // kAttribute
  Intrinsic intrinsic = Intrinsic::kSpanName;    // kIntrinsic
  AggregateFn aggregate = AggregateFn::kCount;   // kAggregate
};

// Splits `query` into tokens. The last token is kEnd or kError. Tokens view `query`, which
// must outlive them.
std::vector<Token> Tokenize(std::string_view query);

// How a token reads in an error message: `"}"` (quoted source text) or `end of query`.
std::string Describe(const Token& token);

// The canonical spelling of an intrinsic (`duration`, `span:id`).
std::string_view IntrinsicName(Intrinsic intrinsic);

// True if `c` may appear unquoted in an attribute name.
bool IsAttributeChar(char c);

}  // namespace strand::traceql
