// Test-only helpers for SpanBatch: a canonical text form, and a check of the batch's
// internal references. Two batches hold the same spans exactly when their dumps are equal,
// whatever the layout of their vectors (a decoder may leave unreferenced entries behind,
// or keep resources and scopes without spans). Header-only and free of gtest, so fuzz
// targets can use it too.
#pragma once

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/span_batch.h"

namespace strand::otlp::testutil {

namespace batch_testutil_internal {

inline void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

inline void AppendHex(std::string& out, std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
}

template <typename T>
bool InBounds(const Range& r, const std::vector<T>& v) {
  return r.begin <= r.end && r.end <= v.size();
}

inline void AppendKeyValues(std::string& out, const SpanBatch& b, const std::vector<KeyValue>& v,
                            Range r, int depth);

inline void AppendValue(std::string& out, const SpanBatch& b, const AnyValue& v, int depth) {
  if (depth > 200) {
    out += "<too deep>";
    return;
  }
  char buf[64];
  switch (v.type) {
    case ValueType::kNone:
      out += "<none>";
      return;
    case ValueType::kString:
      AppendQuoted(out, v.str);
      return;
    case ValueType::kBytes:
      out += "b";
      AppendQuoted(out, v.str);
      return;
    case ValueType::kBool:
      out += v.bool_value ? "true" : "false";
      return;
    case ValueType::kInt:
      std::snprintf(buf, sizeof(buf), "%" PRId64, v.int_value);
      out += buf;
      return;
    case ValueType::kDouble:
      // Any NaN is the same value: JSON cannot carry a NaN's sign or payload.
      if (std::isnan(v.double_value)) {
        out += "NaN";
        return;
      }
      std::snprintf(buf, sizeof(buf), "%.17gd", v.double_value);
      out += buf;
      return;
    case ValueType::kArray:
      if (!InBounds(v.children, b.array_values)) {
        out += "<bad array range>";
        return;
      }
      out += "[";
      for (uint32_t i = v.children.begin; i < v.children.end; ++i) {
        if (i != v.children.begin) out += ", ";
        AppendValue(out, b, b.array_values[i], depth + 1);
      }
      out += "]";
      return;
    case ValueType::kKvList:
      AppendKeyValues(out, b, b.kvlist_values, v.children, depth + 1);
      return;
  }
  out += "<bad type>";
}

inline void AppendKeyValues(std::string& out, const SpanBatch& b, const std::vector<KeyValue>& v,
                            Range r, int depth) {
  if (!InBounds(r, v)) {
    out += "<bad attribute range>";
    return;
  }
  out += "{";
  for (uint32_t i = r.begin; i < r.end; ++i) {
    if (i != r.begin) out += ", ";
    AppendQuoted(out, v[i].key);
    out += ": ";
    AppendValue(out, b, v[i].value, depth);
  }
  out += "}";
}

inline void AppendUint(std::string& out, const char* label, uint64_t n) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), " %s=%" PRIu64, label, n);
  out += buf;
}

}  // namespace batch_testutil_internal

