#include "query/planner.h"

#include <algorithm>

#include "re2/re2.h"

namespace strand::query {

using traceql::AttributeScope;
using traceql::FieldExpr;
using traceql::FlipComparison;
using traceql::Intrinsic;
using traceql::IsComparison;
using traceql::Op;
using traceql::Pipeline;
using traceql::Query;
using traceql::SpansetExpr;
using traceql::SpansetOp;
using traceql::Stage;
using traceql::Value;

namespace {

using block::AttributeColumnStats;
using block::DistinctStrings;
using block::Owner;
using block::RowGroupStats;

bool IsField(const FieldExpr& e) {
  return e.kind == FieldExpr::Kind::kAttribute || e.kind == FieldExpr::Kind::kIntrinsic;
}

// Whether some x in [lo, hi] satisfies `x op v` (int64 compares exactly; doubles would
// merge ints above 2^53).
template <typename T>
bool RangeMay(T lo, T hi, Op op, T v) {
  switch (op) {
    case Op::kEq:
      return lo <= v && v <= hi;
    case Op::kNeq:
      return !(lo == v && hi == v);
    case Op::kGt:
      return hi > v;
    case Op::kGte:
      return hi >= v;
    case Op::kLt:
      return lo < v;
    case Op::kLte:
      return lo <= v;
    default:
      return true;
  }
}

// Whether some value of a complete list satisfies the string comparison.
bool StringsMay(const DistinctStrings& list, Op op, const std::string& v, const re2::RE2* re) {
  if (!list.complete) return true;
  for (const std::string& x : list.values) {
    switch (op) {
      case Op::kEq:
        if (x == v) return true;
        break;
      case Op::kNeq:
        if (x != v) return true;
        break;
      case Op::kRegex:
        if (re == nullptr || RE2::FullMatch(x, *re)) return true;
        break;
      case Op::kNotRegex:
        if (re == nullptr || !RE2::FullMatch(x, *re)) return true;
        break;
      case Op::kGt:
        if (x > v) return true;
        break;
      case Op::kGte:
        if (x >= v) return true;
        break;
      case Op::kLt:
        if (x < v) return true;
        break;
      case Op::kLte:
        if (x <= v) return true;
        break;
      default:
        return true;
    }
  }
  return false;
}

bool IntsContain(const std::vector<int32_t>& list, int64_t v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Whether an attribute column of `owner` and `key` may satisfy `op literal`.
bool ColumnsMay(const RowGroupStats& s, Owner owner, const std::string& key, Op op,
                const Value& lit, const re2::RE2* re) {
  for (const AttributeColumnStats& c : s.columns) {
    if (c.owner != owner || c.key != key || c.value_count == 0) continue;
    switch (c.type) {
      case otlp::ValueType::kArray:
        return true;  // elements are not summarized
      case otlp::ValueType::kInt:
        if (!lit.IsNumber()) break;
        if (!c.has_range) return true;
        if (lit.type == Value::Type::kFloat ? RangeMay(static_cast<double>(c.min_int),
                                                       static_cast<double>(c.max_int), op, lit.f)
                                            : RangeMay(c.min_int, c.max_int, op, lit.i)) {
          return true;
        }
        break;
      case otlp::ValueType::kDouble:
        if (!lit.IsNumber()) break;
        // The range leaves NaNs out, and NaN != x holds: `!=` is not judged.
        if (!c.has_range || op == Op::kNeq ||
            RangeMay(c.min_double, c.max_double, op, lit.AsDouble())) {
          return true;
        }
        break;
      case otlp::ValueType::kString:
        if (lit.type != Value::Type::kString) break;
        if (!c.values.complete || StringsMay(c.values, op, lit.s, re)) return true;
        break;
      case otlp::ValueType::kBool:
        if (lit.type == Value::Type::kBool) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

bool ColumnExists(const RowGroupStats& s, Owner owner, const std::string& key) {
  for (const AttributeColumnStats& c : s.columns) {
    if (c.owner == owner && c.key == key && c.value_count > 0) return true;
  }
  return false;
}

bool ResourceMay(const RowGroupStats& s, const std::string& key, Op op, const Value& lit,
                 const re2::RE2* re) {
  if (s.resource_keys.complete &&
      !std::binary_search(s.resource_keys.values.begin(), s.resource_keys.values.end(), key)) {
    return false;
  }
  if (key == "service.name" && lit.type == Value::Type::kString) {
    return StringsMay(s.service_names, op, lit.s, re);
  }
  return true;
}

}  // namespace

Planner::Planner(const Query& query) : query_(query) {
  // Regexes of comparisons, compiled once (the evaluator has its own).
  std::vector<const FieldExpr*> stack;
  std::vector<const SpansetExpr*> sets;
  std::vector<const Pipeline*> pipes = {query.pipeline.get()};
  while (!pipes.empty()) {
    const Pipeline* p = pipes.back();
    pipes.pop_back();
    if (p == nullptr) continue;
    for (const Stage& st : p->stages) {
      if (st.spanset) sets.push_back(st.spanset.get());
    }
    while (!sets.empty()) {
      const SpansetExpr* e = sets.back();
      sets.pop_back();
      if (e->filter) stack.push_back(e->filter.get());
      if (e->lhs) sets.push_back(e->lhs.get());
      if (e->rhs) sets.push_back(e->rhs.get());
      if (e->pipeline) pipes.push_back(e->pipeline.get());
    }
  }
  while (!stack.empty()) {
    const FieldExpr* e = stack.back();
    stack.pop_back();
    if (e->kind == FieldExpr::Kind::kBinary && (e->op == Op::kRegex || e->op == Op::kNotRegex) &&
        e->rhs && e->rhs->kind == FieldExpr::Kind::kLiteral &&
        e->rhs->literal.type == Value::Type::kString) {
      RE2::Options opts;
      opts.set_log_errors(false);
      auto re = std::make_unique<RE2>(e->rhs->literal.s, opts);
      if (re->ok()) regexes_.emplace_back(e, std::move(re));
    }
    if (e->lhs) stack.push_back(e->lhs.get());
    if (e->rhs) stack.push_back(e->rhs.get());
  }
}

Planner::~Planner() = default;

const re2::RE2* Planner::RegexFor(const FieldExpr& comparison) const {
  for (const auto& [node, re] : regexes_) {
    if (node == &comparison) return re.get();
  }
  return nullptr;
}

bool Planner::MayMatch(const RowGroupStats& stats, bool loose) const {
  if (!query_.pipeline) return true;
  return PipelineMay(*query_.pipeline, stats, loose);
}

bool Planner::PipelineMay(const Pipeline& p, const RowGroupStats& s, bool loose) const {
  // Every stage filters what the first produced, so the first must match something.
  if (p.stages.empty() || p.stages[0].kind != Stage::Kind::kSpanset) return true;
  return SpansetMay(*p.stages[0].spanset, s, loose);
}

bool Planner::SpansetMay(const SpansetExpr& e, const RowGroupStats& s, bool loose) const {
  switch (e.kind) {
    case SpansetExpr::Kind::kFilter:
      return !e.filter || FieldMay(*e.filter, s);
    case SpansetExpr::Kind::kPipeline:
      return PipelineMay(*e.pipeline, s, loose);
    case SpansetExpr::Kind::kBinary:
      break;
  }
  switch (e.op) {
    case SpansetOp::kOr:
      return SpansetMay(*e.lhs, s, loose) || SpansetMay(*e.rhs, s, loose);
    case SpansetOp::kNotChild:
    case SpansetOp::kNotDescendant:
    case SpansetOp::kNotParent:
    case SpansetOp::kNotAncestor:
    case SpansetOp::kNotSibling:
      return SpansetMay(*e.rhs, s, loose);  // the left side may be empty
    default:
      if (loose) return SpansetMay(*e.lhs, s, loose) || SpansetMay(*e.rhs, s, loose);
      return SpansetMay(*e.lhs, s, loose) && SpansetMay(*e.rhs, s, loose);
  }
}

bool Planner::FieldMay(const FieldExpr& e, const RowGroupStats& s) const {
  if (e.kind == FieldExpr::Kind::kLiteral) {
    return e.literal.type != Value::Type::kBool || e.literal.b;
  }
  if (e.kind != FieldExpr::Kind::kBinary) return true;
  if (e.op == Op::kAnd) return FieldMay(*e.lhs, s) && FieldMay(*e.rhs, s);
  if (e.op == Op::kOr) return FieldMay(*e.lhs, s) || FieldMay(*e.rhs, s);
  if (!IsComparison(e.op)) return true;
  if (IsField(*e.lhs) && e.rhs->kind == FieldExpr::Kind::kLiteral) {
    return ComparisonMay(*e.lhs, e.op, e, s);
  }
  if (IsField(*e.rhs) && e.lhs->kind == FieldExpr::Kind::kLiteral && e.op != Op::kRegex &&
      e.op != Op::kNotRegex) {
    return ComparisonMay(*e.rhs, FlipComparison(e.op), e, s);
  }
  return true;
}

bool Planner::ComparisonMay(const FieldExpr& field, Op op, const FieldExpr& cmp,
                            const RowGroupStats& s) const {
  const FieldExpr& lit_expr = &field == cmp.lhs.get() ? *cmp.rhs : *cmp.lhs;
  const Value& lit = lit_expr.literal;
  if (lit.type == Value::Type::kNil) return true;  // `= nil` / `!= nil`: not judged
  const re2::RE2* re = RegexFor(cmp);
  if ((op == Op::kRegex || op == Op::kNotRegex) && re == nullptr) return true;
  if (field.kind == FieldExpr::Kind::kIntrinsic) {
    switch (field.intrinsic) {
      case Intrinsic::kSpanName:
        return lit.type != Value::Type::kString || StringsMay(s.span_names, op, lit.s, re);
      case Intrinsic::kSpanStatus:
        if (lit.type != Value::Type::kStatus) return true;
        if (op == Op::kEq) return IntsContain(s.status_codes, lit.i);
        if (op == Op::kNeq) return !(s.status_codes.size() == 1 && s.status_codes[0] == lit.i);
        return true;
      case Intrinsic::kSpanKind:
        if (lit.type != Value::Type::kKind) return true;
        if (op == Op::kEq) return IntsContain(s.kinds, lit.i);
        if (op == Op::kNeq) return !(s.kinds.size() == 1 && s.kinds[0] == lit.i);
        return true;
      case Intrinsic::kSpanDuration:
        if (!lit.IsNumber()) return true;
        if (lit.type == Value::Type::kFloat) {
          return RangeMay(static_cast<double>(s.min_duration), static_cast<double>(s.max_duration),
                          op, lit.f);
        }
        // Durations are end - start, 0 when the end is before the start, in the statistics
        // and in evaluation alike.
        return RangeMay(static_cast<int64_t>(std::min<uint64_t>(s.min_duration, INT64_MAX)),
                        static_cast<int64_t>(std::min<uint64_t>(s.max_duration, INT64_MAX)), op,
                        lit.i);
      default:
        return true;
    }
  }
  switch (field.scope) {
    case AttributeScope::kSpan:
      return ColumnsMay(s, Owner::kSpan, field.name, op, lit, re);
    case AttributeScope::kResource:
      return ResourceMay(s, field.name, op, lit, re);
    case AttributeScope::kNone:
      return ColumnsMay(s, Owner::kSpan, field.name, op, lit, re) ||
             ResourceMay(s, field.name, op, lit, re);
    case AttributeScope::kEvent:
      return ColumnExists(s, Owner::kEvent, field.name);
    case AttributeScope::kLink:
      return ColumnExists(s, Owner::kLink, field.name);
    case AttributeScope::kInstrumentation:
      return true;
  }
  return true;
}

}  // namespace strand::query
