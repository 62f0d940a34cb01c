#include "pipeline/ottl/ottl_condition.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "pipeline/ottl/ottl_parser.h"
#include "re2/re2.h"

namespace strand::pipeline {
namespace {

using ottl::Expr;
using ottl::Field;
using traceql::CompareOrdered;
using traceql::Op;

// A value while evaluating. Strings and bytes are views into the batch or the tree, or
// into `own` when computed; maps and slices refer to the batch's vectors.
struct Value {
  enum class Type { kNil, kBool, kInt, kFloat, kString, kBytes, kMap, kSlice };
  Type type = Type::kNil;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string_view view;
  std::string own;
  bool owned = false;
  const std::vector<otlp::KeyValue>* kvs = nullptr;  // kMap
  otlp::Range range;                                 // kMap, kSlice

  std::string_view str() const { return owned ? std::string_view(own) : view; }

  static Value Int(int64_t v) {
    Value out;
    out.type = Type::kInt;
    out.i = v;
    return out;
  }
  static Value Str(std::string_view v, Type type = Type::kString) {
    Value out;
    out.type = type;
    out.view = v;
    return out;
  }
  static Value Owned(std::string v) {
    Value out;
    out.type = Type::kString;
    out.own = std::move(v);
    out.owned = true;
    return out;
  }
  static Value Map(const std::vector<otlp::KeyValue>& kvs, otlp::Range range) {
    Value out;
    out.type = Type::kMap;
    out.kvs = &kvs;
    out.range = range;
    return out;
  }
};

Value FromAny(const otlp::SpanBatch& b, const otlp::AnyValue& v) {
  Value out;
  switch (v.type) {
    case otlp::ValueType::kNone:
      break;
    case otlp::ValueType::kString:
      return Value::Str(v.str);
    case otlp::ValueType::kBytes:
      return Value::Str(v.str, Value::Type::kBytes);
    case otlp::ValueType::kBool:
      out.type = Value::Type::kBool;
      out.b = v.bool_value;
      break;
    case otlp::ValueType::kInt:
      return Value::Int(v.int_value);
    case otlp::ValueType::kDouble:
      out.type = Value::Type::kFloat;
      out.f = v.double_value;
      break;
    case otlp::ValueType::kArray:
      out.type = Value::Type::kSlice;
      out.range = v.children;
      break;
    case otlp::ValueType::kKvList:
      return Value::Map(b.kvlist_values, v.children);
  }
  return out;
}

bool AnyEqual(const otlp::SpanBatch& b, const otlp::AnyValue& x, const otlp::AnyValue& y);

// Maps are equal when they hold the same keys with equal values, in any order.
bool MapsEqual(const otlp::SpanBatch& b, const std::vector<otlp::KeyValue>& xs, otlp::Range xr,
               const std::vector<otlp::KeyValue>& ys, otlp::Range yr) {
  if (xr.size() != yr.size()) return false;
  for (uint32_t i = xr.begin; i < xr.end; ++i) {
    bool found = false;
    for (uint32_t j = yr.begin; j < yr.end && !found; ++j) {
      found = xs[i].key == ys[j].key && AnyEqual(b, xs[i].value, ys[j].value);
    }
    if (!found) return false;
  }
  return true;
}

bool SlicesEqual(const otlp::SpanBatch& b, otlp::Range x, otlp::Range y) {
  if (x.size() != y.size()) return false;
  for (uint32_t i = 0; i < x.size(); ++i) {
    if (!AnyEqual(b, b.array_values[x.begin + i], b.array_values[y.begin + i])) return false;
  }
  return true;
}

bool AnyEqual(const otlp::SpanBatch& b, const otlp::AnyValue& x, const otlp::AnyValue& y) {
  if (x.type != y.type) return false;
  switch (x.type) {
    case otlp::ValueType::kNone:
      return true;
    case otlp::ValueType::kString:
    case otlp::ValueType::kBytes:
      return x.str == y.str;
    case otlp::ValueType::kBool:
      return x.bool_value == y.bool_value;
    case otlp::ValueType::kInt:
      return x.int_value == y.int_value;
    case otlp::ValueType::kDouble:
      return x.double_value == y.double_value;
    case otlp::ValueType::kArray:
      return SlicesEqual(b, x.children, y.children);
    case otlp::ValueType::kKvList:
      return MapsEqual(b, b.kvlist_values, x.children, b.kvlist_values, y.children);
  }
  return false;
}

bool Compare(const otlp::SpanBatch& batch, Op op, const Value& a, const Value& b) {
  using T = Value::Type;
  const bool a_num = a.type == T::kInt || a.type == T::kFloat;
  const bool b_num = b.type == T::kInt || b.type == T::kFloat;
  if (a_num && b_num) {
    if (a.type == T::kInt && b.type == T::kInt) return CompareOrdered(op, a.i, b.i);
    return CompareOrdered(op, a.type == T::kInt ? static_cast<double>(a.i) : a.f,
                          b.type == T::kInt ? static_cast<double>(b.i) : b.f);
  }
  // Different types (nil among them) are "not equal": only != holds.
  if (a.type != b.type) return op == Op::kNeq;
  switch (a.type) {
    case T::kNil:
      return op == Op::kEq;
    case T::kBool:
      return CompareOrdered(op, a.b, b.b);
    case T::kString:
    case T::kBytes:
      return CompareOrdered(op, a.str(), b.str());
    case T::kMap:
    case T::kSlice: {
      if (op != Op::kEq && op != Op::kNeq) return false;
      bool eq = a.type == T::kMap ? MapsEqual(batch, *a.kvs, a.range, *b.kvs, b.range)
                                  : SlicesEqual(batch, a.range, b.range);
      return eq == (op == Op::kEq);
    }
    default:
      return false;
  }
}

std::string_view KindName(int32_t kind, bool deprecated) {
  static constexpr std::string_view kNames[] = {"Unspecified", "Internal", "Server",
                                                "Client",      "Producer", "Consumer"};
  static constexpr std::string_view kDeprecated[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                                     "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                                     "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
  if (kind < 0 || kind > 5) return "";
  return deprecated ? kDeprecated[kind] : kNames[kind];
}

// The hex form of an ID; "" for the all-zero (empty) ID, as pdata prints it.
Value IdString(std::string_view bytes) {
  if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; })) {
    return Value::Str("");
  }
  return Value::Owned(HexEncode(bytes));
}

