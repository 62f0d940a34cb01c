#include "pipeline/processor/tail_sampling/tail_sampling_processor.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

using std::chrono::seconds;
using testing::AddString;
using testing::RequestBuilder;
using testing::TracesBatch;

constexpr char kErrorsOnly[] = R"(
decision_wait: 10s
policies: [{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}]
)";

class TailSamplingProcessorTest : public ::testing::Test {
 protected:
  void Make(const std::string& yaml) {
    ConfigMap map(YAML::Load(yaml), "processors::tail_sampling");
    auto factory = NewTailSamplingProcessorFactory();
    settings_ = factory->Parse(map);
    ASSERT_TRUE(map.Finish().ok()) << map.status();
    BuildContext ctx;
    ctx.id = {"tail_sampling", ""};
    ctx.metrics = &metrics_;
    ctx.clock = &clock_;
    auto p = factory->Create(*settings_, ctx, next_);
    ASSERT_TRUE(p.ok()) << p.status();
    processor_.reset(static_cast<TailSamplingProcessor*>(p->release()));
  }

  // Consumes and returns the status the client got (the processor answers at once).
  absl::Status Send(otlp::SpanBatch&& batch, const std::string& tenant = "t") {
    absl::Status got = absl::InternalError("done not called");
    RequestContext ctx;
    ctx.tenant = tenant;
    processor_->Consume(std::move(ctx), std::move(batch), [&](absl::Status s) { got = s; });
    return got;
  }

  otlp::SpanBatch ErrorSpanOf(uint32_t trace) {
    RequestBuilder b;
    b.Span(trace)->mutable_status()->set_code(testing::pb::trace::v1::Status::STATUS_CODE_ERROR);
    return b.Build();
  }

  // The value of one metric sample, or -1 when absent.
  int64_t Metric(const std::string& name, const std::string& labels) {
    const std::string text = metrics_.RenderText();
    const std::string prefix = absl::StrCat(name, "{processor=\"tail_sampling\"", labels, "} ");
    const size_t at = text.find(prefix);
    if (at == std::string::npos) return -1;
    return std::stoll(text.substr(at + prefix.size()));
  }
  int64_t Dropped(const std::string& reason) {
    return Metric("strand_processor_tail_sampling_dropped_total",
                  absl::StrCat(",reason=\"", reason, "\""));
  }

  FakeClock clock_;
  MetricsRegistry metrics_;
  testing::RecordingConsumer next_;
  std::unique_ptr<ComponentSettings> settings_;
  std::unique_ptr<TailSamplingProcessor> processor_;
};

TEST_F(TailSamplingProcessorTest, AcknowledgesOnBufferingAndDecidesAfterDecisionWait) {
  Make(kErrorsOnly);
  EXPECT_TRUE(Send(ErrorSpanOf(1)).ok());
  EXPECT_TRUE(Send(TracesBatch({2}, 3)).ok());
  clock_.Advance(seconds(9));
  processor_->TickForTest();
  EXPECT_EQ(next_.TotalSpans(), 0u);
  clock_.Advance(seconds(1));
  processor_->TickForTest();
  EXPECT_EQ(next_.SpansOf(1), 1u);
  EXPECT_EQ(next_.SpansOf(2), 0u);
  EXPECT_EQ(next_.tenants, std::vector<std::string>{"t"});
  EXPECT_EQ(Dropped("not_sampled"), 3);
  EXPECT_EQ(Metric("strand_processor_tail_sampling_traces_total", ",decision=\"sampled\""), 1);
}

TEST_F(TailSamplingProcessorTest, DecidesOnAllSpansOfATraceAcrossBatches) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(TracesBatch({1}, 2)).ok());
  clock_.Advance(seconds(5));
  ASSERT_TRUE(Send(ErrorSpanOf(1)).ok());  // the error comes later, in another batch
  clock_.Advance(seconds(5));
  processor_->TickForTest();
  EXPECT_EQ(next_.SpansOf(1), 3u);
  ASSERT_EQ(next_.batches.size(), 1u);
  EXPECT_FALSE(next_.batches[0].original_request().empty());  // a fresh, exact request
}

