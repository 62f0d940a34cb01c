// Typed reads of proto3-JSON scalars from a simdjson DOM element, for the OTLP/JSON decoder.
//
// Each reader checks the element's type and range and reports problems as InvalidArgument
// with a message relative to the enclosing object ("name: expected string, got number");
// callers add the path of that object with Nested() as the error travels up, so the final
// message names the full field path. Stateless and thread-safe.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strand::otlp::json {

using Element = simdjson::dom::element;
using Object = simdjson::dom::object;
using Array = simdjson::dom::array;
using Type = simdjson::dom::element_type;

// Debian's Abseil has its own string_view type: this adapts ours for StrCat and friends.
inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

// Only for elements whose type() was checked.
inline Object AsObject(Element e) { return e.get_object().value_unsafe(); }
inline Array AsArray(Element e) { return e.get_array().value_unsafe(); }

std::string_view TypeName(Type type);

// "field: reason".
absl::Status FieldError(std::string_view field, std::string_view reason);
// "field: expected <expected>, got <type of e>".
absl::Status TypeError(std::string_view field, std::string_view expected, Element e);
// "field: reason "<value, escaped and shortened>"".
absl::Status ValueError(std::string_view field, std::string_view reason, std::string_view value);
// Prefixes the path of the object an error came from: "parent.<message>".
absl::Status Nested(const absl::Status& status, std::string_view parent);
// "field[index]".
std::string IndexPath(std::string_view field, size_t index);

// An object, or a type error.
absl::StatusOr<Object> ReadObject(Element e, std::string_view field);

// A string, as a view into the parser's memory (valid until its next parse).
absl::StatusOr<std::string_view> ReadStringView(Element e, std::string_view field);
absl::StatusOr<bool> ReadBool(Element e, std::string_view field);

// Integers may be numbers or decimal strings; integral numbers written with a fraction or
// exponent ("1e3", "5.0") are accepted too, as protobuf's own JSON parsers do.
absl::StatusOr<uint32_t> ReadUint32(Element e, std::string_view field);
absl::StatusOr<uint64_t> ReadUint64(Element e, std::string_view field);
absl::StatusOr<int64_t> ReadInt64(Element e, std::string_view field);

// A number, or a string: "NaN", "Infinity", "-Infinity" or a decimal number.
absl::StatusOr<double> ReadDouble(Element e, std::string_view field);

// An enum as its number (any int32, so unknown values survive) or as the name of one of
// its values; `names[i]` is the name of value i.
absl::StatusOr<int32_t> ReadEnum(Element e, std::string_view field,
                                 std::span<const std::string_view> names);

}  // namespace strand::otlp::json
