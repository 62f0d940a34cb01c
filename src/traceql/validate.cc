#include "traceql/validate.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "re2/re2.h"
#include "traceql/parse_error.h"

namespace strand::traceql {
namespace {

// Static types. kUnknown is an attribute's (anything goes); kNumber is a number of unknown
// kind (arithmetic on attributes).
enum class Type {
  kUnknown,
  kNumber,
  kNil,
  kBool,
  kInt,
  kFloat,
  kDuration,
  kString,
  kStatus,
  kKind
};

absl::string_view TypeName(Type type) {
  switch (type) {
    case Type::kUnknown:
      return "attribute";
    case Type::kNumber:
      return "number";
    case Type::kNil:
      return "nil";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kDuration:
      return "duration";
    case Type::kString:
      return "string";
    case Type::kStatus:
      return "status";
    case Type::kKind:
      return "kind";
  }
  return "?";
}

bool IsNumeric(Type type) {
  return type == Type::kNumber || type == Type::kInt || type == Type::kFloat ||
         type == Type::kDuration;
}
bool NumericOrUnknown(Type type) { return type == Type::kUnknown || IsNumeric(type); }
bool BoolOrUnknown(Type type) { return type == Type::kUnknown || type == Type::kBool; }
bool StringOrUnknown(Type type) { return type == Type::kUnknown || type == Type::kString; }

bool Compatible(Type a, Type b) {
  if (a == Type::kUnknown || b == Type::kUnknown) return true;
  if (IsNumeric(a) && IsNumeric(b)) return true;
  return a == b;
}

Type LiteralType(const Value& value) {
  switch (value.type) {
    case Value::Type::kNil:
      return Type::kNil;
    case Value::Type::kBool:
      return Type::kBool;
    case Value::Type::kInt:
      return Type::kInt;
    case Value::Type::kFloat:
      return Type::kFloat;
    case Value::Type::kString:
      return Type::kString;
    case Value::Type::kDuration:
      return Type::kDuration;
    case Value::Type::kStatus:
      return Type::kStatus;
    case Value::Type::kKind:
      return Type::kKind;
  }
  return Type::kUnknown;
}

Type IntrinsicType(Intrinsic intrinsic) {
  switch (intrinsic) {
    case Intrinsic::kSpanStatus:
      return Type::kStatus;
    case Intrinsic::kSpanKind:
      return Type::kKind;
    case Intrinsic::kSpanDuration:
    case Intrinsic::kTraceDuration:
    case Intrinsic::kEventTimeSinceStart:
      return Type::kDuration;
    default:
      return Type::kString;  // names, messages, IDs (hex), versions
  }
}

// Where an expression starts in the text (a binary node's pos is its operator's).
Pos StartPos(const FieldExpr& e) {
  const FieldExpr* node = &e;
  while (node->kind == FieldExpr::Kind::kBinary) node = node->lhs.get();
  return node->pos;
}

absl::Status OperandError(const FieldExpr& e, std::string_view needs, Type l, Type r) {
  return ParseErrorAt(e.pos, absl::StrCat("operator \"", Sv(OpSymbol(e.op)), "\" needs ", Sv(needs),
                                          ", got ", TypeName(l), " and ", TypeName(r)));
}

absl::Status CheckRegex(const FieldExpr& e, Type lhs) {
  if (!StringOrUnknown(lhs)) {
    return ParseErrorAt(e.pos, absl::StrCat("operator \"", Sv(OpSymbol(e.op)),
                                            "\" needs a string on the left, got ", TypeName(lhs)));
  }
  const FieldExpr& rhs = *e.rhs;
  if (rhs.kind != FieldExpr::Kind::kLiteral || rhs.literal.type != Value::Type::kString) {
    return ParseErrorAt(StartPos(rhs), absl::StrCat("operator \"", Sv(OpSymbol(e.op)),
                                                    "\" needs a string literal on the right"));
  }
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(rhs.literal.s, options);
  if (!re.ok()) {
    return ParseErrorAt(rhs.pos, absl::StrCat("invalid regular expression: ", re.error()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Type> TypeOf(const FieldExpr& e) {
  switch (e.kind) {
    case FieldExpr::Kind::kLiteral:
      return LiteralType(e.literal);
    case FieldExpr::Kind::kAttribute:
      return Type::kUnknown;
    case FieldExpr::Kind::kIntrinsic:
      return IntrinsicType(e.intrinsic);
    case FieldExpr::Kind::kUnary: {
      ASSIGN_OR_RETURN(Type operand, TypeOf(*e.lhs));
      if (e.op == Op::kNot) {
        if (!BoolOrUnknown(operand)) {
          return ParseErrorAt(
              e.pos, absl::StrCat("operator \"!\" needs a boolean, got ", TypeName(operand)));
        }
        return Type::kBool;
      }
      if (!NumericOrUnknown(operand)) {
        return ParseErrorAt(e.pos,
                            absl::StrCat("operator \"-\" needs a number, got ", TypeName(operand)));
      }
      return operand == Type::kUnknown ? Type::kNumber : operand;
    }
    case FieldExpr::Kind::kBinary:
      break;
  }
  ASSIGN_OR_RETURN(Type l, TypeOf(*e.lhs));
  ASSIGN_OR_RETURN(Type r, TypeOf(*e.rhs));
  switch (e.op) {
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
    case Op::kPow:
      if (!NumericOrUnknown(l) || !NumericOrUnknown(r)) return OperandError(e, "numbers", l, r);
      if (l == Type::kDuration || r == Type::kDuration) return Type::kDuration;
      if (!IsNumeric(l) || !IsNumeric(r) || l == Type::kNumber || r == Type::kNumber) {
        return Type::kNumber;
      }
      return l == Type::kFloat || r == Type::kFloat ? Type::kFloat : Type::kInt;
    case Op::kEq:
    case Op::kNeq:
      if (l == Type::kNil || r == Type::kNil || Compatible(l, r)) return Type::kBool;
      return ParseErrorAt(e.pos,
                          absl::StrCat("cannot compare ", TypeName(l), " with ", TypeName(r)));
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte:
      if (l == Type::kNil || r == Type::kNil) {
        return ParseErrorAt(e.pos, "nil can only be compared with = and !=");
      }
      for (Type t : {l, r}) {
        if (t == Type::kBool || t == Type::kStatus || t == Type::kKind) {
          return ParseErrorAt(e.pos, absl::StrCat("operator \"", Sv(OpSymbol(e.op)),
                                                  "\" cannot order ", TypeName(t), " values"));
        }
      }
      if (!Compatible(l, r)) {
        return ParseErrorAt(e.pos,
                            absl::StrCat("cannot compare ", TypeName(l), " with ", TypeName(r)));
      }
      return Type::kBool;
    case Op::kRegex:
    case Op::kNotRegex:
      RETURN_IF_ERROR(CheckRegex(e, l));
      return Type::kBool;
    case Op::kAnd:
    case Op::kOr:
      if (!BoolOrUnknown(l) || !BoolOrUnknown(r)) return OperandError(e, "booleans", l, r);
      return Type::kBool;
    case Op::kNot:
    case Op::kNegate:
      break;
  }
  return ParseErrorAt(e.pos, "unary operator used as a binary one");
}

absl::Status CheckNumericArgument(const FieldExpr& arg, std::string_view function) {
  ASSIGN_OR_RETURN(Type type, TypeOf(arg));
  if (!NumericOrUnknown(type)) {
    return ParseErrorAt(StartPos(arg), absl::StrCat(Sv(function), " needs a numeric argument, got ",
                                                    TypeName(type)));
  }
  return absl::OkStatus();
}

absl::Status CheckPipeline(const Pipeline& pipeline);

absl::Status CheckSpanset(const SpansetExpr& e) {
  switch (e.kind) {
    case SpansetExpr::Kind::kFilter: {
      if (e.filter == nullptr) return absl::OkStatus();
      ASSIGN_OR_RETURN(Type type, TypeOf(*e.filter));
      if (!BoolOrUnknown(type)) {
        return ParseErrorAt(
            StartPos(*e.filter),
            absl::StrCat("a spanset filter needs a boolean expression, got ", TypeName(type)));
      }
      return absl::OkStatus();
    }
    case SpansetExpr::Kind::kBinary:
      RETURN_IF_ERROR(CheckSpanset(*e.lhs));
      return CheckSpanset(*e.rhs);
    case SpansetExpr::Kind::kPipeline:
      return CheckPipeline(*e.pipeline);
  }
  return absl::OkStatus();
}

absl::Status CheckScalar(const ScalarExpr& e) {
  switch (e.kind) {
    case ScalarExpr::Kind::kLiteral:
      return absl::OkStatus();
    case ScalarExpr::Kind::kAggregate:
      if (e.field == nullptr) return absl::OkStatus();
      return CheckNumericArgument(*e.field, AggregateName(e.fn));
    case ScalarExpr::Kind::kBinary:
      RETURN_IF_ERROR(CheckScalar(*e.lhs));
      return CheckScalar(*e.rhs);
  }
  return absl::OkStatus();
}

absl::Status CheckPipeline(const Pipeline& pipeline) {
  for (const Stage& stage : pipeline.stages) {
    switch (stage.kind) {
      case Stage::Kind::kSpanset:
        RETURN_IF_ERROR(CheckSpanset(*stage.spanset));
        break;
      case Stage::Kind::kScalarFilter:
        RETURN_IF_ERROR(CheckScalar(*stage.scalar_filter.lhs));
        RETURN_IF_ERROR(CheckScalar(*stage.scalar_filter.rhs));
        break;
      case Stage::Kind::kBy:
      case Stage::Kind::kSelect:
        for (const auto& field : stage.fields) RETURN_IF_ERROR(TypeOf(*field).status());
        break;
      case Stage::Kind::kCoalesce:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Validate(const Query& query) {
  RETURN_IF_ERROR(CheckPipeline(*query.pipeline));
  if (query.metrics) {
    const MetricsStage& metrics = *query.metrics;
    for (const auto& arg : metrics.args) {
      RETURN_IF_ERROR(CheckNumericArgument(*arg, metrics.function));
    }
    if (metrics.compare_filter) RETURN_IF_ERROR(CheckSpanset(*metrics.compare_filter));
  }
  return absl::OkStatus();
}

}  // namespace strand::traceql
