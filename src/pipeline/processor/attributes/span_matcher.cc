#include "pipeline/processor/attributes/span_matcher.h"

#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace strand::pipeline {

bool SpanMatcher::StringMatch::Matches(std::string_view s) const {
  if (!re) return s == text;
  return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re);
}

bool SpanMatcher::AnyMatches(const std::vector<StringMatch>& list, std::string_view s) {
  for (const StringMatch& m : list) {
    if (m.Matches(s)) return true;
  }
  return false;
}

std::optional<SpanMatcher> SpanMatcher::Parse(ConfigMap& map) {
  std::string match_type;
  map.Read("match_type", match_type);
  for (const char* key : {"resources", "libraries", "span_kinds"}) {
    map.Unsupported(key, "only services, span_names and attributes can select spans");
  }
  for (const char* key :
       {"log_bodies", "log_severity_texts", "log_severity_number", "metric_names", "regexp"}) {
    map.Unsupported(key);
  }
  std::vector<std::string> services, span_names;
  map.Read("services", services);
  map.Read("span_names", span_names);
  std::vector<ConfigMap> attributes = map.SubList("attributes");
  if (!map.status().ok()) return std::nullopt;
  if (match_type != "strict" && match_type != "regexp") {
    map.Fail("match_type", match_type.empty() ? "required (strict or regexp)"
                                              : absl::StrCat("invalid value \"", match_type,
                                                             "\" (want strict or regexp)"));
    return std::nullopt;
  }
  const bool regexp = match_type == "regexp";
  auto make = [&](const std::string& key, const std::string& text) -> std::optional<StringMatch> {
    StringMatch m{text, nullptr};
    if (!regexp) return m;
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(text, options);
    if (!re->ok()) {
      map.Fail(key, absl::StrCat("invalid regular expression \"", text, "\": ", re->error()));
      return std::nullopt;
    }
    m.re = std::move(re);
    return m;
  };

  SpanMatcher out;
  for (const auto& [key, texts, list] : {std::tuple{"services", &services, &out.services_},
                                         std::tuple{"span_names", &span_names, &out.span_names_}}) {
    for (const std::string& t : *texts) {
      std::optional<StringMatch> m = make(key, t);
      if (!m) return std::nullopt;
      list->push_back(std::move(*m));
    }
  }
  for (ConfigMap& item : attributes) {
    AttributeMatch a;
    item.Read("key", a.key);
    a.value = ReadConfigValue(item, "value");
    if (!item.Finish().ok()) return std::nullopt;
    if (a.key.empty()) {
      item.Fail("key", "required");
      return std::nullopt;
    }
    if (regexp && a.value) {
      if (a.value->type != otlp::ValueType::kString) {
        item.Fail("value", "match_type regexp needs a string value");
        return std::nullopt;
      }
      a.text = make("attributes", a.value->str);
      if (!a.text) return std::nullopt;
      a.value.reset();
    }
    out.attributes_.push_back(std::move(a));
  }
  if (services.empty() && span_names.empty() && out.attributes_.empty()) {
    map.Fail("", "at least one of services, span_names or attributes must be set");
    return std::nullopt;
  }
  return out;
}

bool SpanMatcher::Matches(const otlp::SpanBatch& batch, const otlp::Span& span) const {
  if (!services_.empty()) {
    std::string_view service;
    const otlp::Scope& scope = batch.scopes[span.scope_index];
    const otlp::Range r = batch.resources[scope.resource_index].attributes;
    for (uint32_t i = r.begin; i < r.end; ++i) {
      const otlp::KeyValue& kv = batch.attributes[i];
      if (kv.key == "service.name" && kv.value.type == otlp::ValueType::kString) {
        service = kv.value.str;
        break;
      }
    }
    if (!AnyMatches(services_, service)) return false;
  }
  if (!span_names_.empty() && !AnyMatches(span_names_, span.name)) return false;
  for (const AttributeMatch& m : attributes_) {
    const otlp::AnyValue* found = nullptr;
    for (uint32_t i = span.attributes.begin; i < span.attributes.end; ++i) {
      if (batch.attributes[i].key == m.key) {
        found = &batch.attributes[i].value;
        break;
      }
    }
    if (found == nullptr) return false;
    if (m.value && !m.value->Equals(*found)) return false;
    if (m.text) {
      std::optional<std::string> text = ScalarToString(*found);
      if (!text || !m.text->Matches(*text)) return false;
    }
  }
  return true;
}

}  // namespace strand::pipeline