TEST_F(TailSamplingProcessorTest, LateSpansFollowTheRememberedDecision) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(ErrorSpanOf(1)).ok());
  ASSERT_TRUE(Send(TracesBatch({2})).ok());
  clock_.Advance(seconds(10));
  processor_->TickForTest();
  ASSERT_EQ(next_.SpansOf(1), 1u);
  // Late spans of the sampled trace pass through at once, with the client's done.
  next_.next_status = absl::UnavailableError("downstream full");
  EXPECT_EQ(Send(TracesBatch({1}, 2)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(next_.SpansOf(1), 3u);
  // Late spans of the dropped trace are dropped at once.
  next_.next_status = absl::OkStatus();
  EXPECT_TRUE(Send(TracesBatch({2}, 4)).ok());
  EXPECT_EQ(next_.SpansOf(2), 0u);
  EXPECT_EQ(Dropped("not_sampled"), 5);
  EXPECT_EQ(Metric("strand_processor_tail_sampling_late_spans_total", ""), 6);
}

TEST_F(TailSamplingProcessorTest, MixedBatchForwardsLateSpansAndBuffersTheRest) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(ErrorSpanOf(1)).ok());
  clock_.Advance(seconds(10));
  processor_->TickForTest();
  EXPECT_TRUE(Send(TracesBatch({1, 3})).ok());  // trace 1 is late, trace 3 is new
  EXPECT_EQ(next_.SpansOf(1), 2u);
  EXPECT_EQ(next_.SpansOf(3), 0u);
  EXPECT_EQ(processor_->TracesInMemoryForTest(), 2u);
}

TEST_F(TailSamplingProcessorTest, DecisionCacheRemembersSampledTracesPastNumTraces) {
  Make(R"(
decision_wait: 1s
num_traces: 1
decision_cache: {sampled_cache_size: 10}
policies: [{name: all, type: always_sample}]
)");
  ASSERT_TRUE(Send(TracesBatch({1})).ok());
  clock_.Advance(seconds(1));
  processor_->TickForTest();
  ASSERT_TRUE(Send(TracesBatch({2})).ok());  // fills num_traces
  ASSERT_EQ(next_.SpansOf(1), 1u);
  ASSERT_TRUE(Send(TracesBatch({1})).ok());
  EXPECT_EQ(next_.SpansOf(1), 2u);  // forwarded at once from the cache
  EXPECT_EQ(Dropped("evicted"), 0);
}

TEST_F(TailSamplingProcessorTest, WithoutDecisionCacheAForgottenTraceStartsOver) {
  Make(R"(
decision_wait: 1s
num_traces: 1
policies: [{name: all, type: always_sample}]
)");
  ASSERT_TRUE(Send(TracesBatch({1})).ok());
  clock_.Advance(seconds(1));
  processor_->TickForTest();
  ASSERT_TRUE(Send(TracesBatch({2})).ok());  // pushes out trace 1's decided entry
  ASSERT_TRUE(Send(TracesBatch({1})).ok());  // pushes out pending trace 2: a drop
  EXPECT_EQ(next_.SpansOf(1), 1u);           // buffered again, not forwarded at once
  EXPECT_EQ(Dropped("evicted"), 1);
  clock_.Advance(seconds(1));
  processor_->TickForTest();
  EXPECT_EQ(next_.SpansOf(1), 2u);
  EXPECT_EQ(next_.SpansOf(2), 0u);
}

TEST_F(TailSamplingProcessorTest, NumTracesEvictsTheOldestPendingTrace) {
  Make(R"(
decision_wait: 5s
num_traces: 2
policies: [{name: all, type: always_sample}]
)");
  ASSERT_TRUE(Send(TracesBatch({1}, 2)).ok());
  ASSERT_TRUE(Send(TracesBatch({2})).ok());
  ASSERT_TRUE(Send(TracesBatch({3})).ok());
  EXPECT_EQ(processor_->TracesInMemoryForTest(), 2u);
  EXPECT_EQ(Dropped("evicted"), 2);
  EXPECT_EQ(Metric("strand_processor_tail_sampling_traces_total", ",decision=\"evicted\""), 1);
  clock_.Advance(seconds(5));
  processor_->TickForTest();
  EXPECT_EQ(next_.SpansOf(1), 0u);
  EXPECT_EQ(next_.SpansOf(2), 1u);
  EXPECT_EQ(next_.SpansOf(3), 1u);
}

