// The TraceQL abstract syntax tree: what the parser produces and the planner and the
// executor consume. Nodes own their children (unique_ptr); a tree is immutable once
// parsed and may be shared by threads (const access only).
//
// Shape of a query (docs/traceql.md has the language as Strand implements it):
//
//   Query      := Pipeline [Metrics] [Hints]
//   Pipeline   := Stage ('|' Stage)*              a spanset pipeline
//   Stage      := SpansetExpr | ScalarFilter | by(FieldExpr) | select(FieldExpr, ...)
//               | coalesce()
//   SpansetExpr:= '{' FieldExpr? '}'              a spanset filter
//               | SpansetExpr SpansetOp SpansetExpr
//               | '(' Pipeline ')'                a nested pipeline used as a spanset
//   FieldExpr  := literal | attribute | intrinsic | unary op | binary op (arithmetic,
//                 comparison, regex, logical), evaluated per span
//   ScalarFilter := ScalarExpr CompareOp ScalarExpr, ScalarExpr an aggregate
//                 (count(), avg(f), ...), a literal, or arithmetic of those
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strand::traceql {

// A position in the query text (1-based line and column; byte offset from 0).
struct Pos {
  uint32_t offset = 0;
  uint32_t line = 1;
  uint32_t column = 1;
};

// Attribute scopes. kNone is the unscoped form `.x` (span attribute, else resource).
enum class AttributeScope { kNone, kSpan, kResource, kEvent, kLink, kInstrumentation };

// Intrinsic fields. The unscoped spellings map to the scoped ones: `name` = `span:name`,
// `status` = `span:status`, `statusMessage`, `kind`, `duration` likewise; `traceDuration`
// = `trace:duration`, `rootName` = `trace:rootName`, `rootServiceName` =
// `trace:rootService`.
enum class Intrinsic {
  kSpanName,                // name, span:name
  kSpanStatus,              // status, span:status
  kSpanStatusMessage,       // statusMessage, span:statusMessage
  kSpanKind,                // kind, span:kind
  kSpanDuration,            // duration, span:duration
  kSpanId,                  // span:id
  kSpanParentId,            // span:parentID
  kTraceDuration,           // traceDuration, trace:duration
  kTraceRootName,           // rootName, trace:rootName
  kTraceRootService,        // rootServiceName, trace:rootService
  kTraceId,                 // trace:id
  kEventName,               // event:name
  kEventTimeSinceStart,     // event:timeSinceStart
  kLinkSpanId,              // link:spanID
  kLinkTraceId,             // link:traceID
  kInstrumentationName,     // instrumentation:name
  kInstrumentationVersion,  // instrumentation:version
};

// Status and kind literals (`status = error`, `kind = server`).
enum class StatusValue { kUnset = 0, kOk = 1, kError = 2 };
enum class KindValue {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};

// A literal, or a value computed while evaluating.
struct Value {
  enum class Type { kNil, kBool, kInt, kFloat, kString, kDuration, kStatus, kKind };
  Type type = Type::kNil;
  bool b = false;
  int64_t i = 0;  // kInt; kDuration (nanoseconds); kStatus / kKind (the enum number)
  double f = 0;   // kFloat
  std::string s;  // kString

  // An int, float or duration: what compares with < and > as a number.
  bool IsNumber() const {
    return type == Type::kInt || type == Type::kFloat || type == Type::kDuration;
  }
  // A number's value as a double (an int or a duration converted).
  double AsDouble() const { return type == Type::kFloat ? f : static_cast<double>(i); }
};

enum class Op {
  // arithmetic
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  // comparison
  kEq,
  kNeq,
  kGt,
  kGte,
  kLt,
  kLte,
  kRegex,     // =~ (fully anchored RE2)
  kNotRegex,  // !~
  // logical
  kAnd,
  kOr,
  // unary
  kNot,     // !x
  kNegate,  // -x
};

inline bool IsComparison(Op op) {
  return op == Op::kEq || op == Op::kNeq || op == Op::kGt || op == Op::kGte || op == Op::kLt ||
         op == Op::kLte || op == Op::kRegex || op == Op::kNotRegex;
}

// `a op b` -> `b op' a` for a comparison (`1 < x` is `x > 1`); others unchanged.
inline Op FlipComparison(Op op) {
  switch (op) {
    case Op::kGt:
      return Op::kLt;
    case Op::kGte:
      return Op::kLte;
    case Op::kLt:
      return Op::kGt;
    case Op::kLte:
      return Op::kGte;
    default:
      return op;
  }
}

// Applies an ordering comparison (= != > >= < <=); false for any other operator.
template <typename T>
bool CompareOrdered(Op op, const T& a, const T& b) {
  switch (op) {
    case Op::kEq:
      return a == b;
    case Op::kNeq:
      return a != b;
    case Op::kGt:
      return a > b;
    case Op::kGte:
      return a >= b;
    case Op::kLt:
      return a < b;
    case Op::kLte:
      return a <= b;
    default:
      return false;
  }
}

// A per-span expression inside `{ }` (and the argument of by/select/avg/...).
struct FieldExpr {
  enum class Kind { kLiteral, kAttribute, kIntrinsic, kUnary, kBinary };
  Kind kind = Kind::kLiteral;
  Pos pos;
  Value literal;                                 // kLiteral
  AttributeScope scope = AttributeScope::kNone;  // kAttribute
  std::string name;                              // kAttribute: the key (`http.url`)
  Intrinsic intrinsic = Intrinsic::kSpanName;    // kIntrinsic
  Op op = Op::kEq;                               // kUnary, kBinary
  std::unique_ptr<FieldExpr> lhs;                // kUnary's operand, kBinary's left
  std::unique_ptr<FieldExpr> rhs;                // kBinary's right
};

// Operators between spansets.
enum class SpansetOp {
  kAnd,  // &&  both sides match in the trace: the union of their spans
  kOr,   // ||  either side: the union
  // structural: the result is (spans of) the right-hand side, unless a union form
  kChild,            // >    rhs spans whose parent is in lhs
  kDescendant,       // >>   rhs spans with an ancestor in lhs
  kParent,           // <    rhs spans that are the parent of an lhs span
  kAncestor,         // <<   rhs spans that are an ancestor of an lhs span
  kSibling,          // ~    rhs spans that share a parent with another lhs span
  kUnionChild,       // &>   the matching spans of both sides
  kUnionDescendant,  // &>>
  kUnionParent,      // &<
  kUnionAncestor,    // &<<
  kUnionSibling,     // &~
  kNotChild,         // !>   rhs spans whose parent is not in lhs
  kNotDescendant,    // !>>
  kNotParent,        // !<
  kNotAncestor,      // !<<
  kNotSibling,       // !~
};

struct Pipeline;

struct SpansetExpr {
  enum class Kind { kFilter, kBinary, kPipeline };
  Kind kind = Kind::kFilter;
  Pos pos;
  std::unique_ptr<FieldExpr> filter;   // kFilter; null for `{ }` (every span)
  SpansetOp op = SpansetOp::kAnd;      // kBinary
  std::unique_ptr<SpansetExpr> lhs;    // kBinary
  std::unique_ptr<SpansetExpr> rhs;    // kBinary
  std::unique_ptr<Pipeline> pipeline;  // kPipeline: a parenthesized pipeline
};

enum class AggregateFn { kCount, kAvg, kMin, kMax, kSum };

// An expression over a whole spanset (in pipelines: `count() > 2`, `avg(duration) > 1s`).
struct ScalarExpr {
  enum class Kind { kLiteral, kAggregate, kBinary };
  Kind kind = Kind::kLiteral;
  Pos pos;
  Value literal;                         // kLiteral
  AggregateFn fn = AggregateFn::kCount;  // kAggregate
  std::unique_ptr<FieldExpr> field;      // kAggregate: the argument (null for count())
  Op op = Op::kAdd;                      // kBinary: arithmetic
  std::unique_ptr<ScalarExpr> lhs;
  std::unique_ptr<ScalarExpr> rhs;
};

struct ScalarFilter {
  Op op = Op::kGt;  // a comparison
  std::unique_ptr<ScalarExpr> lhs;
  std::unique_ptr<ScalarExpr> rhs;
};

struct Stage {
  enum class Kind { kSpanset, kScalarFilter, kBy, kSelect, kCoalesce };
  Kind kind = Kind::kSpanset;
  Pos pos;
  std::unique_ptr<SpansetExpr> spanset;            // kSpanset
  ScalarFilter scalar_filter;                      // kScalarFilter
  std::vector<std::unique_ptr<FieldExpr>> fields;  // kBy (one), kSelect (one or more)
};

struct Pipeline {
  std::vector<Stage> stages;  // at least one; the first is a kSpanset
};

// A TraceQL metrics stage (`| rate() by (x)`): parsed so that the error can be precise;
// search answers "not supported" for metrics queries.
struct MetricsStage {
  Pos pos;
  std::string function;                          // rate, count_over_time, ...
  std::vector<std::unique_ptr<FieldExpr>> args;  // the attribute argument, if any
  std::vector<Value> params;                     // numeric parameters (quantiles, k)
  std::unique_ptr<SpansetExpr> compare_filter;   // compare({...})
  std::vector<std::unique_ptr<FieldExpr>> by;    // by(...) fields
  std::string second_stage;                      // "topk" / "bottomk" or empty
  int64_t second_stage_k = 0;
};

// `with(name = value, ...)`.
struct Hint {
  std::string name;
  Value value;
};

struct Query {
  std::unique_ptr<Pipeline> pipeline;
  std::optional<MetricsStage> metrics;
  std::vector<Hint> hints;
};

// The operator as written in a query (`+`, `=~`, `!`).
std::string_view OpSymbol(Op op);
// The keyword of a status or kind number (`error`, `server`); "unknown" outside the enum.
std::string_view StatusKeyword(int64_t code);
std::string_view KindKeyword(int64_t kind);

// The aggregate's name as written in a query (`count`, `avg`, ...).
std::string_view AggregateName(AggregateFn fn);

// Canonical text of a tree (fully parenthesized where it matters); parsing it again gives
// an equal tree. For tests, errors and logs.
std::string ToString(const FieldExpr& e);
std::string ToString(const SpansetExpr& e);
std::string ToString(const Pipeline& p);
std::string ToString(const Query& q);

}  // namespace strand::traceql
