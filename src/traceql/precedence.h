// TraceQL's binary operators: which tokens they are and how tightly they bind. Internal to
// the parser.
//
// Precedence, weakest first, as in Tempo's grammar (pkg/traceql/expr.y):
//   1  && ||                        left-associative, one level (a || b && c = (a || b) && c)
//   2  = != < <= > >= =~ !~         left-associative; between spansets, at this level:
//      > >> < << ~ &> &>> &< &<< &~ !> !>> !< !<< !~
//   3  + -                          left-associative
//   4  ! and unary -                prefix; the operand takes everything of level 5 and 6
//   5  * / %                        left-associative
//   6  ^                            right-associative
// A pipeline's `|` is weaker than all of them.
#pragma once

#include <optional>

#include "traceql/ast.h"
#include "traceql/lexer.h"

namespace strand::traceql {

inline constexpr int kLogicalPrec = 1;   // && ||
inline constexpr int kComparePrec = 2;   // = != < <= > >= =~ !~, and > >> < << ~ ... of spansets
inline constexpr int kAdditivePrec = 3;  // + -
inline constexpr int kUnaryPrec = 4;     // ! -x (operand: everything binding tighter)
inline constexpr int kMultiplyPrec = 5;  // * / %
inline constexpr int kPowerPrec = 6;     // ^ (right-associative)

struct BinaryOp {
  TokenKind token;
  Op op;
  int prec;
};

inline constexpr BinaryOp kFieldOps[] = {
    {TokenKind::kOr, Op::kOr, kLogicalPrec},
    {TokenKind::kAnd, Op::kAnd, kLogicalPrec},
    {TokenKind::kEq, Op::kEq, kComparePrec},
    {TokenKind::kNeq, Op::kNeq, kComparePrec},
    {TokenKind::kGt, Op::kGt, kComparePrec},
    {TokenKind::kGte, Op::kGte, kComparePrec},
    {TokenKind::kLt, Op::kLt, kComparePrec},
    {TokenKind::kLte, Op::kLte, kComparePrec},
    {TokenKind::kRegex, Op::kRegex, kComparePrec},
    {TokenKind::kNotRegex, Op::kNotRegex, kComparePrec},
    {TokenKind::kPlus, Op::kAdd, kAdditivePrec},
    {TokenKind::kMinus, Op::kSub, kAdditivePrec},
    {TokenKind::kStar, Op::kMul, kMultiplyPrec},
    {TokenKind::kSlash, Op::kDiv, kMultiplyPrec},
    {TokenKind::kPercent, Op::kMod, kMultiplyPrec},
    {TokenKind::kCaret, Op::kPow, kPowerPrec},
};

inline std::optional<BinaryOp> FieldBinaryOp(TokenKind kind) {
  for (const BinaryOp& op : kFieldOps) {
    if (op.token == kind) return op;
  }
  return std::nullopt;
}

// Arithmetic only.
inline std::optional<BinaryOp> ScalarBinaryOp(TokenKind kind) {
  std::optional<BinaryOp> op = FieldBinaryOp(kind);
  if (op && op->prec >= kAdditivePrec) return op;
  return std::nullopt;
}

// = != < <= > >= (no regular expressions).
inline std::optional<Op> ComparisonOp(TokenKind kind) {
  std::optional<BinaryOp> op = FieldBinaryOp(kind);
  if (!op || op->prec != kComparePrec || op->op == Op::kRegex || op->op == Op::kNotRegex) {
    return std::nullopt;
  }
  return op->op;
}

struct SpansetBinaryOp {
  TokenKind token;
  SpansetOp op;
  int prec;
};

inline constexpr SpansetBinaryOp kSpansetOps[] = {
    {TokenKind::kAnd, SpansetOp::kAnd, kLogicalPrec},
    {TokenKind::kOr, SpansetOp::kOr, kLogicalPrec},
    {TokenKind::kGt, SpansetOp::kChild, kComparePrec},
    {TokenKind::kDescendant, SpansetOp::kDescendant, kComparePrec},
    {TokenKind::kLt, SpansetOp::kParent, kComparePrec},
    {TokenKind::kAncestor, SpansetOp::kAncestor, kComparePrec},
    {TokenKind::kTilde, SpansetOp::kSibling, kComparePrec},
    {TokenKind::kUnionChild, SpansetOp::kUnionChild, kComparePrec},
    {TokenKind::kUnionDescendant, SpansetOp::kUnionDescendant, kComparePrec},
    {TokenKind::kUnionParent, SpansetOp::kUnionParent, kComparePrec},
    {TokenKind::kUnionAncestor, SpansetOp::kUnionAncestor, kComparePrec},
    {TokenKind::kUnionSibling, SpansetOp::kUnionSibling, kComparePrec},
    {TokenKind::kNotChild, SpansetOp::kNotChild, kComparePrec},
    {TokenKind::kNotDescendant, SpansetOp::kNotDescendant, kComparePrec},
    {TokenKind::kNotParent, SpansetOp::kNotParent, kComparePrec},
    {TokenKind::kNotAncestor, SpansetOp::kNotAncestor, kComparePrec},
    {TokenKind::kNotRegex, SpansetOp::kNotSibling, kComparePrec},  // !~ between spansets
};

inline std::optional<SpansetBinaryOp> SpansetOpOf(TokenKind kind) {
  for (const SpansetBinaryOp& op : kSpansetOps) {
    if (op.token == kind) return op;
  }
  return std::nullopt;
}

// The precedence of a binary field or scalar operator (kUnaryPrec for ! and unary -).
inline int OpPrecedence(Op op) {
  for (const BinaryOp& entry : kFieldOps) {
    if (entry.op == op) return entry.prec;
  }
  return kUnaryPrec;
}

inline int SpansetOpPrecedence(SpansetOp op) {
  for (const SpansetBinaryOp& entry : kSpansetOps) {
    if (entry.op == op) return entry.prec;
  }
  return kComparePrec;
}

}  // namespace strand::traceql
