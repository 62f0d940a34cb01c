#include "pipeline/queue/queued_exporter.h"

#include <gtest/gtest.h>

#include "consumer/batch_policy.h"
#include "pipeline/queue/fake_sender_testutil.h"
#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

using testing::TraceIdOf;
using testing::TracesBatch;
using testutil::Eventually;
using testutil::Permanent;
using testutil::Retryable;

// Records every answer a caller got.
class Answers {
 public:
  ConsumeDone Callback() {
    return [this](absl::Status s) {
      absl::MutexLock lock(&mu_);
      statuses_.push_back(std::move(s));
    };
  }
  std::vector<absl::Status> statuses() {
    absl::MutexLock lock(&mu_);
    return statuses_;
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    return testutil::AwaitWithMutex(
        mu_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return statuses_.size() >= n; });
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::Status> statuses_ ABSL_GUARDED_BY(mu_);
};

class QueuedExporterTest : public ::testing::Test {
 protected:
  QueuedExporterTest() {
    settings_.queue.num_consumers = 1;
    settings_.retry.initial_interval_nanos = 1'000'000;
    settings_.retry.max_interval_nanos = 4'000'000;
    settings_.retry.randomization_factor = 0;
  }
  ~QueuedExporterTest() override {
    log_.SetGate(true);
    if (exporter_) exporter_->Shutdown();
  }

  void Build(bool start = true) {
    BuildContext ctx;
    ctx.id = ComponentId{"otlp", "test"};
    ctx.metrics = &metrics_;
    ctx.clock = clock_;
    exporter_ = std::make_unique<QueuedExporter>(
        settings_, std::make_unique<testutil::FakeSender>(log_), nullptr, ctx);
    if (start) {
      ASSERT_TRUE(exporter_->Start().ok());
    }
  }

  static std::shared_ptr<const BatchPolicy> Policy(uint64_t size, uint64_t max_size,
                                                   absl::Duration timeout,
                                                   std::vector<std::string> keys = {}) {
    auto p = std::make_shared<BatchPolicy>();
    p->send_batch_size = size;
    p->send_batch_max_size = max_size;
    p->timeout_nanos = absl::ToInt64Nanoseconds(timeout);
    p->metadata_keys = std::move(keys);
    return p;
  }

  // Sends a batch of `spans` spans of trace `trace` through the exporter.
  void Send(int spans, std::shared_ptr<const BatchPolicy> policy = nullptr, uint32_t trace = 1,
            std::vector<std::pair<std::string, std::string>> metadata = {}) {
    RequestContext ctx;
    ctx.batching = std::move(policy);
    ctx.metadata = std::move(metadata);
    exporter_->Consume(std::move(ctx), TracesBatch({trace}, spans), answers_.Callback());
  }

  const ExporterStats& stats() { return exporter_->stats(); }

  // Sets a fake clock for the exporter and the send log; before Build().
  FakeClock& UseFakeClock() {
    fake_clock_ = std::make_unique<FakeClock>();
    clock_ = fake_clock_.get();
    log_.UseClock(*clock_);
    return *fake_clock_;
  }

  SenderSettings settings_;
  std::unique_ptr<FakeClock> fake_clock_;
  Clock* clock_ = nullptr;  // null: the real clock
  MetricsRegistry metrics_;
  testutil::SendLog log_;
  Answers answers_;
  std::unique_ptr<QueuedExporter> exporter_;
};

TEST_F(QueuedExporterTest, QueueAcknowledgesAtOnceBeforeTheSend) {
  log_.SetGate(false);  // the next hop does not answer yet
  Build();
  Send(3);
  ASSERT_TRUE(answers_.WaitFor(1));
  EXPECT_TRUE(answers_.statuses()[0].ok());
  EXPECT_TRUE(log_.WaitForAttempts(1));
  EXPECT_TRUE(log_.bodies().empty());
  log_.SetGate(true);
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.SpansPerBody(), std::vector<size_t>{3});
  EXPECT_TRUE(Eventually([&] { return stats().sent_spans->Value() == 3; }));
}

