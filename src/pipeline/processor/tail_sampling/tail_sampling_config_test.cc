#include "pipeline/processor/tail_sampling/tail_sampling_config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "pipeline/processor/tail_sampling/tail_sampling_processor.h"

namespace strand::pipeline {
namespace {

absl::StatusOr<std::unique_ptr<TailSamplingSettings>> ParseYaml(const std::string& yaml) {
  ConfigMap map(YAML::Load(yaml), "processors::tail_sampling");
  auto settings = NewTailSamplingProcessorFactory()->Parse(map);
  absl::Status status = map.Finish();
  if (!status.ok()) return status;
  EXPECT_NE(settings, nullptr);
  return std::unique_ptr<TailSamplingSettings>(
      static_cast<TailSamplingSettings*>(settings.release()));
}

std::string ErrorOf(const std::string& yaml) {
  auto parsed = ParseYaml(yaml);
  return parsed.ok() ? "ok" : std::string(parsed.status().message());
}

void ExpectError(const std::string& yaml, const std::string& want) {
  const std::string err = ErrorOf(yaml);
  EXPECT_NE(err.find(want), std::string::npos) << "got: " << err;
}

TEST(TailSamplingConfigTest, DefaultsMatchOtelcol) {
  auto s = ParseYaml("policies: [{name: all, type: always_sample}]");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->decision_wait_nanos, 30'000'000'000);
  EXPECT_EQ((*s)->num_traces, 50000u);
  EXPECT_EQ((*s)->sampled_cache_size, 0u);
  ASSERT_EQ((*s)->policies.size(), 1u);
  EXPECT_EQ((*s)->policies[0].type, PolicyType::kAlwaysSample);
}

TEST(TailSamplingConfigTest, ReadsTheUpstreamExample) {
  auto s = ParseYaml(R"(
decision_wait: 10s
num_traces: 100
expected_new_traces_per_sec: 10
decision_cache: {sampled_cache_size: 100_000, non_sampled_cache_size: 1000}
policies:
  - {name: p1, type: always_sample}
  - {name: p2, type: latency, latency: {threshold_ms: 5000, upper_threshold_ms: 10000}}
  - {name: p3, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50, max_value: 100}}
  - {name: p4, type: probabilistic, probabilistic: {sampling_percentage: 10}}
  - {name: p5, type: status_code, status_code: {status_codes: [ERROR, UNSET]}}
  - {name: p6, type: string_attribute, string_attribute: {key: key2, values: [value1, value2]}}
  - name: p7
    type: string_attribute
    string_attribute: {key: key2, values: [value1, val*], enabled_regex_matching: true, cache_max_size: 10}
  - {name: p8, type: rate_limiting, rate_limiting: {spans_per_second: 35}}
  - {name: p10, type: span_count, span_count: {min_spans: 2, max_spans: 20}}
  - name: and-policy-1
    type: and
    and:
      and_sub_policy:
        - {name: a1, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50}}
        - {name: a2, type: string_attribute, string_attribute: {key: key2, values: [v]}}
  - name: composite-policy-1
    type: composite
    composite:
      max_total_spans_per_second: 1000
      policy_order: [c1, c2, c3]
      composite_sub_policy:
        - {name: c1, type: numeric_attribute, numeric_attribute: {key: key1, min_value: 50}}
        - {name: c2, type: string_attribute, string_attribute: {key: key2, values: [value1]}}
        - {name: c3, type: always_sample}
      rate_allocation:
        - {policy: c1, percent: 50}
        - {policy: c2, percent: 25}
)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->decision_wait_nanos, 10'000'000'000);
  EXPECT_EQ((*s)->sampled_cache_size, 100000u);
  ASSERT_EQ((*s)->policies.size(), 11u);
  EXPECT_EQ((*s)->policies[4].status_codes, (std::vector<int32_t>{2, 0}));
  EXPECT_EQ((*s)->policies[2].min_value, 50);
  const PolicyConfig& composite = (*s)->policies[10];
  EXPECT_EQ(composite.sub_policies.size(), 3u);
  EXPECT_EQ(composite.rate_allocation[1], (std::pair<std::string, int64_t>{"c2", 25}));
}

