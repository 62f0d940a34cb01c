#include "traceql/parser.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "traceql/lexer.h"
#include "traceql/parse_error.h"
#include "traceql/precedence.h"
#include "traceql/validate.h"

namespace strand::traceql {
namespace {

bool IsLiteral(TokenKind kind) {
  switch (kind) {
    case TokenKind::kString:
    case TokenKind::kInt:
    case TokenKind::kFloat:
    case TokenKind::kDuration:
    case TokenKind::kTrue:
    case TokenKind::kFalse:
    case TokenKind::kNil:
    case TokenKind::kStatus:
    case TokenKind::kKind:
      return true;
    default:
      return false;
  }
}

// Hint names may be any word, keywords included (`with(name=1)`).
bool IsWord(const Token& token) {
  if (token.source.empty()) return false;
  for (const char c : token.source) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

bool IsNumber(TokenKind kind) {
  return kind == TokenKind::kInt || kind == TokenKind::kFloat || kind == TokenKind::kDuration;
}

void Negate(Value& v) {
  if (v.type == Value::Type::kFloat) {
    v.f = -v.f;
  } else {
    v.i = -v.i;  // |i| < 2^63: the lexer refuses larger numbers
  }
}

// A parsed subtree and its height (a leaf is 1).
template <typename T>
struct Parsed {
  T node;
  int height = 1;
};
using FieldNode = Parsed<std::unique_ptr<FieldExpr>>;
using ScalarNode = Parsed<std::unique_ptr<ScalarExpr>>;
using SpansetNode = Parsed<std::unique_ptr<SpansetExpr>>;
using PipelineNode = Parsed<std::unique_ptr<Pipeline>>;
using StageNode = Parsed<Stage>;

// Recursive descent over the token list, precedence climbing for binary operators.
// One instance parses one query; not thread-safe. Invariant: depth_ counts the open nesting
// constructs (parentheses, unary operators, `^` operands); after an error the parser is discarded.
class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(Tokenize(text)) {}

  absl::StatusOr<Query> ParseQuery() {
    Query query;
    ASSIGN_OR_RETURN(PipelineNode pipeline, ParsePipeline(/*top_level=*/true));
    query.pipeline = std::move(pipeline.node);
    if (At(TokenKind::kPipe) && At(TokenKind::kMetricsFn, 1)) {
      Take();
      ASSIGN_OR_RETURN(query.metrics, ParseMetrics());
    }
    while (At(TokenKind::kWith)) {
      ASSIGN_OR_RETURN(std::vector<Hint> hints, ParseHints());
      for (Hint& hint : hints) query.hints.push_back(std::move(hint));
    }
    if (!At(TokenKind::kEnd)) return Unexpected("\"|\", \"with\" or end of query");
    return query;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  bool At(TokenKind kind, size_t ahead = 0) const { return Peek(ahead).kind == kind; }
  const Token& Take() {
    const Token& token = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;
    return token;
  }
  bool Accept(TokenKind kind) {
    if (!At(kind)) return false;
    Take();
    return true;
  }
  absl::Status Unexpected(std::string_view what) const {
    const Token& token = Peek();
    if (token.kind == TokenKind::kError) return ParseErrorAt(token.pos, token.text);
    return ParseErrorAt(token.pos, absl::StrCat("expected ", Sv(what), ", got ", Describe(token)));
  }
  absl::Status Expect(TokenKind kind, std::string_view what) {
    if (!At(kind)) return Unexpected(what);
    Take();
    return absl::OkStatus();
  }
  absl::Status Enter(const Pos& pos) {
    if (++depth_ > kMaxNestingDepth) {
      return ParseErrorAt(
          pos, absl::StrCat("query nested too deeply (more than ", kMaxNestingDepth, " levels)"));
    }
    return absl::OkStatus();
  }
  // A binary node of `op` at `pos` over two parsed operands.
  template <typename Expr, typename OpType>
  absl::StatusOr<Parsed<std::unique_ptr<Expr>>> Combine(OpType op, const Pos& pos,
                                                        Parsed<std::unique_ptr<Expr>> lhs,
                                                        Parsed<std::unique_ptr<Expr>> rhs) {
    Parsed<std::unique_ptr<Expr>> combined{std::make_unique<Expr>()};
    combined.node->kind = Expr::Kind::kBinary;
    combined.node->pos = pos;
    combined.node->op = op;
    combined.node->lhs = std::move(lhs.node);
    combined.node->rhs = std::move(rhs.node);
    combined.height = std::max(lhs.height, rhs.height) + 1;
    RETURN_IF_ERROR(CheckHeight(combined.height, pos));
    return combined;
  }

  absl::Status CheckHeight(int height, const Pos& pos) const {
    if (height > kMaxTreeHeight) {
      return ParseErrorAt(pos, absl::StrCat("query too complex (expression tree deeper than ",
                                            kMaxTreeHeight, ")"));
    }
    return absl::OkStatus();
  }

  // Pipeline := Stage ('|' Stage)*. At the top level a `|` followed by a metrics function
  // ends the pipeline. A pipeline starting with another kind of stage gets an implicit
  // `{ }` first, so the first stage is always a spanset.
  absl::StatusOr<PipelineNode> ParsePipeline(bool top_level) {
    PipelineNode result{std::make_unique<Pipeline>()};
    const Pos first_pos = Peek().pos;
    ASSIGN_OR_RETURN(StageNode first, ParseStage());
    if (first.node.kind != Stage::Kind::kSpanset) {
      Stage all;
      all.pos = first_pos;
      all.spanset = std::make_unique<SpansetExpr>();
      all.spanset->pos = first_pos;
      result.node->stages.push_back(std::move(all));
    }
    result.height = first.height + 1;
    result.node->stages.push_back(std::move(first.node));
    while (At(TokenKind::kPipe) && !(top_level && At(TokenKind::kMetricsFn, 1))) {
      Take();
      ASSIGN_OR_RETURN(StageNode stage, ParseStage());
      result.height = std::max(result.height, stage.height + 1);
      result.node->stages.push_back(std::move(stage.node));
    }
    RETURN_IF_ERROR(CheckHeight(result.height, first_pos));
    return result;
  }

  absl::StatusOr<StageNode> ParseStage() {
    const Token& token = Peek();
    StageNode result;
    result.node.pos = token.pos;
    Stage& stage = result.node;
    switch (token.kind) {
      case TokenKind::kLParen: {
        size_t k = 1;
        while (At(TokenKind::kLParen, k)) ++k;
        if (!At(TokenKind::kLBrace, k)) return ParseScalarFilterStage();
        [[fallthrough]];
      }
      case TokenKind::kLBrace: {
        ASSIGN_OR_RETURN(SpansetNode spanset, ParseSpansetExpr(kLogicalPrec));
        stage.kind = Stage::Kind::kSpanset;
        stage.spanset = std::move(spanset.node);
        result.height = spanset.height + 1;
        return result;
      }
      case TokenKind::kAggregate:
      case TokenKind::kInt:
      case TokenKind::kFloat:
      case TokenKind::kDuration:
      case TokenKind::kMinus:
        return ParseScalarFilterStage();
      case TokenKind::kBy: {
        Take();
        RETURN_IF_ERROR(Expect(TokenKind::kLParen, "\"(\" after \"by\""));
        ASSIGN_OR_RETURN(FieldNode field, ParseFieldExpr(kLogicalPrec, "an expression"));
        RETURN_IF_ERROR(Expect(TokenKind::kRParen, "an operator or \")\""));
        stage.kind = Stage::Kind::kBy;
        stage.fields.push_back(std::move(field.node));
        result.height = field.height + 1;
        return result;
      }
      case TokenKind::kSelect: {
        Take();
        stage.kind = Stage::Kind::kSelect;
        ASSIGN_OR_RETURN(stage.fields, ParseAttributeList("select"));
        result.height = 2;
        return result;
      }
      case TokenKind::kCoalesce:
        Take();
        RETURN_IF_ERROR(Expect(TokenKind::kLParen, "\"(\" after \"coalesce\""));
        RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\")\" (coalesce takes no arguments)"));
        stage.kind = Stage::Kind::kCoalesce;
        return result;
      default:
        return Unexpected("a spanset filter \"{\", an aggregate, by(), select() or coalesce()");
    }
  }

