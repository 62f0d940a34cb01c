#include "pipeline/fanout.h"

#include <gtest/gtest.h>

#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

using testing::RecordingConsumer;
using testing::TracesBatch;

// Holds `done` until the test answers (a consumer that answers later, from elsewhere).
class DeferredConsumer : public TracesConsumer {
 public:
  void Consume(RequestContext&&, otlp::SpanBatch&& batch, ConsumeDone done) override {
    spans += batch.spans.size();
    pending.push_back(std::move(done));
  }
  size_t spans = 0;
  std::vector<ConsumeDone> pending;
};

class FanoutTest : public ::testing::Test {
 protected:
  // Runs one batch of 3 spans through a fan-out over `consumers`; returns every answer.
  std::vector<absl::Status> Run(std::vector<TracesConsumer*> consumers) {
    Fanout fanout(std::move(consumers));
    std::vector<absl::Status> answers;
    fanout.Consume(RequestContext{}, TracesBatch({1, 2, 3}),
                   [&](absl::Status s) { answers.push_back(std::move(s)); });
    return answers;
  }
};

TEST_F(FanoutTest, EveryConsumerGetsEverySpan) {
  RecordingConsumer a, b, c;
  auto answers = Run({&a, &b, &c});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].ok());
  for (RecordingConsumer* r : {&a, &b, &c}) {
    EXPECT_EQ(r->TotalSpans(), 3u);
    EXPECT_EQ(r->SpansOf(2), 1u);
  }
}

TEST_F(FanoutTest, RetryableErrorWinsOverAPermanentOne) {
  RecordingConsumer a, b, c;
  a.next_status = absl::InvalidArgumentError("bad");
  b.next_status = absl::UnavailableError("busy");
  auto answers = Run({&a, &b, &c});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(absl::IsUnavailable(answers[0])) << answers[0];
  EXPECT_EQ(c.TotalSpans(), 3u);
}

TEST_F(FanoutTest, FirstRetryableErrorIsKept) {
  RecordingConsumer a, b;
  a.next_status = absl::ResourceExhaustedError("full");
  b.next_status = absl::UnavailableError("busy");
  auto answers = Run({&a, &b});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(absl::IsResourceExhausted(answers[0])) << answers[0];
}

TEST_F(FanoutTest, PermanentErrorIsReportedWhenNothingIsRetryable) {
  RecordingConsumer a, b;
  b.next_status = absl::InvalidArgumentError("bad");
  auto answers = Run({&a, &b});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FanoutTest, DoneRunsOnceAfterTheLastAnswer) {
  DeferredConsumer a, b;
  Fanout fanout({&a, &b});
  int calls = 0;
  absl::Status got;
  fanout.Consume(RequestContext{}, TracesBatch({1, 2}), [&](absl::Status s) {
    ++calls;
    got = std::move(s);
  });
  EXPECT_EQ(a.spans, 2u);
  EXPECT_EQ(b.spans, 2u);
  ASSERT_EQ(a.pending.size(), 1u);
  ASSERT_EQ(b.pending.size(), 1u);
  b.pending[0](absl::UnavailableError("busy"));
  EXPECT_EQ(calls, 0);
  a.pending[0](absl::OkStatus());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(absl::IsUnavailable(got));
}

TEST_F(FanoutTest, AdmitAsksEveryConsumer) {
  struct Refusing : RecordingConsumer {
    absl::Status Admit(const RequestContext&) override { return absl::UnavailableError("no"); }
  } refusing;
  RecordingConsumer ok;
  Fanout fanout({&ok, &refusing});
  EXPECT_TRUE(absl::IsUnavailable(fanout.Admit(RequestContext{})));
  Fanout fine({&ok});
  EXPECT_TRUE(fine.Admit(RequestContext{}).ok());
}

}  // namespace
}  // namespace strand::pipeline
