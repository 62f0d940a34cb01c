#include "traceql/tag_values.h"

#include "absl/strings/str_cat.h"
#include "traceql/evaluator.h"
#include "traceql/trace_view.h"

namespace strand::traceql {

std::optional<TagValue> ToTagValue(const Value& v) {
  switch (v.type) {
    case Value::Type::kString:
      return TagValue{"string", v.s};
    case Value::Type::kInt:
      return TagValue{"int", absl::StrCat(v.i)};
    case Value::Type::kFloat:
      return TagValue{"float", ValueToText(v)};
    case Value::Type::kBool:
      return TagValue{"bool", v.b ? "true" : "false"};
    case Value::Type::kStatus:
    case Value::Type::kKind:
      return TagValue{"keyword", ValueToText(v)};
    default:
      return std::nullopt;
  }
}

namespace {

void AddValue(const otlp::SpanBatch& b, const otlp::AnyValue& v, std::set<TagValue>& out) {
  Value x;
  switch (v.type) {
    case otlp::ValueType::kString:
      x.type = Value::Type::kString;
      x.s = std::string(v.str);
      break;
    case otlp::ValueType::kInt:
      x.type = Value::Type::kInt;
      x.i = v.int_value;
      break;
    case otlp::ValueType::kDouble:
      x.type = Value::Type::kFloat;
      x.f = v.double_value;
      break;
    case otlp::ValueType::kBool:
      x.type = Value::Type::kBool;
      x.b = v.bool_value;
      break;
    case otlp::ValueType::kArray:
      for (uint32_t k = v.children.begin; k < v.children.end; ++k) {
        if (b.array_values[k].type != otlp::ValueType::kArray) AddValue(b, b.array_values[k], out);
      }
      return;
    default:
      return;
  }
  if (auto t = ToTagValue(x)) out.insert(std::move(*t));
}

void AddAttr(const otlp::SpanBatch& b, otlp::Range r, const std::string& key,
             std::set<TagValue>& out) {
  if (const otlp::AnyValue* v = FindAttribute(b, r, key)) AddValue(b, *v, out);
}

}  // namespace

void CollectTagValues(const otlp::SpanBatch& b, const FieldExpr& field, std::set<TagValue>& out) {
  if (field.kind == FieldExpr::Kind::kIntrinsic) {
    for (const auto& s : b.spans) {
      switch (field.intrinsic) {
        case Intrinsic::kSpanName:
          out.insert({"string", std::string(s.name)});
          break;
        case Intrinsic::kSpanStatusMessage:
          if (!s.status_message.empty()) out.insert({"string", std::string(s.status_message)});
          break;
        case Intrinsic::kTraceRootName:
          if (!s.has_parent) out.insert({"string", std::string(s.name)});
          break;
        case Intrinsic::kTraceRootService:
          if (!s.has_parent && s.scope_index < b.scopes.size()) {
            const uint32_t r = b.scopes[s.scope_index].resource_index;
            if (r < b.resources.size()) {
              const otlp::AnyValue* v = FindAttribute(b, b.resources[r].attributes, "service.name");
              if (v != nullptr && v->type == otlp::ValueType::kString) {
                out.insert({"string", std::string(v->str)});
              }
            }
          }
          break;
        default:
          break;
      }
    }
    for (const auto& e : b.events) {
      if (field.intrinsic == Intrinsic::kEventName) out.insert({"string", std::string(e.name)});
    }
    for (const auto& sc : b.scopes) {
      if (field.intrinsic == Intrinsic::kInstrumentationName && !sc.name.empty()) {
        out.insert({"string", std::string(sc.name)});
      }
      if (field.intrinsic == Intrinsic::kInstrumentationVersion && !sc.version.empty()) {
        out.insert({"string", std::string(sc.version)});
      }
    }
    return;
  }
  const std::string& key = field.name;
  switch (field.scope) {
    case AttributeScope::kResource:
      for (const auto& r : b.resources) AddAttr(b, r.attributes, key, out);
      break;
    case AttributeScope::kSpan:
      for (const auto& s : b.spans) AddAttr(b, s.attributes, key, out);
      break;
    case AttributeScope::kNone:
      for (const auto& r : b.resources) AddAttr(b, r.attributes, key, out);
      for (const auto& s : b.spans) AddAttr(b, s.attributes, key, out);
      break;
    case AttributeScope::kEvent:
      for (const auto& e : b.events) AddAttr(b, e.attributes, key, out);
      break;
    case AttributeScope::kLink:
      for (const auto& l : b.links) AddAttr(b, l.attributes, key, out);
      break;
    case AttributeScope::kInstrumentation:
      for (const auto& s : b.scopes) AddAttr(b, s.attributes, key, out);
      break;
  }
}

}  // namespace strand::traceql
