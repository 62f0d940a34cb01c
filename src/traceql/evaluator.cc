#include "traceql/evaluator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "re2/re2.h"

namespace strand::traceql {

// A value while evaluating. Strings are views (into batches or the query) unless a hex ID
// was formatted, which `owned` holds. kMissing is an absent attribute or intrinsic; kNil
// is the `nil` literal (the two differ only in `= nil` / `!= nil`).
struct Evaluator::RtValue {
  // kOpaque: an attribute that is there but not comparable (bytes, kvlist, empty value).
  enum class T {
    kMissing,
    kNil,
    kBool,
    kInt,
    kFloat,
    kString,
    kDuration,
    kStatus,
    kKind,
    kArray,
    kOpaque
  };
  T t = T::kMissing;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string_view s;
  std::string owned;
  bool s_owned = false;
  const otlp::SpanBatch* batch = nullptr;  // kArray
  otlp::Range arr;

  std::string_view str() const { return s_owned ? std::string_view(owned) : s; }
  bool numeric() const { return t == T::kInt || t == T::kFloat || t == T::kDuration; }
  bool integral() const { return t == T::kInt || t == T::kDuration; }
  double num() const { return t == T::kFloat ? f : static_cast<double>(i); }

  static RtValue Bool(bool v) {
    RtValue r;
    r.t = T::kBool;
    r.b = v;
    return r;
  }
  static RtValue Int(T t, int64_t v) {
    RtValue r;
    r.t = t;
    r.i = v;
    return r;
  }
  static RtValue Float(double v) {
    RtValue r;
    r.t = T::kFloat;
    r.f = v;
    return r;
  }
  static RtValue Str(std::string_view v) {
    RtValue r;
    r.t = T::kString;
    r.s = v;
    return r;
  }
  static RtValue Owned(std::string v) {
    RtValue r;
    r.t = T::kString;
    r.owned = std::move(v);
    r.s_owned = true;
    return r;
  }
};

struct Evaluator::Context {
  const TraceView* t;
  uint32_t span;
  int32_t event = -1;  // index into the batch's events, or -1
  int32_t link = -1;   // index into the batch's links, or -1
};

namespace {

// A span's duration: end - start, 0 when the end is before the start (as block statistics
// count it, so pruning and evaluation agree).
int64_t DurationOf(uint64_t start, uint64_t end) {
  return end >= start && end - start <= static_cast<uint64_t>(INT64_MAX)
             ? static_cast<int64_t>(end - start)
             : 0;
}

// The shortest text that reads back as the same double.
std::string DoubleText(double f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  return std::string(buf, end);
}

// The key an output field is shown under (Tempo shows attribute keys without scope).
std::string OutputKey(const FieldExpr& e) {
  if (e.kind == FieldExpr::Kind::kAttribute) return e.name;
  switch (e.intrinsic) {
    case Intrinsic::kSpanStatus:
      return "status";
    case Intrinsic::kSpanStatusMessage:
      return "statusMessage";
    case Intrinsic::kSpanKind:
      return "kind";
    default:
      return "";
  }
}

std::string FieldIdentity(const FieldExpr& e) {
  if (e.kind == FieldExpr::Kind::kAttribute) {
    return absl::StrCat("a", static_cast<int>(e.scope), ":", e.name);
  }
  return absl::StrCat("i", static_cast<int>(e.intrinsic));
}

bool RefersTo(const FieldExpr& e, AttributeScope scope, Intrinsic a, Intrinsic b) {
  if (e.kind == FieldExpr::Kind::kAttribute && e.scope == scope) return true;
  if (e.kind == FieldExpr::Kind::kIntrinsic && (e.intrinsic == a || e.intrinsic == b)) {
    return true;
  }
  return (e.lhs && RefersTo(*e.lhs, scope, a, b)) || (e.rhs && RefersTo(*e.rhs, scope, a, b));
}

}  // namespace

std::string ValueToText(const Value& v) {
  switch (v.type) {
    case Value::Type::kNil:
      return "nil";
    case Value::Type::kBool:
      return v.b ? "true" : "false";
    case Value::Type::kInt:
      return absl::StrCat(v.i);
    case Value::Type::kFloat:
      return DoubleText(v.f);
    case Value::Type::kString:
      return v.s;
    case Value::Type::kDuration:
      return absl::StrCat(v.i, "ns");
    case Value::Type::kStatus:
      return std::string(StatusKeyword(v.i));
    case Value::Type::kKind:
      return std::string(KindKeyword(v.i));
  }
  return "";
}

Evaluator::Evaluator(Query query) : query_(std::move(query)) {}
Evaluator::~Evaluator() = default;

absl::StatusOr<std::unique_ptr<Evaluator>> Evaluator::Compile(Query query) {
  if (query.metrics.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not supported: TraceQL metrics (", query.metrics->function,
                     ") in search; metrics queries are not built yet"));
  }
  if (!query.pipeline || query.pipeline->stages.empty()) {
    return absl::InvalidArgumentError("empty query");
  }
  std::unique_ptr<Evaluator> ev(new Evaluator(std::move(query)));
  if (auto s = ev->Prepare(); !s.ok()) return s;
  return ev;
}