// One entry of a W3C tracestate (`k1=v1,k2=v2`), or nil.
Value TraceStateEntry(std::string_view state, std::string_view key) {
  while (!state.empty()) {
    size_t comma = state.find(',');
    std::string_view member = state.substr(0, comma);
    state = comma == std::string_view::npos ? std::string_view() : state.substr(comma + 1);
    while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) {
      member.remove_prefix(1);
    }
    size_t eq = member.find('=');
    if (eq != std::string_view::npos && member.substr(0, eq) == key) {
      std::string_view v = member.substr(eq + 1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return Value::Str(v);
    }
  }
  return Value();
}

class Evaluation {
 public:
  Evaluation(const otlp::SpanBatch& b, uint32_t span, uint32_t event)
      : b_(b),
        span_(b.spans[span]),
        event_(event < b.events.size() ? &b.events[event] : nullptr),
        scope_(b.scopes[span_.scope_index]),
        resource_(b.resources[scope_.resource_index]) {}

  absl::StatusOr<bool> Test(const Expr& e) const {
    switch (e.kind) {
      case Expr::Kind::kBool:
        return e.b;
      case Expr::Kind::kNot: {
        auto v = Test(*e.args[0]);
        if (!v.ok()) return v;
        return !*v;
      }
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        const bool is_and = e.kind == Expr::Kind::kAnd;
        for (const auto& arg : e.args) {
          auto v = Test(*arg);
          if (!v.ok()) return v;
          if (*v != is_and) return !is_and;
        }
        return is_and;
      }
      case Expr::Kind::kIsMatch:
        return IsMatch(e);
      case Expr::Kind::kCompare: {
        auto a = Eval(*e.args[0]);
        if (!a.ok()) return a.status();
        auto b = Eval(*e.args[1]);
        if (!b.ok()) return b.status();
        return Compare(b_, e.op, *a, *b);
      }
      default:
        // The parser accepts only boolean expressions as conditions.
        return absl::InternalError("not a boolean expression");
    }
  }

 private:
  absl::StatusOr<Value> Eval(const Expr& e) const {
    Value v;
    switch (e.kind) {
      case Expr::Kind::kNil:
        return v;
      case Expr::Kind::kInt:
        return Value::Int(e.i);
      case Expr::Kind::kFloat:
        v.type = Value::Type::kFloat;
        v.f = e.f;
        return v;
      case Expr::Kind::kString:
        return Value::Str(e.s);
      case Expr::Kind::kBytes:
        return Value::Str(e.s, Value::Type::kBytes);
      case Expr::Kind::kPath:
        return Path(e);
      default: {
        auto t = Test(e);
        if (!t.ok()) return t.status();
        v.type = Value::Type::kBool;
        v.b = *t;
        return v;
      }
    }
  }

  absl::StatusOr<bool> IsMatch(const Expr& e) const {
    auto target = Eval(*e.args[0]);
    if (!target.ok()) return target.status();
    std::string text;
    switch (target->type) {
      case Value::Type::kNil:
        return false;
      case Value::Type::kString:
        return re2::RE2::PartialMatch(target->str(), *e.regex);
      case Value::Type::kBool:
        text = target->b ? "true" : "false";
        break;
      case Value::Type::kInt:
        text = absl::StrCat(target->i);
        break;
      case Value::Type::kFloat: {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof(buf), target->f, std::chars_format::fixed);
        text.assign(buf, r.ptr);
        break;
      }
      case Value::Type::kBytes:
        text = Base64Encode(target->str());
        break;
      case Value::Type::kMap:
      case Value::Type::kSlice:
        return absl::InvalidArgumentError(
            absl::StrCat("at column ", e.column, ": not supported: IsMatch on a map or slice"));
    }
    return re2::RE2::PartialMatch(text, *e.regex);
  }

  absl::StatusOr<Value> Path(const Expr& e) const {
    switch (e.field) {
      case Field::kSpanName:
        return Value::Str(span_.name);
      case Field::kSpanKind:
        return Value::Int(span_.kind);
      case Field::kSpanKindString:
      case Field::kSpanKindDeprecatedString:
        return Value::Str(KindName(span_.kind, e.field == Field::kSpanKindDeprecatedString));
      case Field::kSpanStatusCode:
        return Value::Int(span_.status_code);
      case Field::kSpanStatusMessage:
        return Value::Str(span_.status_message);
      case Field::kSpanTraceId:
        return Value::Str(otlp::IdBytes(span_.trace_id), Value::Type::kBytes);
      case Field::kSpanTraceIdString:
        return IdString(otlp::IdBytes(span_.trace_id));
      case Field::kSpanId:
        return Value::Str(otlp::IdBytes(span_.span_id), Value::Type::kBytes);
      case Field::kSpanIdString:
        return IdString(otlp::IdBytes(span_.span_id));
      case Field::kSpanParentSpanId:
        return Value::Str(otlp::IdBytes(span_.parent_span_id), Value::Type::kBytes);
      case Field::kSpanParentSpanIdString:
        return IdString(otlp::IdBytes(span_.parent_span_id));
      case Field::kSpanTraceState:
        return e.keys.empty() ? Value::Str(span_.trace_state)
                              : TraceStateEntry(span_.trace_state, e.keys[0].str);
      case Field::kSpanStartTime:
        return Value::Int(static_cast<int64_t>(span_.start_time_unix_nano));
      case Field::kSpanEndTime:
        return Value::Int(static_cast<int64_t>(span_.end_time_unix_nano));
      case Field::kSpanDroppedAttributes:
        return Value::Int(span_.dropped_attributes_count);
      case Field::kSpanDroppedEvents:
        return Value::Int(span_.dropped_events_count);
      case Field::kSpanDroppedLinks:
        return Value::Int(span_.dropped_links_count);
      case Field::kSpanAttributes:
        return Index(e, Value::Map(b_.attributes, span_.attributes));
      case Field::kResourceAttributes:
        return Index(e, Value::Map(b_.attributes, resource_.attributes));
      case Field::kResourceDroppedAttributes:
        return Value::Int(resource_.dropped_attributes_count);
      case Field::kScopeName:
        return Value::Str(scope_.name);
      case Field::kScopeVersion:
        return Value::Str(scope_.version);
      case Field::kScopeDroppedAttributes:
        return Value::Int(scope_.dropped_attributes_count);
      case Field::kScopeAttributes:
        return Index(e, Value::Map(b_.attributes, scope_.attributes));
      default:
        break;
    }
    if (event_ == nullptr) return absl::InternalError("event path evaluated without an event");
    switch (e.field) {
      case Field::kEventName:
        return Value::Str(event_->name);
      case Field::kEventTime:
        return Value::Int(static_cast<int64_t>(event_->time_unix_nano));
      case Field::kEventDroppedAttributes:
        return Value::Int(event_->dropped_attributes_count);
      default:
        return Index(e, Value::Map(b_.attributes, event_->attributes));
    }
  }

  // Applies the path's keys to a map: a missing key is nil; indexing a value that is not
  // a map (string key) or a slice (int key) is an error, as is an index out of range.
  absl::StatusOr<Value> Index(const Expr& e, Value v) const {
    for (const ottl::PathKey& key : e.keys) {
      if (v.type == Value::Type::kNil) return v;
      if (!key.is_int && v.type == Value::Type::kMap) {
        Value found;
        for (uint32_t j = v.range.begin; j < v.range.end; ++j) {
          if ((*v.kvs)[j].key == key.str) {
            found = FromAny(b_, (*v.kvs)[j].value);
            break;
          }
        }
        v = std::move(found);
      } else if (key.is_int && v.type == Value::Type::kSlice) {
        if (key.index < 0 || key.index >= v.range.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("at column ", e.column, ": index ", key.index, " out of range"));
        }
        v = FromAny(b_, b_.array_values[v.range.begin + key.index]);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("at column ", e.column, ": cannot index a value that is not a ",
                         key.is_int ? "slice with [" + std::to_string(key.index) + "]"
                                    : "map with [\"" + key.str + "\"]"));
      }
    }
    return v;
  }

  const otlp::SpanBatch& b_;
  const otlp::Span& span_;
  const otlp::Event* event_;
  const otlp::Scope& scope_;
  const otlp::Resource& resource_;
};

}  // namespace

OttlCondition::OttlCondition(std::string text, ottl::Context context,
                             std::unique_ptr<ottl::Expr> root)
    : text_(std::move(text)), context_(context), root_(std::move(root)) {}

OttlCondition::~OttlCondition() = default;

absl::StatusOr<std::unique_ptr<OttlCondition>> OttlCondition::Parse(std::string_view text,
                                                                    ottl::Context context) {
  auto root = ottl::ParseCondition(text, context);
  if (!root.ok()) return root.status();
  return std::unique_ptr<OttlCondition>(
      new OttlCondition(std::string(text), context, std::move(*root)));
}

absl::StatusOr<bool> OttlCondition::Evaluate(const otlp::SpanBatch& batch, uint32_t span,
                                             uint32_t event) const {
  const uint32_t no_event = static_cast<uint32_t>(batch.events.size());
  return Evaluation(batch, span, context_ == ottl::Context::kSpanEvent ? event : no_event)
      .Test(*root_);
}

}  // namespace strand::pipeline
