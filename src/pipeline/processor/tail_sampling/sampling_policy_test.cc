#include "pipeline/processor/tail_sampling/sampling_policy.h"

#include <gtest/gtest.h>

#include <random>

#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

using testing::AddBool;
using testing::AddInt;
using testing::AddString;
using testing::RequestBuilder;

constexpr int64_t kNow = 5'000'000'000;

// Evaluates `config` on every span of `batch` taken as one trace.
Decision Eval(SamplingPolicy& policy, const otlp::SpanBatch& batch, int64_t now = kNow) {
  std::vector<otlp::SpanRef> refs;
  for (uint32_t i = 0; i < batch.spans.size(); ++i) refs.push_back({&batch, i});
  TraceView view{batch.spans.empty() ? otlp::TraceId{} : batch.spans[0].trace_id, refs};
  return policy.Evaluate(view, now);
}

std::unique_ptr<SamplingPolicy> Build(const PolicyConfig& c) {
  auto p = BuildSamplingPolicy(c);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

PolicyConfig Config(PolicyType type) {
  PolicyConfig c;
  c.type = type;
  return c;
}

TEST(SamplingPolicyTest, AlwaysSampleSamplesEveryTrace) {
  auto p = Build(Config(PolicyType::kAlwaysSample));
  EXPECT_EQ(Eval(*p, testing::TracesBatch({1})), Decision::kSampled);
}

TEST(SamplingPolicyTest, LatencyMeasuresEarliestStartToLatestEnd) {
  RequestBuilder b;
  b.Span(1, 0, 100);
  b.Span(1, 400, 600);  // the trace lasts 600 ms though no span does
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kLatency);
  c.threshold_ms = 600;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);  // >= threshold
  c.threshold_ms = 601;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, LatencyWithUpperBoundSamplesOnlyInsideTheWindow) {
  RequestBuilder b;
  b.Span(1, 0, 600);
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kLatency);
  c.threshold_ms = 500;
  c.upper_threshold_ms = 600;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.upper_threshold_ms = 599;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
  c.threshold_ms = 600;  // the lower bound is exclusive when there is an upper one
  c.upper_threshold_ms = 1000;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, StatusCodeSamplesWhenAnySpanHasAListedCode) {
  RequestBuilder b;
  b.Span(1);
  b.Span(1)->mutable_status()->set_code(testing::pb::trace::v1::Status::STATUS_CODE_ERROR);
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kStatusCode);
  c.status_codes = {2};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.status_codes = {1};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, StringAttributeMatchesSpanOrResourceValues) {
  RequestBuilder b;
  AddString(b.Resource(), "service.name", "checkout");
  AddString(b.Span(1), "http.route", "/cart");
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kStringAttribute);
  c.key = "service.name";
  c.values = {"payments", "checkout"};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.key = "http.route";
  c.values = {"/cart"};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.values = {"/car"};  // exact match only
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, StringAttributeRegexMatchesAnywhereInTheValue) {
  RequestBuilder b;
  AddString(b.Span(1), "http.route", "/v1/name/42");
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kStringAttribute);
  c.key = "http.route";
  c.enabled_regex_matching = true;
  c.values = {"name/[0-9]+"};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.values = {"^/v2/"};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, InvertMatchAnswersWithInvertedDecisions) {
  RequestBuilder with;
  AddString(with.Span(1), "env", "test");
  RequestBuilder without;
  AddString(without.Span(2), "env", "prod");
  PolicyConfig c = Config(PolicyType::kStringAttribute);
  c.key = "env";
  c.values = {"test"};
  c.invert_match = true;
  auto p = Build(c);
  EXPECT_EQ(Eval(*p, with.Build()), Decision::kInvertNotSampled);
  EXPECT_EQ(Eval(*p, without.Build()), Decision::kInvertSampled);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({3})), Decision::kInvertSampled);  // key absent
}

