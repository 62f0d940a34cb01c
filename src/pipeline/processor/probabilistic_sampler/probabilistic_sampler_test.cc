#include "pipeline/processor/probabilistic_sampler/probabilistic_sampler.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "pipeline/testutil/capture_consumer_testutil.h"

namespace strand::pipeline {
namespace {

namespace pb = opentelemetry::proto;
using testutil::ParseSettings;

std::string RandomTraceId(std::mt19937_64& rng) {
  std::string id(16, '\0');
  for (char& c : id) c = static_cast<char>(rng() & 0xff);
  id[0] |= 1;  // never all zero
  return id;
}

// `traces` traces of `spans_per_trace` spans each, with random trace IDs.
otlp::SpanBatch Traces(int traces, int spans_per_trace, uint64_t rng_seed = 1) {
  std::mt19937_64 rng(rng_seed);
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* scope = req.add_resource_spans()->add_scope_spans();
  uint64_t span_id = 1;
  for (int t = 0; t < traces; ++t) {
    const std::string trace_id = RandomTraceId(rng);
    for (int s = 0; s < spans_per_trace; ++s) {
      auto* span = scope->add_spans();
      span->set_trace_id(trace_id);
      std::string sid(8, '\0');
      for (int i = 0; i < 8; ++i) sid[i] = static_cast<char>((span_id >> (8 * i)) & 0xff);
      ++span_id;
      span->set_span_id(sid);
      span->set_name("op");
    }
  }
  return testutil::Decode(req);
}

size_t Kept(const testutil::RunResult& r) { return r.out.empty() ? 0 : r.out[0].spans.size(); }

TEST(ProbabilisticSamplerTest, HashIsFnv1aOfSeedThenTraceId) {
  // Values computed independently (a Python FNV-1a over seed LE bytes + trace ID 01..10).
  otlp::TraceId id;
  for (int i = 0; i < 16; ++i) id[i] = static_cast<uint8_t>(i + 1);
  EXPECT_EQ(TraceIdHashBucket(id, 0), 0xdf241a25u & 0x3fff);
  EXPECT_EQ(TraceIdHashBucket(id, 22), 0xd863b443u & 0x3fff);
}

TEST(ProbabilisticSamplerTest, ZeroPercentKeepsNoneAndAcknowledgesTheDrop) {
  auto factory = NewProbabilisticSamplerFactory();
  MetricsRegistry metrics;
  testutil::RunResult r =
      testutil::Run(*factory, "sampling_percentage: 0", Traces(50, 2), RequestContext{}, &metrics);
  EXPECT_TRUE(r.out.empty());
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_TRUE(r.acks[0].ok());
  EXPECT_NE(metrics.RenderText().find(
                "strand_processor_sampler_dropped_spans_total{processor=\"probabilistic_sampler\"} "
                "100"),
            std::string::npos)
      << metrics.RenderText();
}

TEST(ProbabilisticSamplerTest, HundredPercentKeepsAllAndTheOriginalRequest) {
  auto factory = NewProbabilisticSamplerFactory();
  testutil::RunResult r = testutil::Run(*factory, "sampling_percentage: 100", Traces(50, 2));
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0].spans.size(), 100u);
  EXPECT_FALSE(r.out[0].original_request().empty());
  EXPECT_EQ(Kept(testutil::Run(*factory, "sampling_percentage: 250", Traces(50, 2))), 100u);
}

TEST(ProbabilisticSamplerTest, KeepsAboutThePercentageOfTraces) {
  auto factory = NewProbabilisticSamplerFactory();
  for (double pct : {1.0, 25.0, 60.0}) {
    const std::string yaml = "sampling_percentage: " + std::to_string(pct) + "\nhash_seed: 7";
    const double kept = static_cast<double>(Kept(testutil::Run(*factory, yaml, Traces(20000, 1))));
    EXPECT_NEAR(kept / 20000, pct / 100, 0.01) << pct;
  }
}

TEST(ProbabilisticSamplerTest, SpansOfATraceShareTheDecisionAcrossInstances) {
  auto factory = NewProbabilisticSamplerFactory();
  const std::string yaml = "sampling_percentage: 30\nhash_seed: 22";
  testutil::RunResult a = testutil::Run(*factory, yaml, Traces(500, 3, 9));
  testutil::RunResult b = testutil::Run(*factory, yaml, Traces(500, 3, 9));
  ASSERT_EQ(a.out.size(), 1u);
  ASSERT_EQ(b.out.size(), 1u);
  EXPECT_EQ(otlp::testutil::DumpBatch(a.out[0]), otlp::testutil::DumpBatch(b.out[0]));
  std::map<otlp::TraceId, int> spans;
  for (const otlp::Span& s : a.out[0].spans) ++spans[s.trace_id];
  for (const auto& [id, n] : spans) EXPECT_EQ(n, 3);
  EXPECT_GT(spans.size(), 100u);
  EXPECT_LT(spans.size(), 200u);
  // Another seed picks other traces.
  testutil::RunResult c =
      testutil::Run(*factory, "sampling_percentage: 30\nhash_seed: 23", Traces(500, 3, 9));
  EXPECT_NE(otlp::testutil::DumpBatch(a.out[0]), otlp::testutil::DumpBatch(c.out[0]));
}

TEST(ProbabilisticSamplerTest, SamplingPriorityOverridesTheHash) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* scope = req.add_resource_spans()->add_scope_spans();
  auto add = [&](char id, auto set_priority) {
    auto* span = scope->add_spans();
    span->set_trace_id(std::string(16, id));
    span->set_span_id(std::string(8, id));
    auto* kv = span->add_attributes();
    kv->set_key("sampling.priority");
    set_priority(kv->mutable_value());
  };
  add('\x01', [](pb::common::v1::AnyValue* v) { v->set_int_value(1); });
  add('\x02', [](pb::common::v1::AnyValue* v) { v->set_double_value(0.5); });
  add('\x03', [](pb::common::v1::AnyValue* v) { v->set_string_value("2"); });
  add('\x04', [](pb::common::v1::AnyValue* v) { v->set_int_value(0); });
  auto factory = NewProbabilisticSamplerFactory();
  testutil::RunResult r = testutil::Run(*factory, "sampling_percentage: 0", testutil::Decode(req));
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0].spans.size(), 3u);
  r = testutil::Run(*factory, "sampling_percentage: 100", testutil::Decode(req));
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0].spans.size(), 3u);  // priority 0 drops even at 100%
}

TEST(ProbabilisticSamplerTest, ConfigErrorsAreReported) {
  auto factory = NewProbabilisticSamplerFactory();
  testutil::ExpectParseErrors(
      *factory, {
                    {"sampling_percentage: -1", "negative"},
                    {"sampling_percentage: .nan", "must be a number"},
                    {"sampling_percentage: 1e-20", "too small"},
                    {"sampling_percentage: 10\nhash_seed: 4294967296", "32 bits"},
                    {"sampling_percentage: 10\nmode: proportional", "not supported"},
                    {"sampling_percentage: 10\nmode: random", "invalid value"},
                    {"sampling_percentage: 10\nfail_closed: false", "not supported"},
                    {"sampling_percentage: 10\nsampling_precision: 4", "not supported"},
                    {"sampling_percentage: 10\nattribute_source: record", "logs-only"},
                    {"sampling_percentage: 10\nrate: 3", "rate (line 2): unknown key"},
                });
  EXPECT_TRUE(
      ParseSettings(*factory, "sampling_percentage: 15.3\nhash_seed: 22\nmode: hash_seed").ok());
}

}  // namespace
}  // namespace strand::pipeline
