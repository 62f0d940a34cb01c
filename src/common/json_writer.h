// Minimal helpers for writing JSON by hand on response paths and in tools: string
// escaping, and JsonWriter, a streaming writer for documents built field by field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strand {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes and control bytes.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);

// Writes one JSON document, pretty-printed with two-space indentation (or compact). Calls must nest
// properly (an object's members are Key() followed by one value); misuse is a bug and
// asserted, not an error. Not thread-safe.
//
//   JsonWriter w;
//   w.BeginObject().Field("blocks", 3).Key("ids").BeginArray().String("a").EndArray();
//   w.EndObject();
//   std::string json = std::move(w).Finish();
class JsonWriter {
 public:
  // `pretty`: two-space indentation and a space after each colon; compact otherwise (for
  // large API answers).
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Names the next value of the enclosing object.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Int(int64_t value);
  // Non-finite values are written as null (JSON has no NaN or infinity).
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  // Key(key) followed by the value.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& Field(std::string_view key, uint32_t value) { return Key(key).Uint(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int32_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, double value) { return Key(key).Double(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

  // The document, ending with a newline. Every object and array must be closed.
  std::string Finish() &&;

 private:
  // Separates and indents before a value or key; nothing after a key.
  void BeforeValue();
  void Open(char bracket);
  void Close(char bracket);

  bool pretty_ = true;
  std::string out_;
  // Per open object or array: whether it has a member yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

}  // namespace strand