TEST_F(QueuedExporterTest, FullQueueRefusesWithUnavailableAndCounts) {
  settings_.queue.queue_size = 2;
  Build(/*start=*/false);  // nothing takes requests out of the queue
  EXPECT_TRUE(exporter_->Admit(RequestContext{}).ok());
  Send(1);
  Send(2);
  EXPECT_TRUE(absl::IsUnavailable(exporter_->Admit(RequestContext{})));
  Send(5);
  const auto statuses = answers_.statuses();
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_TRUE(statuses[1].ok());
  EXPECT_TRUE(absl::IsUnavailable(statuses[2])) << statuses[2];
  EXPECT_EQ(stats().enqueue_failed_spans->Value(), 5u);
  EXPECT_EQ(stats().queue_capacity->Value(), 2);
}

TEST_F(QueuedExporterTest, RequestsAreJoinedUntilSendBatchSize) {
  Build();
  auto policy = Policy(/*size=*/5, /*max_size=*/0, absl::Hours(1));
  Send(2, policy);
  Send(2, policy);
  Send(1, policy);  // reaches 5 spans: the batch goes out without waiting for the timeout
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.SpansPerBody(), std::vector<size_t>{5});
  EXPECT_EQ(log_.attempts(), 1);
}

TEST_F(QueuedExporterTest, EqualPoliciesBatchTogetherWhateverTheirObject) {
  // A request recovered from a persistent queue carries its own copy of the policy.
  Build();
  Send(2, Policy(/*size=*/5, /*max_size=*/0, absl::Hours(1)));
  Send(3, Policy(/*size=*/5, /*max_size=*/0, absl::Hours(1)));
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.SpansPerBody(), std::vector<size_t>{5});
}

TEST_F(QueuedExporterTest, TimeoutFlushesASmallBatch) {
  Build();
  const absl::Duration timeout = absl::Milliseconds(60);
  const absl::Time before = absl::Now();
  Send(3, Policy(/*size=*/1000, /*max_size=*/0, timeout));
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.SpansPerBody(), std::vector<size_t>{3});
  EXPECT_GE(log_.times()[0] - before, timeout);
}

TEST_F(QueuedExporterTest, SendBatchMaxSizeSplitsLargeRequests) {
  Build();
  auto policy = Policy(/*size=*/2, /*max_size=*/3, absl::Hours(1));
  Send(7, policy);
  ASSERT_TRUE(log_.WaitForBodies(3));
  EXPECT_EQ(log_.SpansPerBody(), (std::vector<size_t>{3, 3, 1}));
  EXPECT_TRUE(Eventually([&] { return stats().sent_spans->Value() == 7; }));
}

TEST_F(QueuedExporterTest, SendBatchMaxSizeCapsJoinedRequests) {
  log_.SetGate(false);  // hold the first send so the next requests queue up together
  Build();
  auto policy = Policy(/*size=*/4, /*max_size=*/4, absl::Milliseconds(30));
  Send(4, policy);
  ASSERT_TRUE(log_.WaitForAttempts(1));
  Send(3, policy);
  Send(3, policy);  // 6 spans pending: 3 + 3 must not go out as one batch of 6
  log_.SetGate(true);
  ASSERT_TRUE(log_.WaitForBodies(3));
  for (size_t n : log_.SpansPerBody()) EXPECT_LE(n, 4u);
  EXPECT_EQ(log_.TotalSpans(), 10u);
}

