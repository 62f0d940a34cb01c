// ConfigValue: a scalar from the collector YAML that keeps the type YAML gives it, for
// settings whose value becomes an attribute value (`value:` of attribute actions and of
// include/exclude attribute matchers).
//
// Typing follows the YAML 1.2 core schema as otelcol reads it: a quoted scalar is a
// string; a plain one is null (`~`, `null`, empty), a bool (`true`/`false` in lower,
// title or upper case), an integer (decimal, `0x` hex, `0o` octal), a float (decimal with
// a point or exponent, `.inf`, `.nan`), or else a string. Lists and maps are refused.
// Plain value type; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "otlp/span_batch.h"
#include "pipeline/config/config_map.h"

namespace strand::pipeline {

struct ConfigValue {
  otlp::ValueType type = otlp::ValueType::kNone;  // kString, kBool, kInt or kDouble
  std::string str;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;

  // The value as an AnyValue; a string value views `str` (valid while this lives).
  otlp::AnyValue ToAnyValue() const;
  // Same type and same value (strict matching).
  bool Equals(const otlp::AnyValue& v) const;
};

// Reads `key` of `map` as a typed scalar. nullopt when absent or null, and after
// map.Fail() for lists, maps and explicit tags.
std::optional<ConfigValue> ReadConfigValue(ConfigMap& map, const std::string& key);

// A string, bool, int or double value as text the way otelcol prints it (shortest
// round-trip decimal for doubles, no exponent; `+Inf`, `-Inf`, `NaN`). nullopt for other
// types.
std::optional<std::string> ScalarToString(const otlp::AnyValue& v);

}  // namespace strand::pipeline