absl::Status Evaluator::Prepare() { return PreparePipeline(*query_.pipeline); }

absl::Status Evaluator::PreparePipeline(const Pipeline& p) {
  for (const Stage& st : p.stages) {
    switch (st.kind) {
      case Stage::Kind::kSpanset:
        if (auto s = PrepareSpanset(*st.spanset); !s.ok()) return s;
        break;
      case Stage::Kind::kSelect:
        for (const auto& f : st.fields) {
          if (auto s = PrepareField(*f); !s.ok()) return s;
          // Selected fields are shown even when they are not in a condition.
          std::vector<const FieldExpr*> stack = {f.get()};
          while (!stack.empty()) {
            const FieldExpr* e = stack.back();
            stack.pop_back();
            if (e->kind == FieldExpr::Kind::kAttribute || e->kind == FieldExpr::Kind::kIntrinsic) {
              const std::string key = OutputKey(*e);
              if (key.empty()) continue;
              const std::string id = FieldIdentity(*e);
              bool seen = false;
              for (const auto& o : output_fields_) seen |= FieldIdentity(*o.expr) == id;
              if (!seen) output_fields_.push_back({e, key});
            }
            if (e->lhs) stack.push_back(e->lhs.get());
            if (e->rhs) stack.push_back(e->rhs.get());
          }
        }
        break;
      case Stage::Kind::kBy:
        for (const auto& f : st.fields) {
          if (auto s = PrepareField(*f); !s.ok()) return s;
        }
        break;
      case Stage::Kind::kScalarFilter: {
        std::vector<const ScalarExpr*> stack = {st.scalar_filter.lhs.get(),
                                                st.scalar_filter.rhs.get()};
        while (!stack.empty()) {
          const ScalarExpr* e = stack.back();
          stack.pop_back();
          if (e == nullptr) continue;
          if (e->field) {
            if (auto s = PrepareField(*e->field); !s.ok()) return s;
          }
          stack.push_back(e->lhs.get());
          stack.push_back(e->rhs.get());
        }
        break;
      }
      case Stage::Kind::kCoalesce:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status Evaluator::PrepareSpanset(const SpansetExpr& e) {
  switch (e.kind) {
    case SpansetExpr::Kind::kFilter:
      if (e.filter) {
        if (auto s = PrepareField(*e.filter); !s.ok()) return s;
        if (RefersTo(*e.filter, AttributeScope::kEvent, Intrinsic::kEventName,
                     Intrinsic::kEventTimeSinceStart)) {
          uses_events_.insert(e.filter.get());
        }
        if (RefersTo(*e.filter, AttributeScope::kLink, Intrinsic::kLinkSpanId,
                     Intrinsic::kLinkTraceId)) {
          uses_links_.insert(e.filter.get());
        }
        // The attributes and span intrinsics a condition tests are shown with the spans.
        std::vector<const FieldExpr*> stack = {e.filter.get()};
        while (!stack.empty()) {
          const FieldExpr* f = stack.back();
          stack.pop_back();
          if ((f->kind == FieldExpr::Kind::kAttribute && f->scope != AttributeScope::kEvent &&
               f->scope != AttributeScope::kLink) ||
              f->kind == FieldExpr::Kind::kIntrinsic) {
            const std::string key = OutputKey(*f);
            const std::string id = FieldIdentity(*f);
            bool seen = key.empty();
            for (const auto& o : output_fields_) seen |= FieldIdentity(*o.expr) == id;
            if (!seen) output_fields_.push_back({f, key});
          }
          if (f->rhs) stack.push_back(f->rhs.get());
          if (f->lhs) stack.push_back(f->lhs.get());
        }
      }
      return absl::OkStatus();
    case SpansetExpr::Kind::kBinary:
      if (auto s = PrepareSpanset(*e.lhs); !s.ok()) return s;
      return PrepareSpanset(*e.rhs);
    case SpansetExpr::Kind::kPipeline:
      return PreparePipeline(*e.pipeline);
  }
  return absl::OkStatus();
}

absl::Status Evaluator::PrepareField(const FieldExpr& e) {
  if (e.kind == FieldExpr::Kind::kAttribute) {
    if (e.scope == AttributeScope::kSpan || e.scope == AttributeScope::kNone) {
      if (std::find(span_keys_.begin(), span_keys_.end(), e.name) == span_keys_.end()) {
        span_keys_.push_back(e.name);
      }
    }
    uses_event_fields_ |= e.scope == AttributeScope::kEvent;
    uses_link_fields_ |= e.scope == AttributeScope::kLink;
  }
  if (e.kind == FieldExpr::Kind::kIntrinsic) {
    uses_event_fields_ |=
        e.intrinsic == Intrinsic::kEventName || e.intrinsic == Intrinsic::kEventTimeSinceStart;
    uses_link_fields_ |=
        e.intrinsic == Intrinsic::kLinkSpanId || e.intrinsic == Intrinsic::kLinkTraceId;
  }
  if (e.kind == FieldExpr::Kind::kBinary && (e.op == Op::kRegex || e.op == Op::kNotRegex)) {
    if (!e.rhs || e.rhs->kind != FieldExpr::Kind::kLiteral ||
        e.rhs->literal.type != Value::Type::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("parse error at line ", e.pos.line, ", column ", e.pos.column,
                       ": a regular expression must be a string literal"));
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    auto re = std::make_unique<RE2>(e.rhs->literal.s, opts);
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parse error at line ", e.rhs->pos.line, ", column ", e.rhs->pos.column,
                       ": invalid regular expression: ", re->error()));
    }
    regexes_.emplace_back(&e, std::move(re));
  }
  if (e.lhs) {
    if (auto s = PrepareField(*e.lhs); !s.ok()) return s;
  }
  if (e.rhs) {
    if (auto s = PrepareField(*e.rhs); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool Evaluator::MatchesEverything() const {
  const Pipeline& p = *query_.pipeline;
  return p.stages.size() == 1 && p.stages[0].kind == Stage::Kind::kSpanset &&
         p.stages[0].spanset->kind == SpansetExpr::Kind::kFilter && !p.stages[0].spanset->filter;
}

namespace {

Evaluator::RtValue FromAny(const otlp::SpanBatch& batch, const otlp::AnyValue* v) {
  using R = Evaluator::RtValue;
  if (v == nullptr) return R();
  switch (v->type) {
    case otlp::ValueType::kString:
      return R::Str(v->str);
    case otlp::ValueType::kBool:
      return R::Bool(v->bool_value);
    case otlp::ValueType::kInt:
      return R::Int(R::T::kInt, v->int_value);
    case otlp::ValueType::kDouble:
      return R::Float(v->double_value);
    case otlp::ValueType::kArray: {
      R r;
      r.t = R::T::kArray;
      r.batch = &batch;
      r.arr = v->children;
      return r;
    }
    default: {
      R r;  // bytes, kvlist and empty values: there, but not comparable
      r.t = R::T::kOpaque;
      return r;
    }
  }
}

// A double as an int64 value of type `t`, or missing when out of range.
Evaluator::RtValue IntFromDouble(Evaluator::RtValue::T t, double f) {
  using R = Evaluator::RtValue;
  if (!std::isfinite(f) || f >= 9.2e18 || f <= -9.2e18) return R();
  return R::Int(t, static_cast<int64_t>(std::llround(f)));
}

Evaluator::RtValue Arith(Op op, const Evaluator::RtValue& a, const Evaluator::RtValue& b) {
  using R = Evaluator::RtValue;
  if (!a.numeric() || !b.numeric()) return R();
  const bool duration = a.t == R::T::kDuration || b.t == R::T::kDuration;
  const bool ints = a.integral() && b.integral();
  const R::T int_type = duration ? R::T::kDuration : R::T::kInt;
  auto result = [&](double f) -> R {
    if (!std::isfinite(f)) return R();
    if (duration) return IntFromDouble(R::T::kDuration, f);
    return R::Float(f);
  };
  // Integer results that overflow have no value (every comparison with them is false).
  auto checked = [&](bool overflow, int64_t v) { return overflow ? R() : R::Int(int_type, v); };
  int64_t v = 0;
  switch (op) {
    case Op::kAdd:
      if (ints) {
        const bool overflow = __builtin_add_overflow(a.i, b.i, &v);
        return checked(overflow, v);
      }
      return result(a.num() + b.num());
    case Op::kSub:
      if (ints) {
        const bool overflow = __builtin_sub_overflow(a.i, b.i, &v);
        return checked(overflow, v);
      }
      return result(a.num() - b.num());
    case Op::kMul:
      if (ints) {
        const bool overflow = __builtin_mul_overflow(a.i, b.i, &v);
        return checked(overflow, v);
      }
      return result(a.num() * b.num());
    case Op::kDiv:
      if (b.num() == 0) return R();
      return result(a.num() / b.num());
    case Op::kMod:
      if (ints) {
        if (b.i == 0 || (a.i == INT64_MIN && b.i == -1)) return R();
        return R::Int(int_type, a.i % b.i);
      }
      if (b.num() == 0) return R();
      return result(std::fmod(a.num(), b.num()));
    case Op::kPow:
      return result(std::pow(a.num(), b.num()));
    default:
      return R();
  }
}

}  // namespace

Evaluator::RtValue Evaluator::Eval(const FieldExpr& e, const Context& ctx) const {
  using R = RtValue;
  const TraceView& t = *ctx.t;
  switch (e.kind) {
    case FieldExpr::Kind::kLiteral: {
      const Value& v = e.literal;
      switch (v.type) {
        case Value::Type::kNil: {
          R r;
          r.t = R::T::kNil;
          return r;
        }
        case Value::Type::kBool:
          return R::Bool(v.b);
        case Value::Type::kInt:
          return R::Int(R::T::kInt, v.i);
        case Value::Type::kFloat:
          return R::Float(v.f);
        case Value::Type::kString:
          return R::Str(v.s);
        case Value::Type::kDuration:
          return R::Int(R::T::kDuration, v.i);
        case Value::Type::kStatus:
          return R::Int(R::T::kStatus, v.i);
        case Value::Type::kKind:
          return R::Int(R::T::kKind, v.i);
      }
      return R();
    }
    case FieldExpr::Kind::kAttribute: {
      const otlp::SpanBatch& b = t.batch(ctx.span);
      const otlp::Span& s = t.span(ctx.span);
      auto resource_attrs = [&]() -> otlp::Range {
        if (s.scope_index >= b.scopes.size()) return {};
        const uint32_t r = b.scopes[s.scope_index].resource_index;
        return r < b.resources.size() ? b.resources[r].attributes : otlp::Range{};
      };
      switch (e.scope) {
        case AttributeScope::kSpan:
          return FromAny(b, FindAttribute(b, s.attributes, e.name));
        case AttributeScope::kResource:
          return FromAny(b, FindAttribute(b, resource_attrs(), e.name));
        case AttributeScope::kNone: {
          const otlp::AnyValue* v = FindAttribute(b, s.attributes, e.name);
          if (v == nullptr) v = FindAttribute(b, resource_attrs(), e.name);
          return FromAny(b, v);
        }
        case AttributeScope::kEvent:
          if (ctx.event < 0) return R();
          return FromAny(b, FindAttribute(b, b.events[ctx.event].attributes, e.name));
        case AttributeScope::kLink:
          if (ctx.link < 0) return R();
          return FromAny(b, FindAttribute(b, b.links[ctx.link].attributes, e.name));
        case AttributeScope::kInstrumentation:
          if (s.scope_index >= b.scopes.size()) return R();
          return FromAny(b, FindAttribute(b, b.scopes[s.scope_index].attributes, e.name));
      }
      return R();
    }
    case FieldExpr::Kind::kIntrinsic: {
      const otlp::SpanBatch& b = t.batch(ctx.span);
      const otlp::Span& s = t.span(ctx.span);
      switch (e.intrinsic) {
        case Intrinsic::kSpanName:
          return R::Str(s.name);
        case Intrinsic::kSpanStatus:
          return R::Int(R::T::kStatus, s.status_code);
        case Intrinsic::kSpanStatusMessage:
          return R::Str(s.status_message);
        case Intrinsic::kSpanKind:
          return R::Int(R::T::kKind, s.kind);
        case Intrinsic::kSpanDuration:
          return R::Int(R::T::kDuration, DurationOf(s.start_time_unix_nano, s.end_time_unix_nano));
        case Intrinsic::kSpanId:
          return R::Owned(HexEncode(otlp::IdBytes(s.span_id)));
        case Intrinsic::kSpanParentId:
          if (!s.has_parent) return R();
          return R::Owned(HexEncode(otlp::IdBytes(s.parent_span_id)));
        case Intrinsic::kTraceDuration:
          return R::Int(R::T::kDuration, DurationOf(t.min_start(), t.max_end()));
        case Intrinsic::kTraceRootName:
          if (t.root() < 0) return R();
          return R::Str(t.RootSpanName());
        case Intrinsic::kTraceRootService:
          if (t.root() < 0) return R();
          return R::Str(t.RootServiceName());
        case Intrinsic::kTraceId:
          return R::Owned(HexEncode(otlp::IdBytes(t.id())));
        case Intrinsic::kEventName:
          if (ctx.event < 0) return R();
          return R::Str(b.events[ctx.event].name);
        case Intrinsic::kEventTimeSinceStart:
          if (ctx.event < 0) return R();
          return R::Int(R::T::kDuration, static_cast<int64_t>(b.events[ctx.event].time_unix_nano -
                                                              s.start_time_unix_nano));
        case Intrinsic::kLinkSpanId:
          if (ctx.link < 0) return R();
          return R::Owned(HexEncode(otlp::IdBytes(b.links[ctx.link].span_id)));
        case Intrinsic::kLinkTraceId:
          if (ctx.link < 0) return R();
          return R::Owned(HexEncode(otlp::IdBytes(b.links[ctx.link].trace_id)));
        case Intrinsic::kInstrumentationName:
          if (s.scope_index >= b.scopes.size()) return R();
          return R::Str(b.scopes[s.scope_index].name);
        case Intrinsic::kInstrumentationVersion:
          if (s.scope_index >= b.scopes.size()) return R();
          return R::Str(b.scopes[s.scope_index].version);
      }
      return R();
    }
    case FieldExpr::Kind::kUnary: {
      if (e.op == Op::kNot) {
        R v = Eval(*e.lhs, ctx);
        if (v.t != R::T::kBool) return R();
        return R::Bool(!v.b);
      }
      R v = Eval(*e.lhs, ctx);
      if (v.t == R::T::kFloat) return R::Float(-v.f);
      if (v.integral() && v.i != INT64_MIN) return R::Int(v.t, -v.i);
      return R();
    }
    case FieldExpr::Kind::kBinary: {
      if (e.op == Op::kAnd) return R::Bool(Test(*e.lhs, ctx) && Test(*e.rhs, ctx));
      if (e.op == Op::kOr) return R::Bool(Test(*e.lhs, ctx) || Test(*e.rhs, ctx));
      R a = Eval(*e.lhs, ctx);
      R b = Eval(*e.rhs, ctx);
      if (!IsComparison(e.op)) return Arith(e.op, a, b);
      const RE2* re = nullptr;
      if (e.op == Op::kRegex || e.op == Op::kNotRegex) {
        for (const auto& [node, compiled] : regexes_) {
          if (node == &e) re = compiled.get();
        }
      }
      return R::Bool(Compare(e.op, a, b, re));
    }
  }
  return R();
}

bool Evaluator::Compare(Op op, const RtValue& a, const RtValue& b, const RE2* re) {
  using T = RtValue::T;
  if (a.t == T::kNil || b.t == T::kNil) {
    // `= nil` / `!= nil` ask whether a value is there (any type, empty arrays too).
    const bool both_nil =
        (a.t == T::kNil || a.t == T::kMissing) && (b.t == T::kNil || b.t == T::kMissing);
    if (op == Op::kEq) return both_nil;
    if (op == Op::kNeq) return !both_nil;
    return false;
  }
  if (a.t == T::kOpaque || b.t == T::kOpaque) return false;  // bytes, kvlists: not comparable
  if (a.t == T::kArray || b.t == T::kArray) {
    const RtValue& arr = a.t == T::kArray ? a : b;
    const RtValue& other = a.t == T::kArray ? b : a;
    const bool negated = op == Op::kNeq || op == Op::kNotRegex;
    const Op positive = op == Op::kNeq ? Op::kEq : op == Op::kNotRegex ? Op::kRegex : op;
    if (arr.arr.empty() || other.t == T::kMissing) return false;
    bool any = false;
    for (uint32_t k = arr.arr.begin; k < arr.arr.end && !any; ++k) {
      const RtValue elem = FromAny(*arr.batch, &arr.batch->array_values[k]);
      if (elem.t == T::kArray) continue;
      any = a.t == T::kArray ? Compare(positive, elem, other, re)
                             : Compare(positive, other, elem, re);
    }
    return negated ? !any : any;
  }
  if (a.t == T::kMissing || b.t == T::kMissing) return false;
  if (op == Op::kRegex || op == Op::kNotRegex) {
    if (re == nullptr || a.t != T::kString) return false;
    const bool m = RE2::FullMatch(a.str(), *re);
    return op == Op::kRegex ? m : !m;
  }
  if (a.numeric() && b.numeric()) {
    if (a.integral() && b.integral()) return CompareOrdered(op, a.i, b.i);
    return CompareOrdered(op, a.num(), b.num());
  }
  if (a.t != b.t) return false;
  switch (a.t) {
    case T::kString:
      return CompareOrdered(op, a.str(), b.str());
    case T::kBool:
      return (op == Op::kEq || op == Op::kNeq) && CompareOrdered(op, a.b, b.b);
    case T::kStatus:
    case T::kKind:
      return (op == Op::kEq || op == Op::kNeq) && CompareOrdered(op, a.i, b.i);
    default:
      return false;
  }
}

bool Evaluator::Test(const FieldExpr& e, const Context& ctx) const {
  RtValue v = Eval(e, ctx);
  return v.t == RtValue::T::kBool && v.b;
}

bool Evaluator::SpanMatches(const FieldExpr* filter, const TraceView& t, uint32_t i) const {
  if (filter == nullptr) return true;
  Context ctx{&t, i};
  const bool events = uses_events_.contains(filter);
  const bool links = uses_links_.contains(filter);
  if (!events && !links) return Test(*filter, ctx);
  const otlp::Span& s = t.span(i);
  auto with_links = [&]() {
    if (!links || s.links.empty()) return Test(*filter, ctx);
    for (uint32_t l = s.links.begin; l < s.links.end; ++l) {
      ctx.link = static_cast<int32_t>(l);
      if (Test(*filter, ctx)) return true;
    }
    return false;
  };
  if (!events || s.events.empty()) return with_links();
  for (uint32_t ev = s.events.begin; ev < s.events.end; ++ev) {
    ctx.event = static_cast<int32_t>(ev);
    if (with_links()) return true;
  }
  return false;
}

Evaluator::RtValue Evaluator::EvalScalar(const ScalarExpr& e, const TraceView& t,
                                         const SpanSet& set) const {
  using R = RtValue;
  switch (e.kind) {
    case ScalarExpr::Kind::kLiteral: {
      FieldExpr lit;
      lit.kind = FieldExpr::Kind::kLiteral;
      lit.literal = e.literal;
      R v = Eval(lit, Context{&t, 0});
      if (v.t == R::T::kString) v = R::Owned(std::string(v.s));  // `lit` dies here
      return v;
    }
    case ScalarExpr::Kind::kBinary:
      return Arith(e.op, EvalScalar(*e.lhs, t, set), EvalScalar(*e.rhs, t, set));
    case ScalarExpr::Kind::kAggregate:
      break;
  }
  if (e.fn == AggregateFn::kCount)
    return R::Int(R::T::kInt, static_cast<int64_t>(set.spans.size()));
  // Integers (and durations) aggregate exactly as int64 while they can; doubles otherwise.
  double sum = 0, lo = 0, hi = 0;
  int64_t isum = 0, ilo = 0, ihi = 0;
  bool isum_ok = true;
  size_t count = 0;
  bool all_int = true, any_duration = false;
  for (uint32_t i : set.spans) {
    R v = Eval(*e.field, Context{&t, i});
    if (!v.numeric()) continue;
    const double x = v.num();
    if (count == 0 || x < lo) lo = x;
    if (count == 0 || x > hi) hi = x;
    sum += x;
    if (v.integral()) {
      if (count == 0 || v.i < ilo) ilo = v.i;
      if (count == 0 || v.i > ihi) ihi = v.i;
      isum_ok = isum_ok && !__builtin_add_overflow(isum, v.i, &isum);
    }
    all_int &= v.integral();
    any_duration |= v.t == R::T::kDuration;
    ++count;
  }
  if (count == 0) return R();
  const R::T int_type = any_duration ? R::T::kDuration : R::T::kInt;
  switch (e.fn) {
    case AggregateFn::kAvg:
      if (any_duration) return IntFromDouble(R::T::kDuration, sum / static_cast<double>(count));
      return R::Float(sum / static_cast<double>(count));
    case AggregateFn::kMin:
      if (all_int) return R::Int(int_type, ilo);
      return any_duration ? IntFromDouble(R::T::kDuration, lo) : R::Float(lo);
    case AggregateFn::kMax:
      if (all_int) return R::Int(int_type, ihi);
      return any_duration ? IntFromDouble(R::T::kDuration, hi) : R::Float(hi);
    case AggregateFn::kSum:
      if (all_int) return isum_ok ? R::Int(int_type, isum) : R();
      return any_duration ? IntFromDouble(R::T::kDuration, sum) : R::Float(sum);
    case AggregateFn::kCount:
      break;
  }
  return R();
}

std::vector<SpanSet> Evaluator::EvalPipeline(const Pipeline& p, const TraceView& t,
                                             const std::vector<uint32_t>& universe) const {
  std::vector<SpanSet> sets;
  for (size_t k = 0; k < p.stages.size(); ++k) {
    const Stage& st = p.stages[k];
    if (k == 0) {
      SpanSet first;
      if (st.kind == Stage::Kind::kSpanset) {
        first.spans = EvalSpanset(*st.spanset, t, universe);
      } else {
        first.spans = universe;  // a pipeline may start with a stage over every span
      }
      if (first.spans.empty()) return {};
      sets.push_back(std::move(first));
      if (st.kind == Stage::Kind::kSpanset) continue;
    }
    std::vector<SpanSet> next;
    switch (st.kind) {
      case Stage::Kind::kSpanset:
        for (SpanSet& set : sets) {
          set.spans = EvalSpanset(*st.spanset, t, set.spans);
          if (!set.spans.empty()) next.push_back(std::move(set));
        }
        break;
      case Stage::Kind::kScalarFilter:
        for (SpanSet& set : sets) {
          const RtValue a = EvalScalar(*st.scalar_filter.lhs, t, set);
          const RtValue b = EvalScalar(*st.scalar_filter.rhs, t, set);
          if (Compare(st.scalar_filter.op, a, b, nullptr)) next.push_back(std::move(set));
        }
        break;
      case Stage::Kind::kBy:
        for (SpanSet& set : sets) {
          std::map<std::string, SpanSet> groups;  // by the value's type and text
          for (uint32_t i : set.spans) {
            std::vector<std::pair<std::string, Value>> labels = set.labels;
            std::string group_key;
            bool missing = false;
            for (const auto& f : st.fields) {
              Value v = FieldValue(*f, t, i);
              if (v.type == Value::Type::kNil) {
                missing = true;
                break;
              }
              absl::StrAppend(&group_key, static_cast<int>(v.type), ":", ValueToText(v), "\x1f");
              labels.emplace_back(absl::StrCat("by(", ToString(*f), ")"), std::move(v));
            }
            if (missing) continue;
            SpanSet& g = groups[group_key];
            if (g.spans.empty()) g.labels = std::move(labels);
            g.spans.push_back(i);
          }
          for (auto& [key, g] : groups) next.push_back(std::move(g));
        }
        break;
      case Stage::Kind::kSelect:
        next = std::move(sets);
        break;
      case Stage::Kind::kCoalesce: {
        SpanSet all;
        for (const SpanSet& set : sets) all.spans = SortedUnion(all.spans, set.spans);
        if (!all.spans.empty()) next.push_back(std::move(all));
        break;
      }
    }
    sets = std::move(next);
    if (sets.empty()) return {};
  }
  return sets;
}

std::vector<SpanSet> Evaluator::Evaluate(const TraceView& trace) const {
  std::vector<uint32_t> universe(trace.size());
  for (uint32_t i = 0; i < universe.size(); ++i) universe[i] = i;
  return EvalPipeline(*query_.pipeline, trace, universe);
}

Value Evaluator::FieldValue(const FieldExpr& field, const TraceView& trace, uint32_t i,
                            int32_t event, int32_t link) const {
  const RtValue v = Eval(field, Context{&trace, i, event, link});
  Value out;
  switch (v.t) {
    case RtValue::T::kBool:
      out.type = Value::Type::kBool;
      out.b = v.b;
      break;
    case RtValue::T::kInt:
      out.type = Value::Type::kInt;
      out.i = v.i;
      break;
    case RtValue::T::kFloat:
      out.type = Value::Type::kFloat;
      out.f = v.f;
      break;
    case RtValue::T::kString:
      out.type = Value::Type::kString;
      out.s = std::string(v.str());
      break;
    case RtValue::T::kDuration:
      out.type = Value::Type::kDuration;
      out.i = v.i;
      break;
    case RtValue::T::kStatus:
      out.type = Value::Type::kStatus;
      out.i = v.i;
      break;
    case RtValue::T::kKind:
      out.type = Value::Type::kKind;
      out.i = v.i;
      break;
    default:
      break;  // missing, nil literal, arrays: shown as nil
  }
  return out;
}

}  // namespace strand::traceql
