// SpanMatcher: one set of otelcol match properties (`include` or `exclude` of the
// attributes processor) that selects spans.
//
// `match_type` is `strict` (equality) or `regexp` (RE2, unanchored, like Go's
// MatchString). A span matches when every list that is set matches: `services` (any
// entry against the resource's `service.name`, "" when absent), `span_names` (any entry
// against the span name) and `attributes` (every listed key is present on the span and,
// when a `value` is given, equal to it; regexp values match the attribute's text form).
// `resources`, `libraries`, `span_kinds`, the log and metric properties and the
// `regexp` cache options are rejected as not supported.
// Immutable after Parse; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otlp/span_batch.h"
#include "pipeline/config/config_map.h"
#include "pipeline/processor/attributes/config_value.h"

namespace re2 {
class RE2;
}

namespace strand::pipeline {

class SpanMatcher {
 public:
  // Reads one match-properties map. nullopt after map.Fail().
  static std::optional<SpanMatcher> Parse(ConfigMap& map);

  bool Matches(const otlp::SpanBatch& batch, const otlp::Span& span) const;

 private:
  // A strict string or an RE2 pattern.
  struct StringMatch {
    std::string text;
    std::shared_ptr<const re2::RE2> re;  // set for match_type regexp
    bool Matches(std::string_view s) const;
  };
  struct AttributeMatch {
    std::string key;
    std::optional<ConfigValue> value;  // strict: compared by type and value
    std::optional<StringMatch> text;   // regexp: against the value's text form
  };

  static bool AnyMatches(const std::vector<StringMatch>& list, std::string_view s);

  std::vector<StringMatch> services_;
  std::vector<StringMatch> span_names_;
  std::vector<AttributeMatch> attributes_;
};

}  // namespace strand::pipeline
