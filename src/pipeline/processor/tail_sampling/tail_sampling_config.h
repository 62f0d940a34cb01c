// The settings of the `tail_sampling` processor (otelcol contrib's tailsamplingprocessor),
// read strictly from YAML: defaults, per-policy settings, and every check that needs more
// than one key (ordered thresholds, composite references), so that a bad configuration
// fails at start-up with the path and line of the offending key.
//
// Policy types Strand evaluates: always_sample, latency, status_code, string_attribute,
// numeric_attribute, boolean_attribute, probabilistic, rate_limiting, span_count, and,
// drop, composite. The other upstream types (trace_state, trace_flags, bytes_limiting,
// ottl_condition, ...) are refused as "not supported". Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/config/component.h"
#include "pipeline/config/config_map.h"

namespace strand::pipeline {

enum class PolicyType {
  kAlwaysSample,
  kLatency,
  kStatusCode,
  kStringAttribute,
  kNumericAttribute,
  kBooleanAttribute,
  kProbabilistic,
  kRateLimiting,
  kSpanCount,
  kAnd,
  kDrop,
  kComposite,
};

// One policy; only the fields of its `type` are meaningful.
struct PolicyConfig {
  std::string name;
  PolicyType type = PolicyType::kAlwaysSample;

  // latency
  int64_t threshold_ms = 0;
  int64_t upper_threshold_ms = 0;  // 0: no upper bound
  // status_code: OTLP status code numbers (0 UNSET, 1 OK, 2 ERROR)
  std::vector<int32_t> status_codes;
  // string_attribute, numeric_attribute, boolean_attribute
  std::string key;
  std::vector<std::string> values;
  bool enabled_regex_matching = false;
  bool invert_match = false;
  int64_t min_value = std::numeric_limits<int64_t>::min();
  int64_t max_value = std::numeric_limits<int64_t>::max();
  bool bool_value = false;
  // probabilistic
  std::string hash_salt;
  double sampling_percentage = 0;
  // rate_limiting
  int64_t spans_per_second = 0;
  // span_count (max_spans 0: no upper bound)
  int64_t min_spans = 0;
  int64_t max_spans = 0;
  // and (and_sub_policy), drop (drop_sub_policy), composite (composite_sub_policy)
  std::vector<PolicyConfig> sub_policies;
  // composite
  int64_t max_total_spans_per_second = 0;
  std::vector<std::string> policy_order;
  std::vector<std::pair<std::string, int64_t>> rate_allocation;  // policy name, percent
};

struct TailSamplingSettings : ComponentSettings {
  int64_t decision_wait_nanos = 30'000'000'000;
  uint64_t num_traces = 50000;
  uint64_t expected_new_traces_per_sec = 0;  // a sizing hint
  uint64_t sampled_cache_size = 0;           // decision_cache
  uint64_t non_sampled_cache_size = 0;
  bool sample_on_first_match = false;
  bool drop_pending_traces_on_shutdown = false;
  std::vector<PolicyConfig> policies;
};

// Reads the settings, reporting errors through `map` (null only after map.Fail()).
std::unique_ptr<TailSamplingSettings> ParseTailSamplingSettings(ConfigMap& map);

}  // namespace strand::pipeline
