// Canonical text of TraceQL trees: parentheses only where precedence and associativity
// (precedence.h) need them, so the text parses back into the same tree and is no more deeply
// nested than the query it came from.
#include "traceql/ast.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "traceql/lexer.h"
#include "traceql/parse_error.h"
#include "traceql/precedence.h"

namespace strand::traceql {
namespace {

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(&out, "\\x%02X", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string FloatText(double f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  std::string out(buf, end);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string DurationText(int64_t nanos) {
  if (nanos == 0) return "0s";
  static constexpr std::pair<uint64_t, std::string_view> kUnits[] = {
      {3600'000'000'000, "h"}, {60'000'000'000, "m"}, {1000'000'000, "s"},
      {1000'000, "ms"},        {1000, "us"},          {1, "ns"}};
  const uint64_t magnitude =
      nanos < 0 ? uint64_t{0} - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  for (const auto& [size, unit] : kUnits) {
    if (magnitude % size == 0)
      return absl::StrCat(nanos < 0 ? "-" : "", magnitude / size, Sv(unit));
  }
  return absl::StrCat(nanos, "ns");
}

std::string LiteralText(const Value& v) {
  switch (v.type) {
    case Value::Type::kNil:
      return "nil";
    case Value::Type::kBool:
      return v.b ? "true" : "false";
    case Value::Type::kInt:
      return absl::StrCat(v.i);
    case Value::Type::kFloat:
      return FloatText(v.f);
    case Value::Type::kString:
      return QuoteString(v.s);
    case Value::Type::kDuration:
      return DurationText(v.i);
    case Value::Type::kStatus:
      return std::string(StatusKeyword(v.i));
    case Value::Type::kKind:
      return std::string(KindKeyword(v.i));
  }
  return "nil";
}

bool IsNegativeNumber(const Value& v) {
  return ((v.type == Value::Type::kInt || v.type == Value::Type::kDuration) && v.i < 0) ||
         (v.type == Value::Type::kFloat && std::signbit(v.f));
}

absl::string_view ScopePrefix(AttributeScope scope) {
  switch (scope) {
    case AttributeScope::kNone:
      return ".";
    case AttributeScope::kSpan:
      return "span.";
    case AttributeScope::kResource:
      return "resource.";
    case AttributeScope::kEvent:
      return "event.";
    case AttributeScope::kLink:
      return "link.";
    case AttributeScope::kInstrumentation:
      return "instrumentation.";
  }
  return ".";
}

std::string AttributeText(AttributeScope scope, std::string_view name) {
  bool plain = !name.empty();
  for (const char c : name) plain = plain && IsAttributeChar(c) && c != '\\';
  if (plain) return absl::StrCat(ScopePrefix(scope), Sv(name));
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return absl::StrCat(ScopePrefix(scope), quoted, "\"");
}

std::string Parenthesized(std::string text) { return absl::StrCat("(", text, ")"); }

// Whether a binary child of an operator of precedence `prec` needs parentheses.
bool WrapBinary(int child_prec, int prec, bool right_side) {
  const bool right_assoc = prec == kPowerPrec;
  return right_side != right_assoc ? child_prec <= prec : child_prec < prec;
}

std::string FieldText(const FieldExpr& e, int follow);

// `e` as an operand of a binary operator of precedence `prec` (0: of a unary operator), where
// the text is followed by an operator of precedence `follow` (0: by nothing). A unary
// operator's operand runs over the * / % ^ that follow it, so a unary operation or a
// negative number followed by one of those needs parentheses.
std::string FieldOperand(const FieldExpr& e, int prec, bool right_side, int follow) {
  bool wrap = false;
  switch (e.kind) {
    case FieldExpr::Kind::kLiteral:
      wrap = IsNegativeNumber(e.literal) && (follow >= kMultiplyPrec || prec == 0);
      break;
    case FieldExpr::Kind::kUnary:
      wrap = follow >= kMultiplyPrec;
      break;
    case FieldExpr::Kind::kBinary:
      wrap = WrapBinary(OpPrecedence(e.op), prec == 0 ? kUnaryPrec : prec, right_side);
      break;
    default:
      break;
  }
  return wrap ? Parenthesized(FieldText(e, 0)) : FieldText(e, follow);
}

std::string FieldText(const FieldExpr& e, int follow) {
  switch (e.kind) {
    case FieldExpr::Kind::kLiteral:
      return LiteralText(e.literal);
    case FieldExpr::Kind::kAttribute:
      return AttributeText(e.scope, e.name);
    case FieldExpr::Kind::kIntrinsic:
      return std::string(IntrinsicName(e.intrinsic));
    case FieldExpr::Kind::kUnary:
      return absl::StrCat(Sv(OpSymbol(e.op)), FieldOperand(*e.lhs, 0, true, follow));
    case FieldExpr::Kind::kBinary: {
      const int prec = OpPrecedence(e.op);
      return absl::StrCat(FieldOperand(*e.lhs, prec, false, prec), " ", Sv(OpSymbol(e.op)), " ",
                          FieldOperand(*e.rhs, prec, true, follow));
    }
  }
  return "";
}

absl::string_view SpansetOpSymbol(SpansetOp op) {
  switch (op) {
    case SpansetOp::kAnd:
      return "&&";
    case SpansetOp::kOr:
      return "||";
    case SpansetOp::kChild:
      return ">";
    case SpansetOp::kDescendant:
      return ">>";
    case SpansetOp::kParent:
      return "<";
    case SpansetOp::kAncestor:
      return "<<";
    case SpansetOp::kSibling:
      return "~";
    case SpansetOp::kUnionChild:
      return "&>";
    case SpansetOp::kUnionDescendant:
      return "&>>";
    case SpansetOp::kUnionParent:
      return "&<";
    case SpansetOp::kUnionAncestor:
      return "&<<";
    case SpansetOp::kUnionSibling:
      return "&~";
    case SpansetOp::kNotChild:
      return "!>";
    case SpansetOp::kNotDescendant:
      return "!>>";
    case SpansetOp::kNotParent:
      return "!<";
    case SpansetOp::kNotAncestor:
      return "!<<";
    case SpansetOp::kNotSibling:
      return "!~";
  }
  return "?";
}

std::string SpansetOperand(const SpansetExpr& e, int prec, bool right_side) {
  const bool wrap = e.kind == SpansetExpr::Kind::kBinary &&
                    WrapBinary(SpansetOpPrecedence(e.op), prec, right_side);
  return wrap ? Parenthesized(ToString(e)) : ToString(e);
}

// `prec`: the precedence of the operator `e` is an operand of (0 at the top).
std::string ScalarText(const ScalarExpr& e, int prec, bool right_side) {
  switch (e.kind) {
    case ScalarExpr::Kind::kLiteral:  // `-1` is one literal in scalar expressions
      return LiteralText(e.literal);
    case ScalarExpr::Kind::kAggregate:
      return absl::StrCat(Sv(AggregateName(e.fn)), "(", e.field ? ToString(*e.field) : "", ")");
    case ScalarExpr::Kind::kBinary: {
      const int own = OpPrecedence(e.op);
      std::string text = absl::StrCat(ScalarText(*e.lhs, own, false), " ", Sv(OpSymbol(e.op)), " ",
                                      ScalarText(*e.rhs, own, true));
      return prec > 0 && WrapBinary(own, prec, right_side) ? Parenthesized(text) : text;
    }
  }
  return "";
}

std::string FieldList(const std::vector<std::unique_ptr<FieldExpr>>& fields) {
  return absl::StrJoin(fields, ", ", [](std::string* out, const std::unique_ptr<FieldExpr>& f) {
    out->append(ToString(*f));
  });
}

std::string StageText(const Stage& stage) {
  switch (stage.kind) {
    case Stage::Kind::kSpanset:
      return ToString(*stage.spanset);
    case Stage::Kind::kScalarFilter:
      return absl::StrCat(ScalarText(*stage.scalar_filter.lhs, 0, false), " ",
                          Sv(OpSymbol(stage.scalar_filter.op)), " ",
                          ScalarText(*stage.scalar_filter.rhs, 0, true));
    case Stage::Kind::kBy:
      return absl::StrCat("by(", FieldList(stage.fields), ")");
    case Stage::Kind::kSelect:
      return absl::StrCat("select(", FieldList(stage.fields), ")");
    case Stage::Kind::kCoalesce:
      return "coalesce()";
  }
  return "";
}

std::string MetricsText(const MetricsStage& m) {
  std::string out = absl::StrCat(m.function, "(");
  absl::string_view separator;
  if (m.compare_filter) {
    out += ToString(*m.compare_filter);
    separator = ", ";
  }
  for (const auto& arg : m.args) {
    absl::StrAppend(&out, separator, ToString(*arg));
    separator = ", ";
  }
  for (const Value& param : m.params) {
    absl::StrAppend(&out, separator, LiteralText(param));
    separator = ", ";
  }
  out += ")";
  if (!m.by.empty()) absl::StrAppend(&out, " by (", FieldList(m.by), ")");
  if (!m.second_stage.empty()) {
    absl::StrAppend(&out, " | ", m.second_stage, "(", m.second_stage_k, ")");
  }
  return out;
}

}  // namespace

std::string_view StatusKeyword(int64_t code) {
  static constexpr std::string_view kNames[] = {"unset", "ok", "error"};
  return code >= 0 && code < 3 ? kNames[code] : "unknown";
}

std::string_view KindKeyword(int64_t kind) {
  static constexpr std::string_view kNames[] = {"unspecified", "internal", "server",
                                                "client",      "producer", "consumer"};
  return kind >= 0 && kind < 6 ? kNames[kind] : "unknown";
}

std::string_view OpSymbol(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kPow:
      return "^";
    case Op::kEq:
      return "=";
    case Op::kNeq:
      return "!=";
    case Op::kGt:
      return ">";
    case Op::kGte:
      return ">=";
    case Op::kLt:
      return "<";
    case Op::kLte:
      return "<=";
    case Op::kRegex:
      return "=~";
    case Op::kNotRegex:
      return "!~";
    case Op::kAnd:
      return "&&";
    case Op::kOr:
      return "||";
    case Op::kNot:
      return "!";
    case Op::kNegate:
      return "-";
  }
  return "?";
}

std::string_view AggregateName(AggregateFn fn) {
  switch (fn) {
    case AggregateFn::kCount:
      return "count";
    case AggregateFn::kAvg:
      return "avg";
    case AggregateFn::kMin:
      return "min";
    case AggregateFn::kMax:
      return "max";
    case AggregateFn::kSum:
      return "sum";
  }
  return "count";
}

std::string ToString(const FieldExpr& e) { return FieldText(e, 0); }

std::string ToString(const SpansetExpr& e) {
  switch (e.kind) {
    case SpansetExpr::Kind::kFilter:
      return e.filter ? absl::StrCat("{ ", ToString(*e.filter), " }") : "{ }";
    case SpansetExpr::Kind::kBinary:
      return absl::StrCat(SpansetOperand(*e.lhs, SpansetOpPrecedence(e.op), false), " ",
                          SpansetOpSymbol(e.op), " ",
                          SpansetOperand(*e.rhs, SpansetOpPrecedence(e.op), true));
    case SpansetExpr::Kind::kPipeline:
      return absl::StrCat("(", ToString(*e.pipeline), ")");
  }
  return "";
}

std::string ToString(const Pipeline& p) {
  return absl::StrJoin(p.stages, " | ",
                       [](std::string* out, const Stage& stage) { out->append(StageText(stage)); });
}

std::string ToString(const Query& q) {
  std::string out = q.pipeline ? ToString(*q.pipeline) : "";
  if (q.metrics) absl::StrAppend(&out, " | ", MetricsText(*q.metrics));
  if (!q.hints.empty()) {
    absl::StrAppend(&out, " with(",
                    absl::StrJoin(q.hints, ", ",
                                  [](std::string* s, const Hint& h) {
                                    absl::StrAppend(s, h.name, "=", LiteralText(h.value));
                                  }),
                    ")");
  }
  return out;
}

}  // namespace strand::traceql