  // '(' attribute (',' attribute)* ')', after select / a metrics function's `by`.
  absl::StatusOr<std::vector<std::unique_ptr<FieldExpr>>> ParseAttributeList(
      std::string_view after) {
    RETURN_IF_ERROR(Expect(TokenKind::kLParen, absl::StrCat("\"(\" after \"", Sv(after), "\"")));
    std::vector<std::unique_ptr<FieldExpr>> fields;
    do {
      ASSIGN_OR_RETURN(FieldNode field, ParseAttributeRef());
      fields.push_back(std::move(field.node));
    } while (Accept(TokenKind::kComma));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\",\" or \")\""));
    return fields;
  }

  absl::StatusOr<FieldNode> ParseAttributeRef() {
    if (!At(TokenKind::kAttribute) && !At(TokenKind::kIntrinsic)) {
      return Unexpected("an attribute or intrinsic");
    }
    return ParseFieldUnary("");
  }

  // SpansetExpr := SpansetPrimary (SpansetOp SpansetPrimary)*, by precedence.
  absl::StatusOr<SpansetNode> ParseSpansetExpr(int min_prec) {
    ASSIGN_OR_RETURN(SpansetNode lhs, ParseSpansetPrimary("a spanset filter \"{\""));
    while (true) {
      const Token& token = Peek();
      const std::optional<SpansetBinaryOp> op = SpansetOpOf(token.kind);
      if (!op || op->prec < min_prec) break;
      Take();
      ASSIGN_OR_RETURN(SpansetNode rhs, ParseSpansetOperand(op->prec + 1, token));
      ASSIGN_OR_RETURN(lhs, Combine(op->op, token.pos, std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  // The right operand of a spanset operator: a clearer error when it is missing.
  absl::StatusOr<SpansetNode> ParseSpansetOperand(int min_prec, const Token& op) {
    if (!At(TokenKind::kLBrace) && !At(TokenKind::kLParen)) {
      return Unexpected(absl::StrCat("a spanset filter \"{\" after ", Describe(op)));
    }
    return ParseSpansetExpr(min_prec);
  }

  absl::StatusOr<SpansetNode> ParseSpansetPrimary(std::string_view what) {
    const Token& token = Peek();
    if (token.kind == TokenKind::kLBrace) return ParseFilter();
    if (token.kind != TokenKind::kLParen) return Unexpected(what);
    RETURN_IF_ERROR(Enter(token.pos));
    Take();
    ASSIGN_OR_RETURN(PipelineNode pipeline, ParsePipeline(/*top_level=*/false));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\"|\", a spanset operator or \")\""));
    --depth_;
    std::vector<Stage>& stages = pipeline.node->stages;
    if (stages.size() == 1) {  // parentheses only group spanset operators
      return SpansetNode{std::move(stages[0].spanset), pipeline.height - 1};
    }
    SpansetNode result{std::make_unique<SpansetExpr>(), pipeline.height + 1};
    result.node->kind = SpansetExpr::Kind::kPipeline;
    result.node->pos = token.pos;
    result.node->pipeline = std::move(pipeline.node);
    return result;
  }

  // '{' FieldExpr? '}'
  absl::StatusOr<SpansetNode> ParseFilter() {
    SpansetNode result{std::make_unique<SpansetExpr>()};
    result.node->kind = SpansetExpr::Kind::kFilter;
    result.node->pos = Take().pos;
    if (Accept(TokenKind::kRBrace)) return result;
    ASSIGN_OR_RETURN(FieldNode field, ParseFieldExpr(kLogicalPrec, "an expression or \"}\""));
    RETURN_IF_ERROR(Expect(TokenKind::kRBrace, "an operator or \"}\""));
    result.node->filter = std::move(field.node);
    result.height = field.height + 1;
    return result;
  }

  // Precedence climbing over per-span expressions.
  absl::StatusOr<FieldNode> ParseFieldExpr(int min_prec, std::string_view what) {
    ASSIGN_OR_RETURN(FieldNode lhs, ParseFieldUnary(what));
    while (true) {
      const Token& token = Peek();
      const std::optional<BinaryOp> op = FieldBinaryOp(token.kind);
      if (!op || op->prec < min_prec) break;
      Take();
      const bool right_assoc = op->prec == kPowerPrec;
      if (right_assoc) RETURN_IF_ERROR(Enter(token.pos));
      ASSIGN_OR_RETURN(FieldNode rhs,
                       ParseFieldExpr(right_assoc ? op->prec : op->prec + 1,
                                      absl::StrCat("a value after ", Describe(token))));
      if (right_assoc) --depth_;
      ASSIGN_OR_RETURN(lhs, Combine(op->op, token.pos, std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  absl::StatusOr<FieldNode> ParseFieldUnary(std::string_view what) {
    const Token& token = Peek();
    FieldNode result{std::make_unique<FieldExpr>()};
    FieldExpr& e = *result.node;
    e.pos = token.pos;
    if (token.kind == TokenKind::kNot || token.kind == TokenKind::kMinus) {
      RETURN_IF_ERROR(Enter(token.pos));
      Take();
      ASSIGN_OR_RETURN(
          FieldNode operand,
          ParseFieldExpr(kUnaryPrec + 1, absl::StrCat("a value after ", Describe(token))));
      --depth_;
      const bool number_literal = operand.node->kind == FieldExpr::Kind::kLiteral &&
                                  (operand.node->literal.type == Value::Type::kInt ||
                                   operand.node->literal.type == Value::Type::kFloat ||
                                   operand.node->literal.type == Value::Type::kDuration);
      if (token.kind == TokenKind::kMinus && number_literal) {  // -3 is a literal
        Negate(operand.node->literal);
        operand.node->pos = token.pos;
        return operand;
      }
      e.kind = FieldExpr::Kind::kUnary;
      e.op = token.kind == TokenKind::kNot ? Op::kNot : Op::kNegate;
      e.lhs = std::move(operand.node);
      result.height = operand.height + 1;
      RETURN_IF_ERROR(CheckHeight(result.height, token.pos));
      return result;
    }
    if (token.kind == TokenKind::kLParen) {
      RETURN_IF_ERROR(Enter(token.pos));
      Take();
      ASSIGN_OR_RETURN(FieldNode inner, ParseFieldExpr(kLogicalPrec, "an expression"));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "an operator or \")\""));
      --depth_;
      return inner;
    }
    if (IsLiteral(token.kind)) {
      e.kind = FieldExpr::Kind::kLiteral;
      e.literal = Take().value;
    } else if (token.kind == TokenKind::kAttribute) {
      e.kind = FieldExpr::Kind::kAttribute;
      e.scope = token.scope;
      e.name = Take().text;
    } else if (token.kind == TokenKind::kIntrinsic) {
      e.kind = FieldExpr::Kind::kIntrinsic;
      e.intrinsic = Take().intrinsic;
    } else {
      return Unexpected(what);
    }
    return result;
  }

  // ScalarExpr CompareOp ScalarExpr
  absl::StatusOr<StageNode> ParseScalarFilterStage() {
    StageNode result;
    result.node.kind = Stage::Kind::kScalarFilter;
    result.node.pos = Peek().pos;
    ASSIGN_OR_RETURN(ScalarNode lhs, ParseScalarExpr(kAdditivePrec, "an aggregate or a number"));
    const Token& token = Peek();
    const std::optional<Op> op = ComparisonOp(token.kind);
    if (!op) return Unexpected("an arithmetic or comparison operator (= != < <= > >=)");
    Take();
    ASSIGN_OR_RETURN(ScalarNode rhs,
                     ParseScalarExpr(kAdditivePrec, absl::StrCat("an aggregate or a number after ",
                                                                 Describe(token))));
    result.node.scalar_filter.op = *op;
    result.node.scalar_filter.lhs = std::move(lhs.node);
    result.node.scalar_filter.rhs = std::move(rhs.node);
    result.height = std::max(lhs.height, rhs.height) + 1;
    return result;
  }

  absl::StatusOr<ScalarNode> ParseScalarExpr(int min_prec, std::string_view what) {
    ASSIGN_OR_RETURN(ScalarNode lhs, ParseScalarPrimary(what));
    while (true) {
      const Token& token = Peek();
      const std::optional<BinaryOp> op = ScalarBinaryOp(token.kind);
      if (!op || op->prec < min_prec) break;
      Take();
      const bool right_assoc = op->prec == kPowerPrec;
      if (right_assoc) RETURN_IF_ERROR(Enter(token.pos));
      ASSIGN_OR_RETURN(
          ScalarNode rhs,
          ParseScalarExpr(right_assoc ? op->prec : op->prec + 1,
                          absl::StrCat("an aggregate or a number after ", Describe(token))));
      if (right_assoc) --depth_;
      ASSIGN_OR_RETURN(lhs, Combine(op->op, token.pos, std::move(lhs), std::move(rhs)));
    }
    return lhs;
  }

  absl::StatusOr<ScalarNode> ParseScalarPrimary(std::string_view what) {
    const Token& token = Peek();
    ScalarNode result{std::make_unique<ScalarExpr>()};
    ScalarExpr& e = *result.node;
    e.pos = token.pos;
    if (token.kind == TokenKind::kLParen) {
      RETURN_IF_ERROR(Enter(token.pos));
      Take();
      ASSIGN_OR_RETURN(ScalarNode inner,
                       ParseScalarExpr(kAdditivePrec, "an aggregate or a number"));
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "an arithmetic operator or \")\""));
      --depth_;
      return inner;
    }
    if (token.kind == TokenKind::kMinus || IsNumber(token.kind)) {
      ASSIGN_OR_RETURN(e.literal, ParseNumber());
      e.kind = ScalarExpr::Kind::kLiteral;
      return result;
    }
    if (token.kind != TokenKind::kAggregate) return Unexpected(what);
    Take();
    e.kind = ScalarExpr::Kind::kAggregate;
    e.fn = token.aggregate;
    RETURN_IF_ERROR(Expect(TokenKind::kLParen, absl::StrCat("\"(\" after ", Describe(token))));
    if (e.fn == AggregateFn::kCount) {
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\")\" (count takes no arguments)"));
      return result;
    }
    ASSIGN_OR_RETURN(FieldNode field, ParseFieldExpr(kLogicalPrec, "an expression"));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "an operator or \")\""));
    e.field = std::move(field.node);
    result.height = field.height + 1;
    return result;
  }

  // An int, float or duration, optionally negative.
  absl::StatusOr<Value> ParseNumber() {
    const bool negative = Accept(TokenKind::kMinus);
    if (!IsNumber(Peek().kind)) return Unexpected(negative ? "a number after \"-\"" : "a number");
    Value value = Take().value;
    if (negative) Negate(value);
    return value;
  }

  // A non-negative integer (metrics parameters).
  absl::StatusOr<int64_t> ParseCount(std::string_view what) {
    if (!At(TokenKind::kInt)) return Unexpected(what);
    return Take().value.i;
  }

  // Function '(' arguments ')' [by '(' attributes ')'] ['|' topk|bottomk '(' int ')'].
  absl::StatusOr<MetricsStage> ParseMetrics() {
    const Token& fn = Take();
    MetricsStage metrics;
    metrics.pos = fn.pos;
    metrics.function = fn.text;
    RETURN_IF_ERROR(Expect(TokenKind::kLParen, absl::StrCat("\"(\" after ", Describe(fn))));
    if (fn.text == "compare") {
      if (!At(TokenKind::kLBrace)) return Unexpected("a spanset filter \"{\"");
      ASSIGN_OR_RETURN(SpansetNode filter, ParseFilter());
      metrics.compare_filter = std::move(filter.node);
      if (Accept(TokenKind::kComma)) {
        ASSIGN_OR_RETURN(int64_t top, ParseCount("an integer (the number of top values)"));
        metrics.params.push_back(Value{.type = Value::Type::kInt, .i = top});
        if (Accept(TokenKind::kComma)) {
          ASSIGN_OR_RETURN(int64_t start, ParseCount("an integer (the start, unix nanoseconds)"));
          RETURN_IF_ERROR(Expect(TokenKind::kComma, "\",\" and the end"));
          ASSIGN_OR_RETURN(int64_t end, ParseCount("an integer (the end, unix nanoseconds)"));
          metrics.params.push_back(Value{.type = Value::Type::kInt, .i = start});
          metrics.params.push_back(Value{.type = Value::Type::kInt, .i = end});
        }
      }
    } else if (fn.text != "rate" && fn.text != "count_over_time") {
      ASSIGN_OR_RETURN(FieldNode arg, ParseAttributeRef());
      metrics.args.push_back(std::move(arg.node));
      if (fn.text == "quantile_over_time") {
        RETURN_IF_ERROR(Expect(TokenKind::kComma, "\",\" and a quantile"));
        do {
          const Token& q = Peek();
          if (q.kind != TokenKind::kInt && q.kind != TokenKind::kFloat) {
            return Unexpected("a quantile (a number from 0 to 1)");
          }
          Take();
          const double value = q.kind == TokenKind::kInt ? q.value.i : q.value.f;
          if (value < 0 || value > 1) {
            return ParseErrorAt(q.pos, "a quantile must be between 0 and 1");
          }
          metrics.params.push_back(q.value);
        } while (Accept(TokenKind::kComma));
      }
    }
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\")\""));
    if (Accept(TokenKind::kBy)) {
      ASSIGN_OR_RETURN(metrics.by, ParseAttributeList("by"));
    }
    if (Accept(TokenKind::kPipe)) {
      if (!At(TokenKind::kSecondStage)) return Unexpected("topk() or bottomk()");
      const Token& stage = Take();
      metrics.second_stage = stage.text;
      RETURN_IF_ERROR(Expect(TokenKind::kLParen, absl::StrCat("\"(\" after ", Describe(stage))));
      const Pos k_pos = Peek().pos;
      ASSIGN_OR_RETURN(metrics.second_stage_k, ParseCount("an integer"));
      if (metrics.second_stage_k <= 0) return ParseErrorAt(k_pos, "k must be at least 1");
      RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\")\""));
    }
    return metrics;
  }

  // with '(' name '=' value (',' name '=' value)* ')'
  absl::StatusOr<std::vector<Hint>> ParseHints() {
    Take();
    RETURN_IF_ERROR(Expect(TokenKind::kLParen, "\"(\" after \"with\""));
    std::vector<Hint> hints;
    do {
      if (!IsWord(Peek())) return Unexpected("a hint name");
      Hint hint;
      hint.name = std::string(Take().source);
      RETURN_IF_ERROR(Expect(TokenKind::kEq, "\"=\" after the hint name"));
      if (At(TokenKind::kMinus) || IsNumber(Peek().kind)) {
        ASSIGN_OR_RETURN(hint.value, ParseNumber());
      } else if (IsLiteral(Peek().kind)) {
        hint.value = Take().value;
      } else {
        return Unexpected("a value");
      }
      hints.push_back(std::move(hint));
    } while (Accept(TokenKind::kComma));
    RETURN_IF_ERROR(Expect(TokenKind::kRParen, "\",\" or \")\""));
    return hints;
  }

  const std::vector<Token> tokens_;
  size_t next_ = 0;  // index of the next token; the last token (end or error) is never passed
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<Query> Parse(std::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("query too long: ", text.size(), " bytes, the limit is ", kMaxQueryBytes));
  }
  ASSIGN_OR_RETURN(Query query, Parser(text).ParseQuery());
  RETURN_IF_ERROR(Validate(query));
  return query;
}

}  // namespace strand::traceql
