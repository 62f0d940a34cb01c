#include "pipeline/processor/tail_sampling/tail_sampling_config.h"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace strand::pipeline {
namespace {

// Where a policy sits: composite sub-policies may be `and`; and/drop sub-policies may
// hold only the plain policy types.
enum class Level { kTop, kCompositeSub, kAndSub };

struct TypeName {
  const char* name;
  PolicyType type;
};
constexpr TypeName kTypes[] = {
    {"always_sample", PolicyType::kAlwaysSample},
    {"latency", PolicyType::kLatency},
    {"status_code", PolicyType::kStatusCode},
    {"string_attribute", PolicyType::kStringAttribute},
    {"numeric_attribute", PolicyType::kNumericAttribute},
    {"boolean_attribute", PolicyType::kBooleanAttribute},
    {"probabilistic", PolicyType::kProbabilistic},
    {"rate_limiting", PolicyType::kRateLimiting},
    {"span_count", PolicyType::kSpanCount},
    {"and", PolicyType::kAnd},
    {"drop", PolicyType::kDrop},
    {"composite", PolicyType::kComposite},
};
// Upstream policy types Strand does not evaluate.
constexpr const char* kUnsupportedTypes[] = {
    "trace_state", "trace_flags", "bytes_limiting", "ottl_condition", "not", "skip",
};

// An unsigned count; YAML's `100_000` digit grouping is accepted, as otelcol does.
void ReadCount(ConfigMap& map, const std::string& key, uint64_t& out) {
  std::string text;
  map.Read(key, text);
  if (text.empty()) return;
  if (!absl::SimpleAtoi(absl::StrReplaceAll(text, {{"_", ""}}), &out)) {
    map.Fail(key, absl::StrCat("must be a non-negative integer, not \"", text, "\""));
  }
}

void RequireKey(ConfigMap& map, const std::string& key, const std::string& value) {
  if (value.empty()) map.Fail(key, "is required");
}

void ParsePolicy(ConfigMap& map, Level level, PolicyConfig& out);

void ParseSubPolicies(ConfigMap& map, const std::string& key, Level level,
                      std::vector<PolicyConfig>& out) {
  std::vector<ConfigMap> items = map.SubList(key);
  if (items.empty()) map.Fail(key, "must list at least one policy");
  for (ConfigMap& item : items) ParsePolicy(item, level, out.emplace_back());
}

void ParseLatency(ConfigMap& m, PolicyConfig& p) {
  m.Read("threshold_ms", p.threshold_ms);
  m.Read("upper_threshold_ms", p.upper_threshold_ms);
  if (p.threshold_ms < 0) m.Fail("threshold_ms", "must not be negative");
  if (p.upper_threshold_ms != 0 && p.upper_threshold_ms < p.threshold_ms) {
    m.Fail("upper_threshold_ms", "must not be below threshold_ms (0 means no upper bound)");
  }
}

void ParseStatusCode(ConfigMap& m, PolicyConfig& p) {
  std::vector<std::string> codes;
  m.Read("status_codes", codes);
  if (codes.empty()) m.Fail("status_codes", "must list at least one of ERROR, OK, UNSET");
  for (const std::string& code : codes) {
    if (code == "UNSET") {
      p.status_codes.push_back(0);
    } else if (code == "OK") {
      p.status_codes.push_back(1);
    } else if (code == "ERROR") {
      p.status_codes.push_back(2);
    } else {
      m.Fail("status_codes",
             absl::StrCat("unknown status code \"", code, "\" (want ERROR, OK or UNSET)"));
    }
  }
}

void ParseStringAttribute(ConfigMap& m, PolicyConfig& p) {
  m.Read("key", p.key);
  m.Read("values", p.values);
  m.Read("enabled_regex_matching", p.enabled_regex_matching);
  m.Read("invert_match", p.invert_match);
  int cache_max_size = 0;  // accepted and unused: RE2 matching needs no result cache
  m.Read("cache_max_size", cache_max_size);
  RequireKey(m, "key", p.key);
  if (p.values.empty()) m.Fail("values", "must list at least one value");
  if (!p.enabled_regex_matching) return;
  for (const std::string& v : p.values) {
    RE2 re(v, RE2::Quiet);
    if (!re.ok())
      m.Fail("values", absl::StrCat("invalid regular expression \"", v, "\": ", re.error()));
  }
}

void ParseNumericAttribute(ConfigMap& m, PolicyConfig& p) {
  m.Read("key", p.key);
  const bool has_min = m.Has("min_value"), has_max = m.Has("max_value");
  m.Read("min_value", p.min_value);
  m.Read("max_value", p.max_value);
  m.Read("invert_match", p.invert_match);
  RequireKey(m, "key", p.key);
  if (!has_min && !has_max) m.Fail("", "needs min_value, max_value or both");
  if (p.min_value > p.max_value) m.Fail("max_value", "must not be below min_value");
}

void ParseComposite(ConfigMap& m, PolicyConfig& p) {
  m.Read("max_total_spans_per_second", p.max_total_spans_per_second);
  m.Read("policy_order", p.policy_order);
  ParseSubPolicies(m, "composite_sub_policy", Level::kCompositeSub, p.sub_policies);
  std::vector<ConfigMap> allocations = m.SubList("rate_allocation");
  if (p.max_total_spans_per_second <= 0) m.Fail("max_total_spans_per_second", "must be positive");
  std::set<std::string> names;
  for (const PolicyConfig& sub : p.sub_policies) names.insert(sub.name);
  for (const std::string& name : p.policy_order) {
    if (!names.count(name)) {
      m.Fail("policy_order", absl::StrCat("names \"", name, "\", not a composite_sub_policy"));
    }
  }
  int64_t total_percent = 0;
  for (ConfigMap& a : allocations) {
    auto& [policy, percent] = p.rate_allocation.emplace_back();
    a.Read("policy", policy);
    a.Read("percent", percent);
    if (!names.count(policy)) {
      a.Fail("policy", absl::StrCat("names \"", policy, "\", not a composite_sub_policy"));
    }
    if (percent < 0 || percent > 100) a.Fail("percent", "must be between 0 and 100");
    total_percent += std::max<int64_t>(percent, 0);
    (void)a.Finish();
  }
  if (total_percent > 100) m.Fail("rate_allocation", "percentages add up to more than 100");
}

void ParsePolicyBody(ConfigMap& m, PolicyType type, PolicyConfig& p) {
  switch (type) {
    case PolicyType::kAlwaysSample:
      break;
    case PolicyType::kLatency:
      ParseLatency(m, p);
      break;
    case PolicyType::kStatusCode:
      ParseStatusCode(m, p);
      break;
    case PolicyType::kStringAttribute:
      ParseStringAttribute(m, p);
      break;
    case PolicyType::kNumericAttribute:
      ParseNumericAttribute(m, p);
      break;
    case PolicyType::kBooleanAttribute:
      m.Read("key", p.key);
      m.Read("value", p.bool_value);
      m.Read("invert_match", p.invert_match);
      RequireKey(m, "key", p.key);
      break;
    case PolicyType::kProbabilistic:
      m.Read("hash_salt", p.hash_salt);
      m.Read("sampling_percentage", p.sampling_percentage);
      if (!(p.sampling_percentage >= 0)) m.Fail("sampling_percentage", "must not be negative");
      break;
    case PolicyType::kRateLimiting:
      m.Read("spans_per_second", p.spans_per_second);
      if (p.spans_per_second <= 0) m.Fail("spans_per_second", "must be positive");
      break;
    case PolicyType::kSpanCount:
      m.Read("min_spans", p.min_spans);
      m.Read("max_spans", p.max_spans);
      if (p.min_spans < 0) m.Fail("min_spans", "must not be negative");
      if (p.max_spans != 0 && p.max_spans < p.min_spans) {
        m.Fail("max_spans", "must not be below min_spans (0 means no upper bound)");
      }
      break;
    case PolicyType::kAnd:
      ParseSubPolicies(m, "and_sub_policy", Level::kAndSub, p.sub_policies);
      break;
    case PolicyType::kDrop:
      ParseSubPolicies(m, "drop_sub_policy", Level::kAndSub, p.sub_policies);
      break;
    case PolicyType::kComposite:
      ParseComposite(m, p);
      break;
  }
}

void ParsePolicy(ConfigMap& map, Level level, PolicyConfig& out) {
  std::string type;
  map.Read("name", out.name);
  map.Read("type", type);
  // Settings blocks of the other types are ignored, as otelcol ignores them.
  for (const TypeName& t : kTypes) {
    if (type != t.name) map.Ignore(t.name);
  }
  for (const char* t : kUnsupportedTypes) map.Ignore(t);
  const TypeName* found = nullptr;
  for (const TypeName& t : kTypes) {
    if (type == t.name) found = &t;
  }
  if (type.empty()) {
    map.Fail("", "type is required");
  } else if (std::find_if(std::begin(kUnsupportedTypes), std::end(kUnsupportedTypes),
                          [&](const char* t) { return type == t; }) !=
             std::end(kUnsupportedTypes)) {
    map.Fail("type", absl::StrCat("policy type \"", type, "\" is not supported by Strand"));
  } else if (found == nullptr) {
    map.Fail("type", absl::StrCat("unknown policy type \"", type, "\""));
  } else if ((found->type == PolicyType::kComposite || found->type == PolicyType::kDrop) &&
             level != Level::kTop) {
    map.Fail("type", absl::StrCat("a ", type, " policy is allowed only at the top level"));
  } else if (found->type == PolicyType::kAnd && level == Level::kAndSub) {
    map.Fail("type", "an and policy cannot be nested in and/drop");
  } else {
    out.type = found->type;
    ConfigMap body = map.Sub(type);
    ParsePolicyBody(body, found->type, out);
    (void)body.Finish();
  }
  (void)map.Finish();
}

}  // namespace