// One block of lines per span, in batch order, with its resource and scope spelled out.
inline std::string DumpBatch(const SpanBatch& b) {
  using batch_testutil_internal::AppendHex;
  using batch_testutil_internal::AppendKeyValues;
  using batch_testutil_internal::AppendQuoted;
  using batch_testutil_internal::AppendUint;
  using batch_testutil_internal::InBounds;
  std::string out;
  for (size_t n = 0; n < b.spans.size(); ++n) {
    const Span& s = b.spans[n];
    out += "span ";
    out += std::to_string(n);
    out += ": trace=";
    AppendHex(out, IdBytes(s.trace_id));
    out += " span=";
    AppendHex(out, IdBytes(s.span_id));
    out += " parent=";
    if (s.has_parent) {
      AppendHex(out, IdBytes(s.parent_span_id));
    } else {
      out += "-";
    }
    out += " name=";
    AppendQuoted(out, s.name);
    out += " state=";
    AppendQuoted(out, s.trace_state);
    AppendUint(out, "kind", static_cast<uint32_t>(s.kind));
    AppendUint(out, "flags", s.flags);
    AppendUint(out, "start", s.start_time_unix_nano);
    AppendUint(out, "end", s.end_time_unix_nano);
    AppendUint(out, "status", static_cast<uint32_t>(s.status_code));
    out += " message=";
    AppendQuoted(out, s.status_message);
    AppendUint(out, "dropped_attributes", s.dropped_attributes_count);
    AppendUint(out, "dropped_events", s.dropped_events_count);
    AppendUint(out, "dropped_links", s.dropped_links_count);
    out += "\n  attributes ";
    AppendKeyValues(out, b, b.attributes, s.attributes, 0);
    if (s.scope_index >= b.scopes.size()) {
      out += "\n  <bad scope index>\n";
      continue;
    }
    const Scope& scope = b.scopes[s.scope_index];
    out += "\n  scope name=";
    AppendQuoted(out, scope.name);
    out += " version=";
    AppendQuoted(out, scope.version);
    out += " schema=";
    AppendQuoted(out, scope.schema_url);
    AppendUint(out, "dropped_attributes", scope.dropped_attributes_count);
    out += " ";
    AppendKeyValues(out, b, b.attributes, scope.attributes, 0);
    if (scope.resource_index >= b.resources.size()) {
      out += "\n  <bad resource index>\n";
      continue;
    }
    const Resource& resource = b.resources[scope.resource_index];
    out += "\n  resource schema=";
    AppendQuoted(out, resource.schema_url);
    AppendUint(out, "dropped_attributes", resource.dropped_attributes_count);
    out += " ";
    AppendKeyValues(out, b, b.attributes, resource.attributes, 0);
    if (!InBounds(s.events, b.events)) {
      out += "\n  <bad event range>";
    } else {
      for (uint32_t i = s.events.begin; i < s.events.end; ++i) {
        const Event& e = b.events[i];
        out += "\n  event";
        AppendUint(out, "time", e.time_unix_nano);
        out += " name=";
        AppendQuoted(out, e.name);
        AppendUint(out, "dropped_attributes", e.dropped_attributes_count);
        out += " ";
        AppendKeyValues(out, b, b.attributes, e.attributes, 0);
      }
    }
    if (!InBounds(s.links, b.links)) {
      out += "\n  <bad link range>";
    } else {
      for (uint32_t i = s.links.begin; i < s.links.end; ++i) {
        const Link& l = b.links[i];
        out += "\n  link trace=";
        AppendHex(out, IdBytes(l.trace_id));
        out += " span=";
        AppendHex(out, IdBytes(l.span_id));
        out += " state=";
        AppendQuoted(out, l.trace_state);
        AppendUint(out, "flags", l.flags);
        AppendUint(out, "dropped_attributes", l.dropped_attributes_count);
        out += " ";
        AppendKeyValues(out, b, b.attributes, l.attributes, 0);
      }
    }
    out += "\n";
  }
  return out;
}

// Empty if every index and range in the batch points inside its vectors, else the first
// violation found.
inline std::string BatchInvariantViolation(const SpanBatch& b) {
  using batch_testutil_internal::InBounds;
  auto check_values = [&](const KeyValue& kv) -> bool {
    const AnyValue& v = kv.value;
    if (v.type == ValueType::kArray) return InBounds(v.children, b.array_values);
    if (v.type == ValueType::kKvList) return InBounds(v.children, b.kvlist_values);
    return true;
  };
  for (const KeyValue& kv : b.attributes) {
    if (!check_values(kv)) return "attribute value children out of range";
  }
  for (const KeyValue& kv : b.kvlist_values) {
    if (!check_values(kv)) return "kvlist value children out of range";
  }
  for (const AnyValue& v : b.array_values) {
    if (v.type == ValueType::kArray && !InBounds(v.children, b.array_values)) {
      return "array element children out of range";
    }
    if (v.type == ValueType::kKvList && !InBounds(v.children, b.kvlist_values)) {
      return "array element children out of range";
    }
  }
  for (const Resource& r : b.resources) {
    if (!InBounds(r.attributes, b.attributes)) return "resource attributes out of range";
  }
  for (const Scope& s : b.scopes) {
    if (s.resource_index >= b.resources.size()) return "scope resource index out of range";
    if (!InBounds(s.attributes, b.attributes)) return "scope attributes out of range";
  }
  for (const Span& s : b.spans) {
    if (s.scope_index >= b.scopes.size()) return "span scope index out of range";
    if (!InBounds(s.attributes, b.attributes)) return "span attributes out of range";
    if (!InBounds(s.events, b.events)) return "span events out of range";
    if (!InBounds(s.links, b.links)) return "span links out of range";
  }
  for (const Event& e : b.events) {
    if (!InBounds(e.attributes, b.attributes)) return "event attributes out of range";
  }
  for (const Link& l : b.links) {
    if (!InBounds(l.attributes, b.attributes)) return "link attributes out of range";
  }
  return {};
}

}  // namespace strand::otlp::testutil
