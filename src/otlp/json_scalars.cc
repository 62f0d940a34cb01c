#include "otlp/json_scalars.h"

#include <cmath>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace strand::otlp::json {
namespace {

// Longest piece of an offending input value quoted in an error message.
constexpr size_t kMaxQuotedValue = 64;

constexpr double kTwoTo63 = 9223372036854775808.0;
constexpr double kTwoTo64 = 18446744073709551616.0;

bool IsIntegral(double d, double min, double max_exclusive) {
  return d >= min && d < max_exclusive && std::trunc(d) == d;
}

absl::StatusOr<uint64_t> ReadUnsigned(Element e, std::string_view field, uint64_t max) {
  uint64_t out;
  switch (e.type()) {
    case Type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      if (v < 0) return FieldError(field, absl::StrCat("value ", v, " is negative"));
      out = static_cast<uint64_t>(v);
      break;
    }
    case Type::UINT64:
      out = e.get_uint64().value_unsafe();
      break;
    case Type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      if (!IsIntegral(d, 0, kTwoTo64)) {
        return FieldError(field, absl::StrCat("value ", d, " is not an unsigned integer"));
      }
      out = static_cast<uint64_t>(d);
      break;
    }
    case Type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      if (absl::SimpleAtoi(AbslView(s), &out)) break;
      double d;
      if (!absl::SimpleAtod(AbslView(s), &d) || !IsIntegral(d, 0, kTwoTo64)) {
        return ValueError(field, "expected an unsigned integer, got", s);
      }
      out = static_cast<uint64_t>(d);
      break;
    }
    default:
      return TypeError(field, "integer", e);
  }
  if (out > max) return FieldError(field, absl::StrCat("value ", out, " is out of range"));
  return out;
}

}  // namespace

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::ARRAY:
      return "array";
    case Type::OBJECT:
      return "object";
    case Type::INT64:
    case Type::UINT64:
    case Type::DOUBLE:
      return "number";
    case Type::STRING:
      return "string";
    case Type::BOOL:
      return "boolean";
    case Type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

absl::Status FieldError(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ": ", AbslView(reason)));
}

absl::Status TypeError(std::string_view field, std::string_view expected, Element e) {
  return FieldError(
      field, absl::StrCat("expected ", AbslView(expected), ", got ", AbslView(TypeName(e.type()))));
}

absl::Status ValueError(std::string_view field, std::string_view reason, std::string_view value) {
  std::string quoted = absl::CHexEscape(AbslView(value.substr(0, kMaxQuotedValue)));
  if (value.size() > kMaxQuotedValue) quoted += "...";
  return FieldError(field, absl::StrCat(AbslView(reason), " \"", quoted, "\""));
}

absl::Status Nested(const absl::Status& status, std::string_view parent) {
  return absl::InvalidArgumentError(absl::StrCat(AbslView(parent), ".", status.message()));
}

std::string IndexPath(std::string_view field, size_t index) {
  return absl::StrCat(AbslView(field), "[", index, "]");
}

absl::StatusOr<Object> ReadObject(Element e, std::string_view field) {
  if (e.type() != Type::OBJECT) return TypeError(field, "object", e);
  return e.get_object().value_unsafe();
}

absl::StatusOr<std::string_view> ReadStringView(Element e, std::string_view field) {
  if (e.type() != Type::STRING) return TypeError(field, "string", e);
  return e.get_string().value_unsafe();
}

absl::StatusOr<bool> ReadBool(Element e, std::string_view field) {
  if (e.type() != Type::BOOL) return TypeError(field, "boolean", e);
  return e.get_bool().value_unsafe();
}

absl::StatusOr<uint32_t> ReadUint32(Element e, std::string_view field) {
  ASSIGN_OR_RETURN(const uint64_t v, ReadUnsigned(e, field, std::numeric_limits<uint32_t>::max()));
  return static_cast<uint32_t>(v);
}

absl::StatusOr<uint64_t> ReadUint64(Element e, std::string_view field) {
  return ReadUnsigned(e, field, std::numeric_limits<uint64_t>::max());
}

absl::StatusOr<int64_t> ReadInt64(Element e, std::string_view field) {
  switch (e.type()) {
    case Type::INT64:
      return e.get_int64().value_unsafe();
    case Type::UINT64:
      return FieldError(field,
                        absl::StrCat("value ", e.get_uint64().value_unsafe(), " is out of range"));
    case Type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      if (!IsIntegral(d, -kTwoTo63, kTwoTo63)) {
        return FieldError(field, absl::StrCat("value ", d, " is not a 64-bit integer"));
      }
      return static_cast<int64_t>(d);
    }
    case Type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      int64_t v;
      if (absl::SimpleAtoi(AbslView(s), &v)) return v;
      double d;
      if (!absl::SimpleAtod(AbslView(s), &d) || !IsIntegral(d, -kTwoTo63, kTwoTo63)) {
        return ValueError(field, "expected a 64-bit integer, got", s);
      }
      return static_cast<int64_t>(d);
    }
    default:
      return TypeError(field, "integer", e);
  }
}

absl::StatusOr<double> ReadDouble(Element e, std::string_view field) {
  switch (e.type()) {
    case Type::INT64:
      return static_cast<double>(e.get_int64().value_unsafe());
    case Type::UINT64:
      return static_cast<double>(e.get_uint64().value_unsafe());
    case Type::DOUBLE:
      return e.get_double().value_unsafe();
    case Type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity") return std::numeric_limits<double>::infinity();
      if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
      double d;
      if (!absl::SimpleAtod(AbslView(s), &d)) return ValueError(field, "expected a number, got", s);
      return d;
    }
    default:
      return TypeError(field, "number", e);
  }
}

absl::StatusOr<int32_t> ReadEnum(Element e, std::string_view field,
                                 std::span<const std::string_view> names) {
  int64_t v;
  if (e.type() == Type::STRING) {
    const std::string_view s = e.get_string().value_unsafe();
    for (size_t i = 0; i < names.size(); ++i) {
      if (s == names[i]) return static_cast<int32_t>(i);
    }
    if (!absl::SimpleAtoi(AbslView(s), &v)) return ValueError(field, "unknown enum value", s);
  } else if (e.type() == Type::INT64 || e.type() == Type::UINT64 || e.type() == Type::DOUBLE) {
    ASSIGN_OR_RETURN(v, ReadInt64(e, field));
  } else {
    return TypeError(field, "enum number or name", e);
  }
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return FieldError(field, absl::StrCat("value ", v, " is out of range"));
  }
  return static_cast<int32_t>(v);
}

}  // namespace strand::otlp::json