TEST_F(QueuedExporterTest, MetadataKeysKeepBatchesApart) {
  Build();
  auto policy = Policy(/*size=*/4, /*max_size=*/0, absl::Milliseconds(50), {"x-team"});
  Send(2, policy, /*trace=*/1, {{"x-team", "a"}});
  Send(2, policy, /*trace=*/2, {{"x-team", "b"}});
  Send(2, policy, /*trace=*/1, {{"x-team", "a"}});
  ASSERT_TRUE(log_.WaitForBodies(2));
  // Every body carries one team's spans: 4 of team a (size trigger), 2 of b (timeout).
  std::map<otlp::TraceId, size_t> spans_of;
  for (const std::string& body : log_.bodies()) {
    auto decoded = otlp::DecodeProtoRequest(std::string(body));
    ASSERT_TRUE(decoded.ok());
    const auto& spans = decoded->batch.spans;
    ASSERT_FALSE(spans.empty());
    for (const auto& s : spans) EXPECT_EQ(s.trace_id, spans[0].trace_id);
    spans_of[spans[0].trace_id] = spans.size();
  }
  EXPECT_EQ(spans_of[TraceIdOf(1)], 4u);
  EXPECT_EQ(spans_of[TraceIdOf(2)], 2u);
}

TEST_F(QueuedExporterTest, RetryableErrorsAreRetriedWithBackoff) {
  log_.Script({Retryable(), Retryable()});
  Build();
  Send(4);
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.attempts(), 3);
  EXPECT_TRUE(Eventually([&] { return stats().sent_spans->Value() == 4; }));
  EXPECT_EQ(stats().retries->Value(), 2u);
  EXPECT_EQ(stats().failed_spans->Value(), 0u);
  // Back-off: 1 ms, then 1.5 ms (no jitter).
  const auto t = log_.times();
  EXPECT_GE(t[1] - t[0], absl::Milliseconds(1));
  EXPECT_GE(t[2] - t[1], absl::Microseconds(1500));
}

TEST_F(QueuedExporterTest, BackoffSequenceRunsOnTheInjectedClock) {
  FakeClock& clock = UseFakeClock();
  settings_.retry.initial_interval_nanos = 1'000'000'000;
  settings_.retry.multiplier = 1.5;
  settings_.retry.max_interval_nanos = 2'000'000'000;
  log_.Script({Retryable(), Retryable(), Retryable()});
  Build();
  const int64_t t0 = clock.MonotonicNanos();
  Send(4);
  // Each wait is exactly the back-off (1 s, 1.5 s, then capped at 2 s); time moves only
  // when the sender is waiting for that deadline.
  int64_t at = t0;
  for (int64_t backoff : {1'000'000'000LL, 1'500'000'000LL, 2'000'000'000LL}) {
    ASSERT_TRUE(clock.AwaitWaiterUntilForTest(at + backoff)) << "no wait of " << backoff;
    clock.Advance(std::chrono::nanoseconds(backoff));
    at += backoff;
  }
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.attempts(), 4);
  std::vector<int64_t> offsets;
  for (absl::Time t : log_.times()) offsets.push_back(absl::ToUnixNanos(t) - t0);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1'000'000'000, 2'500'000'000, 4'500'000'000}));
  EXPECT_TRUE(Eventually([&] { return stats().sent_spans->Value() == 4; }));
  EXPECT_EQ(stats().retries->Value(), 3u);
}

TEST_F(QueuedExporterTest, MaxElapsedTimeIsMeasuredOnTheInjectedClock) {
  FakeClock& clock = UseFakeClock();
  settings_.retry.initial_interval_nanos = 1'000'000'000;
  settings_.retry.multiplier = 2;
  settings_.retry.max_interval_nanos = 60'000'000'000;
  settings_.retry.max_elapsed_time_nanos = 3'500'000'000;
  log_.SetFallback(Retryable());
  Build();
  const int64_t t0 = clock.MonotonicNanos();
  Send(2);
  // Attempts at 0 s and 1 s; the next wait (2 s) would end at 3 s, within 3.5 s; the one
  // after (4 s) would end past it, so the third attempt is the last.
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 1'000'000'000));
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 3'000'000'000));
  clock.Advance(std::chrono::seconds(2));
  EXPECT_TRUE(Eventually([&] { return stats().failed_spans->Value() == 2; }));
  EXPECT_EQ(log_.attempts(), 3);
  EXPECT_EQ(stats().retries->Value(), 2u);
  EXPECT_TRUE(log_.bodies().empty());
}

