#include "pipeline/processor/attributes/config_value.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "re2/re2.h"

namespace strand::pipeline {

using otlp::AnyValue;
using otlp::ValueType;

AnyValue ConfigValue::ToAnyValue() const {
  AnyValue v;
  v.type = type;
  v.bool_value = bool_value;
  v.int_value = int_value;
  v.double_value = double_value;
  if (type == ValueType::kString) v.str = str;
  return v;
}

bool ConfigValue::Equals(const AnyValue& v) const {
  if (v.type != type) return false;
  switch (type) {
    case ValueType::kString:
      return v.str == str;
    case ValueType::kBool:
      return v.bool_value == bool_value;
    case ValueType::kInt:
      return v.int_value == int_value;
    case ValueType::kDouble:
      return v.double_value == double_value;
    default:
      return false;
  }
}

namespace {

bool ParseInteger(const std::string& text, int64_t& out) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    base = digits[1] == 'x' ? 16 : 8;
    digits.remove_prefix(2);
  }
  if (digits.empty()) return false;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  if (negative) {
    if (magnitude > kMax + 1) return false;
    out = magnitude == kMax + 1 ? std::numeric_limits<int64_t>::min()
                                : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMax) return false;
    out = static_cast<int64_t>(magnitude);
  }
  return true;
}

bool ParseFloat(const std::string& text, double& out) {
  static const RE2 kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  static const RE2 kInf(R"([-+]?\.(inf|Inf|INF))");
  static const RE2 kNan(R"(\.(nan|NaN|NAN))");
  if (RE2::FullMatch(text, kNan)) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (RE2::FullMatch(text, kInf)) {
    out = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    return true;
  }
  return RE2::FullMatch(text, kFloat) && absl::SimpleAtod(text, &out);
}

}  // namespace

std::optional<ConfigValue> ReadConfigValue(ConfigMap& map, const std::string& key) {
  YAML::Node n = map.ReadNode(key);
  if (!n || n.IsNull()) return std::nullopt;
  if (!n.IsScalar()) {
    map.Fail(key, "must be a string, a number or a bool (lists and maps are not supported)");
    return std::nullopt;
  }
  ConfigValue v;
  const std::string& text = n.Scalar();
  v.str = text;
  v.type = ValueType::kString;
  if (n.Tag() == "!") return v;  // quoted
  if (n.Tag() != "?") {
    map.Fail(key, "explicit YAML tags are not supported; quote the value for a string");
    return std::nullopt;
  }
  if (text == "~" || text == "null" || text == "Null" || text == "NULL") return std::nullopt;
  if (text == "true" || text == "True" || text == "TRUE") {
    v.type = ValueType::kBool;
    v.bool_value = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    v.type = ValueType::kBool;
  } else if (ParseInteger(text, v.int_value)) {
    v.type = ValueType::kInt;
  } else if (ParseFloat(text, v.double_value)) {
    v.type = ValueType::kDouble;
  }
  if (v.type != ValueType::kString) v.str.clear();
  return v;
}

std::optional<std::string> ScalarToString(const AnyValue& v) {
  switch (v.type) {
    case ValueType::kString:
      return std::string(v.str);
    case ValueType::kBool:
      return std::string(v.bool_value ? "true" : "false");
    case ValueType::kInt:
      return std::to_string(v.int_value);
    case ValueType::kDouble: {
      if (std::isnan(v.double_value)) return std::string("NaN");
      if (std::isinf(v.double_value)) return std::string(v.double_value > 0 ? "+Inf" : "-Inf");
      char buf[400];  // the longest fixed form of a double is about 330 characters
      auto [end, ec] =
          std::to_chars(buf, buf + sizeof(buf), v.double_value, std::chars_format::fixed);
      if (ec != std::errc()) return std::nullopt;
      return std::string(buf, end);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace strand::pipeline