std::unique_ptr<TailSamplingSettings> ParseTailSamplingSettings(ConfigMap& map) {
  auto s = std::make_unique<TailSamplingSettings>();
  map.ReadDuration("decision_wait", s->decision_wait_nanos);
  ReadCount(map, "num_traces", s->num_traces);
  ReadCount(map, "expected_new_traces_per_sec", s->expected_new_traces_per_sec);
  map.Read("sample_on_first_match", s->sample_on_first_match);
  map.Read("drop_pending_traces_on_shutdown", s->drop_pending_traces_on_shutdown);
  bool block_on_overflow = false;
  map.Read("block_on_overflow", block_on_overflow);
  if (block_on_overflow) {
    map.Fail("block_on_overflow", "not supported: Strand evicts the oldest trace when full");
  }
  ConfigMap cache = map.Sub("decision_cache");
  ReadCount(cache, "sampled_cache_size", s->sampled_cache_size);
  ReadCount(cache, "non_sampled_cache_size", s->non_sampled_cache_size);
  (void)cache.Finish();
  if (s->decision_wait_nanos <= 0) map.Fail("decision_wait", "must be positive");
  if (s->num_traces == 0) map.Fail("num_traces", "must be positive");

  std::vector<ConfigMap> items = map.SubList("policies");
  if (items.empty()) map.Fail("policies", "at least one policy is required");
  std::set<std::string> names;
  for (ConfigMap& item : items) {
    PolicyConfig& p = s->policies.emplace_back();
    ParsePolicy(item, Level::kTop, p);
    if (!p.name.empty() && !names.insert(p.name).second) {
      map.Fail("policies", absl::StrCat("duplicate policy name \"", p.name, "\""));
    }
  }
  if (!map.status().ok()) return nullptr;
  return s;
}

}  // namespace strand::pipeline