TEST_F(QueuedExporterTest, BatchTimeoutFiresOnTheInjectedClock) {
  FakeClock& clock = UseFakeClock();
  Build();
  const int64_t t0 = clock.MonotonicNanos();
  Send(3, Policy(/*size=*/1000, /*max_size=*/0, absl::Seconds(5)));
  Send(2, Policy(/*size=*/1000, /*max_size=*/0, absl::Seconds(5)));
  // The batcher waits for more requests until the group's timeout, then sends.
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 5'000'000'000));
  clock.Advance(std::chrono::nanoseconds(4'999'999'999));
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 5'000'000'000));
  EXPECT_EQ(log_.attempts(), 0);
  clock.Advance(std::chrono::nanoseconds(1));
  ASSERT_TRUE(log_.WaitForBodies(1));
  EXPECT_EQ(log_.SpansPerBody(), std::vector<size_t>{5});
  EXPECT_EQ(absl::ToUnixNanos(log_.times()[0]) - t0, 5'000'000'000);
}

TEST_F(QueuedExporterTest, RetryAfterHintIsHonoured) {
  SendResult throttled = Retryable("slow down");
  throttled.retry_after_nanos = 40'000'000;
  log_.Script({throttled});
  Build();
  Send(1);
  ASSERT_TRUE(log_.WaitForBodies(1));
  const auto t = log_.times();
  EXPECT_GE(t[1] - t[0], absl::Milliseconds(40));
}

TEST_F(QueuedExporterTest, PermanentErrorIsDroppedAndCounted) {
  log_.Script({Permanent()});
  Build();
  Send(6);
  EXPECT_TRUE(Eventually([&] { return stats().failed_spans->Value() == 6; }));
  EXPECT_EQ(log_.attempts(), 1);
  EXPECT_EQ(stats().retries->Value(), 0u);
  EXPECT_EQ(stats().sent_spans->Value(), 0u);
}

TEST_F(QueuedExporterTest, MaxElapsedTimeGivesUp) {
  settings_.retry.max_elapsed_time_nanos = 30'000'000;
  log_.SetFallback(Retryable());
  Build();
  Send(2);
  EXPECT_TRUE(Eventually([&] { return stats().failed_spans->Value() == 2; }));
  EXPECT_GT(log_.attempts(), 1);
  EXPECT_TRUE(log_.bodies().empty());
}

TEST_F(QueuedExporterTest, DisabledQueueAnswersWithTheSendResult) {
  settings_.queue.enabled = false;
  log_.SetGate(false);
  log_.Script({SendResult{}, Permanent("no such tenant")});
  Build();
  Send(2);
  ASSERT_TRUE(log_.WaitForAttempts(1));
  EXPECT_TRUE(answers_.statuses().empty());  // the caller waits for the send
  log_.SetGate(true);
  ASSERT_TRUE(answers_.WaitFor(1));
  EXPECT_TRUE(answers_.statuses()[0].ok());
  Send(3);
  ASSERT_TRUE(answers_.WaitFor(2));
  EXPECT_EQ(answers_.statuses()[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stats().failed_spans->Value(), 3u);
}

TEST_F(QueuedExporterTest, ShutdownDrainsTheMemoryQueue) {
  Build();
  auto policy = Policy(/*size=*/1000, /*max_size=*/0, absl::Hours(1));
  for (int i = 0; i < 5; ++i) Send(2, policy);
  Send(1);  // not batched
  ASSERT_TRUE(answers_.WaitFor(6));
  exporter_->Shutdown();
  EXPECT_EQ(log_.TotalSpans(), 11u);
  EXPECT_EQ(stats().sent_spans->Value(), 11u);
}

TEST_F(QueuedExporterTest, EmptyBatchIsAcknowledgedWithoutASend) {
  Build();
  exporter_->Consume(RequestContext{}, otlp::SpanBatch(), answers_.Callback());
  ASSERT_TRUE(answers_.WaitFor(1));
  EXPECT_TRUE(answers_.statuses()[0].ok());
  exporter_->Shutdown();
  EXPECT_EQ(log_.attempts(), 0);
}

}  // namespace
}  // namespace strand::pipeline
