// AttributeActions: an otelcol `actions` list (attributes processor) or `attributes` list
// (resource processor): insert, update, upsert, delete, hash, extract and convert, applied
// in order to one attribute list through an AttributeEditor.
//
// Semantics follow the OpenTelemetry Collector (contrib):
// - insert / update / upsert take exactly one of `value` (typed by YAML), `from_attribute`
//   (another key of the same list, read after the earlier actions ran) or `from_context`
//   (request metadata: `metadata.<name>` or a bare name, case-insensitive, several values
//   joined with `;`); a missing source does nothing.
// - delete / hash act on `key` and/or on every key that `pattern` (RE2, unanchored)
//   matches. hash replaces the value with the lower-case hex SHA-256 of its bytes: a
//   string's bytes, 8 little-endian bytes for an int or a double (IEEE bits), one byte 1/0
//   for a bool; other types become the empty string.
// - extract matches `pattern` (named groups only) against the string value of `key` and
//   upserts one string attribute per group.
// - convert sets the type of `key` to `converted_type` string|int|double when it can.
// Immutable after Parse; thread-safe to Apply from many threads (each with its own editor).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consumer/traces_consumer.h"
#include "pipeline/config/config_map.h"
#include "pipeline/processor/attributes/attribute_editor.h"
#include "pipeline/processor/attributes/config_value.h"

namespace re2 {
class RE2;
}

namespace strand::pipeline {

class AttributeActions {
 public:
  // Reads the list of action maps at `key` of `map` (an absent key gives no actions).
  // Errors go to map.Fail(); check map.Finish() or map.status().
  static AttributeActions Parse(ConfigMap& map, const std::string& key);

  bool empty() const { return actions_.empty(); }
  size_t size() const { return actions_.size(); }

  // Applies every action in order to the list loaded in `editor`. `ctx` supplies
  // `from_context` values.
  void Apply(AttributeEditor& editor, const RequestContext& ctx) const;

 private:
  enum class Type { kInsert, kUpdate, kUpsert, kDelete, kHash, kExtract, kConvert };
  enum class Target { kString, kInt, kDouble };
  struct Action {
    Type type = Type::kInsert;
    std::string key;
    std::optional<ConfigValue> value;
    std::string from_attribute;
    std::string from_context;  // the metadata key, lower case
    // delete/hash: keys to match; extract: the value pattern. Shared, immutable.
    std::shared_ptr<const re2::RE2> pattern;
    std::vector<std::string> group_names;  // extract: name of capture group i + 1
    Target target = Target::kString;       // convert
  };

  static std::optional<Action> ParseAction(ConfigMap& item);
  std::optional<otlp::AnyValue> Source(const Action& a, AttributeEditor& editor,
                                       const RequestContext& ctx) const;
  static void Hash(AttributeEditor& editor, size_t index);
  static void Extract(const Action& a, AttributeEditor& editor);
  static void Convert(const Action& a, AttributeEditor& editor);

  std::vector<Action> actions_;
};

// The lower-case hex SHA-256 of `bytes` (exposed for tests).
std::string Sha256Hex(std::string_view bytes);

}  // namespace strand::pipeline