TEST(TailSamplingConfigTest, PoliciesAreRequired) {
  ExpectError("decision_wait: 5s", "at least one policy");
}

TEST(TailSamplingConfigTest, UnsupportedPolicyTypeIsRefusedClearly) {
  ExpectError("policies: [{name: t, type: ottl_condition, ottl_condition: {span: ['x']}}]",
              "policy type \"ottl_condition\" is not supported");
  ExpectError("policies: [{name: t, type: nope}]", "unknown policy type");
}

TEST(TailSamplingConfigTest, BlockOnOverflowIsNotSupported) {
  ExpectError("block_on_overflow: true\npolicies: [{name: a, type: always_sample}]",
              "not supported");
}

TEST(TailSamplingConfigTest, BadPolicySettingsNameTheKey) {
  ExpectError(
      "policies: [{name: l, type: latency, latency: {threshold_ms: 10, "
      "upper_threshold_ms: 5}}]",
      "policies[0]::latency::upper_threshold_ms");
  ExpectError("policies: [{name: s, type: status_code, status_code: {status_codes: [BAD]}}]",
              "unknown status code");
  ExpectError("policies: [{name: n, type: numeric_attribute, numeric_attribute: {key: k}}]",
              "min_value, max_value or both");
  ExpectError(
      "policies: [{name: r, type: string_attribute, string_attribute: {key: k, "
      "values: ['('], enabled_regex_matching: true}}]",
      "invalid regular expression");
  ExpectError("policies: [{name: r, type: rate_limiting, rate_limiting: {}}]", "must be positive");
  ExpectError(
      "policies: [{name: c, type: span_count, span_count: {min_spans: 5, "
      "max_spans: 2}}]",
      "max_spans");
  ExpectError("policies: [{name: a, type: always_sample, bogus: 1}]", "unknown key");
}

TEST(TailSamplingConfigTest, DuplicatePolicyNamesAreRefused) {
  ExpectError("policies: [{name: a, type: always_sample}, {name: a, type: always_sample}]",
              "duplicate policy name");
}

// One composite policy `c` (10 spans per second) whose other settings are `rest`.
std::string CompositeYaml(const std::string& rest) {
  return R"(
policies:
  - name: c
    type: composite
    composite:
      max_total_spans_per_second: 10)" +
         rest;
}

TEST(TailSamplingConfigTest, CompositeReferencesMustExist) {
  ExpectError(CompositeYaml(R"(
      policy_order: [x]
      composite_sub_policy: [{name: a, type: always_sample}]
)"),
              "not a composite_sub_policy");
  ExpectError(CompositeYaml(R"(
      composite_sub_policy: [{name: a, type: always_sample}, {name: b, type: always_sample}]
      rate_allocation: [{policy: a, percent: 70}, {policy: b, percent: 40}]
)"),
              "more than 100");
}

TEST(TailSamplingConfigTest, NestingRulesFollowUpstream) {
  ExpectError(R"(
policies:
  - name: a
    type: and
    and: {and_sub_policy: [{name: x, type: composite}]}
)",
              "only at the top level");
  EXPECT_EQ(ErrorOf(CompositeYaml(R"(
      composite_sub_policy:
        - name: a
          type: and
          and: {and_sub_policy: [{name: x, type: always_sample}]}
)")),
            "ok");
}

TEST(TailSamplingConfigTest, ZeroNumTracesAndDecisionWaitAreRefused) {
  ExpectError("num_traces: 0\npolicies: [{name: a, type: always_sample}]", "positive");
  ExpectError("decision_wait: 0\npolicies: [{name: a, type: always_sample}]", "positive");
}

}  // namespace
}  // namespace strand::pipeline