TEST_F(TailSamplingProcessorTest, ShutdownFlushesPendingTracesThenRefusesData) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(ErrorSpanOf(1)).ok());
  ASSERT_TRUE(Send(TracesBatch({2})).ok());
  processor_->Shutdown();
  EXPECT_EQ(next_.SpansOf(1), 1u);  // decided on what had arrived
  EXPECT_EQ(next_.SpansOf(2), 0u);
  EXPECT_EQ(Send(TracesBatch({3})).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TailSamplingProcessorTest, DropPendingTracesOnShutdownDropsAndCounts) {
  Make(R"(
drop_pending_traces_on_shutdown: true
policies: [{name: all, type: always_sample}]
)");
  ASSERT_TRUE(Send(TracesBatch({1}, 2)).ok());
  processor_->Shutdown();
  EXPECT_EQ(next_.TotalSpans(), 0u);
  EXPECT_EQ(Dropped("shutdown"), 2);
}

TEST_F(TailSamplingProcessorTest, DownstreamFailureIsCountedAsADrop) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(ErrorSpanOf(1)).ok());
  next_.next_status = absl::UnavailableError("down");
  clock_.Advance(seconds(10));
  processor_->TickForTest();
  EXPECT_EQ(Dropped("downstream_failed"), 1);
}

TEST_F(TailSamplingProcessorTest, TenantsSharingATraceIdAreKeptApart) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(ErrorSpanOf(1), "a").ok());
  ASSERT_TRUE(Send(TracesBatch({1}, 2), "b").ok());  // same trace ID, other tenant, no error
  clock_.Advance(seconds(10));
  processor_->TickForTest();
  EXPECT_EQ(next_.tenants, std::vector<std::string>{"a"});
  EXPECT_EQ(next_.TotalSpans(), 1u);
}

TEST_F(TailSamplingProcessorTest, InvertedMatchVetoesAnotherPolicysSample) {
  Make(R"(
decision_wait: 1s
policies:
  - {name: all, type: always_sample}
  - {name: no-test, type: string_attribute, string_attribute: {key: env, values: [test], invert_match: true}}
)");
  RequestBuilder b;
  AddString(b.Span(1), "env", "test");
  AddString(b.Span(2), "env", "prod");
  ASSERT_TRUE(Send(b.Build()).ok());
  clock_.Advance(seconds(1));
  processor_->TickForTest();
  EXPECT_EQ(next_.SpansOf(1), 0u);
  EXPECT_EQ(next_.SpansOf(2), 1u);
}

TEST_F(TailSamplingProcessorTest, HeldBytesFollowTheBufferedBatches) {
  Make(kErrorsOnly);
  ASSERT_TRUE(Send(TracesBatch({1, 2}, 5)).ok());
  EXPECT_GT(processor_->HeldBytesForTest(), 0);
  EXPECT_GT(Metric("strand_processor_tail_sampling_held_bytes", ""), 0);
  clock_.Advance(seconds(10));
  processor_->TickForTest();
  EXPECT_EQ(processor_->HeldBytesForTest(), 0);
  EXPECT_EQ(Metric("strand_processor_tail_sampling_held_bytes", ""), 0);
}

TEST_F(TailSamplingProcessorTest, LargeDecisionsAreSplitIntoBoundedRequests) {
  Make("decision_wait: 1s\npolicies: [{name: all, type: always_sample}]");
  std::vector<uint32_t> traces;
  for (uint32_t t = 1; t <= 9000; ++t) traces.push_back(t);
  ASSERT_TRUE(Send(TracesBatch(traces)).ok());
  clock_.Advance(seconds(1));
  processor_->TickForTest();
  EXPECT_EQ(next_.TotalSpans(), 9000u);
  EXPECT_EQ(next_.batches.size(), 2u);
}

TEST_F(TailSamplingProcessorTest, BackgroundThreadDecidesWithoutTicksFromTheTest) {
  Make("decision_wait: 1s\npolicies: [{name: all, type: always_sample}]");
  const int64_t t0 = clock_.MonotonicNanos();
  ASSERT_TRUE(processor_->Start().ok());
  ASSERT_TRUE(Send(TracesBatch({1})).ok());
  // The thread ticks every second of the processor's clock.
  ASSERT_TRUE(clock_.AwaitWaiterUntilForTest(t0 + 1'000'000'000));
  clock_.Advance(seconds(1));
  for (int i = 0; i < 100 && next_.TotalSpans() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(next_.SpansOf(1), 1u);
  processor_->Shutdown();
}

}  // namespace
}  // namespace strand::pipeline