TEST(SamplingPolicyTest, NumericAttributeMatchesIntegersInTheClosedRange) {
  RequestBuilder b;
  AddInt(b.Span(1), "http.status_code", 503);
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kNumericAttribute);
  c.key = "http.status_code";
  c.min_value = 500;
  c.max_value = 503;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.max_value = 502;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
  c.invert_match = true;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kInvertSampled);
  c.max_value = 600;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kInvertNotSampled);
}

TEST(SamplingPolicyTest, BooleanAttributeMatchesTheValue) {
  RequestBuilder b;
  AddBool(b.Span(1), "app.force_sample", true);
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kBooleanAttribute);
  c.key = "app.force_sample";
  c.bool_value = true;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.bool_value = false;
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, ProbabilisticSamplesAboutThePercentageByTraceId) {
  PolicyConfig c = Config(PolicyType::kProbabilistic);
  c.sampling_percentage = 25;
  auto p = Build(c);
  std::mt19937_64 random(42);  // trace IDs are random in practice
  int sampled = 0;
  for (int t = 0; t < 2000; ++t) {
    TraceView view;
    for (uint8_t& byte : view.trace_id) byte = static_cast<uint8_t>(random());
    const Decision d = p->Evaluate(view, kNow);
    sampled += d == Decision::kSampled;
    EXPECT_EQ(d, p->Evaluate(view, kNow)) << "not deterministic";
  }
  EXPECT_GT(sampled, 400);
  EXPECT_LT(sampled, 600);
  c.sampling_percentage = 100;
  EXPECT_EQ(Eval(*Build(c), testing::TracesBatch({7})), Decision::kSampled);
  c.sampling_percentage = 0;
  EXPECT_EQ(Eval(*Build(c), testing::TracesBatch({7})), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, ProbabilisticHashIsFnv1aOfSaltThenTraceId) {
  // FNV-1a 64 of the 17 bytes "a" + 16 zero bytes, computed independently.
  uint64_t want = 14695981039346656037ULL;
  std::string bytes = "a" + std::string(16, '\0');
  for (unsigned char ch : bytes) want = (want ^ ch) * 1099511628211ULL;
  EXPECT_EQ(ProbabilisticHash("a", otlp::TraceId{}), want);
  EXPECT_NE(ProbabilisticHash("a", otlp::TraceId{}), ProbabilisticHash("b", otlp::TraceId{}));
}

TEST(SamplingPolicyTest, RateLimitingSpendsATokenPerSpanAndRefills) {
  PolicyConfig c = Config(PolicyType::kRateLimiting);
  c.spans_per_second = 10;  // bucket of 20
  auto p = Build(c);
  const otlp::SpanBatch fifteen = testing::TracesBatch({1}, 15);
  EXPECT_EQ(Eval(*p, fifteen, kNow), Decision::kSampled);
  EXPECT_EQ(Eval(*p, fifteen, kNow), Decision::kNotSampled);               // 5 left
  EXPECT_EQ(Eval(*p, fifteen, kNow + 1'000'000'000), Decision::kSampled);  // 5 + 10
  const otlp::SpanBatch too_big = testing::TracesBatch({2}, 21);
  EXPECT_EQ(Eval(*p, too_big, kNow + 60'000'000'000), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, SpanCountBoundsAreInclusive) {
  PolicyConfig c = Config(PolicyType::kSpanCount);
  c.min_spans = 2;
  c.max_spans = 3;
  auto p = Build(c);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({1}, 1)), Decision::kNotSampled);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({1}, 2)), Decision::kSampled);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({1}, 3)), Decision::kSampled);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({1}, 4)), Decision::kNotSampled);
}

PolicyConfig StringPolicy(std::string name, std::string key, std::string value, bool invert) {
  PolicyConfig c = Config(PolicyType::kStringAttribute);
  c.name = std::move(name);
  c.key = std::move(key);
  c.values = {std::move(value)};
  c.invert_match = invert;
  return c;
}

TEST(SamplingPolicyTest, AndSamplesOnlyWhenEverySubPolicyDoes) {
  RequestBuilder b;
  auto* span = b.Span(1);
  AddString(span, "service", "a");
  AddString(span, "route", "/x");
  const otlp::SpanBatch batch = b.Build();
  PolicyConfig c = Config(PolicyType::kAnd);
  c.sub_policies = {StringPolicy("s", "service", "a", false),
                    StringPolicy("r", "route", "/x", false)};
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  // An inverted "yes" counts as yes inside and; an inverted "no" as no.
  c.sub_policies[1] = StringPolicy("r", "route", "/health", true);
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kSampled);
  c.sub_policies[1] = StringPolicy("r", "route", "/x", true);
  EXPECT_EQ(Eval(*Build(c), batch), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, DropPolicyAnswersDroppedWhenEverySubPolicyMatches) {
  RequestBuilder b;
  AddString(b.Span(1), "url.path", "/health");
  PolicyConfig c = Config(PolicyType::kDrop);
  c.sub_policies = {StringPolicy("h", "url.path", "/health", false)};
  auto p = Build(c);
  EXPECT_EQ(Eval(*p, b.Build()), Decision::kDropped);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({2})), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, CompositeKeepsEachSubPolicyWithinItsAllocation) {
  PolicyConfig c = Config(PolicyType::kComposite);
  c.max_total_spans_per_second = 10;
  PolicyConfig always = Config(PolicyType::kAlwaysSample);
  always.name = "always";
  c.sub_policies = {always};
  c.rate_allocation = {{"always", 50}};  // 5 spans per second
  auto p = Build(c);
  const otlp::SpanBatch three = testing::TracesBatch({1}, 3);
  EXPECT_EQ(Eval(*p, three, kNow), Decision::kSampled);
  EXPECT_EQ(Eval(*p, three, kNow), Decision::kNotSampled);               // 6 > 5
  EXPECT_EQ(Eval(*p, three, kNow + 1'000'000'000), Decision::kSampled);  // a new second
}

TEST(SamplingPolicyTest, CompositeEvaluatesInPolicyOrderAndUnlistedShareTheRest) {
  PolicyConfig c = Config(PolicyType::kComposite);
  c.max_total_spans_per_second = 10;
  PolicyConfig first = Config(PolicyType::kAlwaysSample);
  first.name = "first";
  PolicyConfig second = Config(PolicyType::kAlwaysSample);
  second.name = "second";
  c.sub_policies = {first, second};
  c.policy_order = {"second", "first"};
  c.rate_allocation = {{"first", 80}};  // "second" gets the remaining 2 spans per second
  auto p = Build(c);
  // "second" comes first and decides alone: over its 2 spans the trace is not sampled,
  // though "first" would have had room.
  EXPECT_EQ(Eval(*p, testing::TracesBatch({1}, 2)), Decision::kSampled);
  EXPECT_EQ(Eval(*p, testing::TracesBatch({2}, 1)), Decision::kNotSampled);
}

TEST(SamplingPolicyTest, CombineDecisionsFollowsUpstreamPrecedence) {
  using D = Decision;
  auto combine = [](std::vector<D> d) { return CombineDecisions(d); };
  EXPECT_TRUE(combine({D::kNotSampled, D::kSampled}));
  EXPECT_FALSE(combine({D::kNotSampled}));
  EXPECT_FALSE(combine({}));
  EXPECT_FALSE(combine({D::kSampled, D::kInvertNotSampled}));  // an inverted no vetoes
  EXPECT_FALSE(combine({D::kSampled, D::kDropped}));
  EXPECT_TRUE(combine({D::kInvertSampled}));
  EXPECT_FALSE(combine({D::kInvertSampled, D::kNotSampled}));
  EXPECT_TRUE(combine({D::kInvertSampled, D::kNotSampled, D::kSampled}));
}

}  // namespace
}  // namespace strand::pipeline
