#include "store/live_traces.h"

#include <gtest/gtest.h>

#include <thread>

#include "otlp/proto_encoder.h"

namespace strand::store {
namespace {

// A decoded batch and the LiveBatch that holds its encoded form.
struct TestBatch {
  std::shared_ptr<const otlp::SpanBatch> decoded;
  LiveBatchPtr live;
};

TestBatch MakeBatch(std::vector<std::pair<uint8_t, uint8_t>> trace_and_span,
                    const std::shared_ptr<LiveAccounting>& acc, uint64_t epoch = 1) {
  auto b = std::make_shared<otlp::SpanBatch>();
  b->resources.emplace_back();
  b->scopes.emplace_back();
  for (auto [t, s] : trace_and_span) {
    otlp::Span span;
    span.trace_id.fill(t);
    span.span_id.fill(s);
    span.start_time_unix_nano = 100 * s;
    span.end_time_unix_nano = 100 * s + 50;
    b->spans.push_back(span);
  }
  auto bytes = std::make_shared<const std::string>(otlp::EncodeExportRequest(*b));
  auto live =
      std::make_shared<const LiveBatch>(bytes, static_cast<uint32_t>(b->spans.size()), epoch, acc);
  return {b, live};
}

otlp::TraceId Id(uint8_t t) {
  otlp::TraceId id;
  id.fill(t);
  return id;
}

class LiveTracesTest : public ::testing::Test {
 protected:
  void Add(std::vector<std::pair<uint8_t, uint8_t>> spans, int64_t now, uint64_t epoch = 1) {
    TestBatch b = MakeBatch(std::move(spans), acc_, epoch);
    live_.Add("t", b.live, *b.decoded, now);
  }
  std::shared_ptr<LiveAccounting> acc_ = std::make_shared<LiveAccounting>();
  LiveTraces live_;
};

TEST_F(LiveTracesTest, GroupsSpansByTraceAcrossBatches) {
  Add({{1, 1}, {2, 1}, {1, 2}}, 0);
  Add({{1, 3}}, 0);
  auto found = live_.Find("t", Id(1));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->spans.size(), 3u);
  EXPECT_EQ(found->batches.size(), 2u);
  EXPECT_EQ(found->min_start_unix_nano, 100u);
  EXPECT_EQ(found->max_end_unix_nano, 350u);
  EXPECT_EQ(live_.NumTraces(), 2u);
  EXPECT_EQ(live_.NumSpans(), 4u);
}

TEST_F(LiveTracesTest, SpanRefsPointAtTheDecodedSpans) {
  Add({{1, 1}, {2, 7}, {1, 2}}, 0);
  auto found = live_.Find("t", Id(2));
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->spans.size(), 1u);
  auto decoded = found->batches[0]->Decode();
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const otlp::Span& span = (*decoded)->spans[found->spans[0].index];
  EXPECT_EQ(span.trace_id, Id(2));
  EXPECT_EQ(span.span_id[0], 7);
}

TEST_F(LiveTracesTest, UnknownTraceOrTenantIsAbsent) {
  Add({{1, 1}}, 0);
  EXPECT_FALSE(live_.Find("other", Id(1)).has_value());
  EXPECT_FALSE(live_.Find("t", Id(9)).has_value());
}

TEST_F(LiveTracesTest, SelectsIdleAndOldTracesOnly) {
  Add({{1, 1}}, /*now=*/100);
  Add({{2, 1}}, /*now=*/500);
  Add({{3, 1}}, /*now=*/100);
  Add({{3, 2}}, /*now=*/900);  // trace 3 was created early but is still active
  CutSelection idle;
  idle.idle_before = 600;
  auto cut = live_.SelectForCut(idle);
  ASSERT_EQ(cut.size(), 2u);
  CutSelection old;
  old.created_before = 200;
  EXPECT_EQ(live_.SelectForCut(old).size(), 2u);  // traces 1 and 3
  CutSelection all;
  all.all = true;
  EXPECT_EQ(live_.SelectForCut(all).size(), 3u);
  EXPECT_EQ(live_.NumTraces(), 3u);  // selecting removes nothing
}

TEST_F(LiveTracesTest, ExtraSpansTakeTheLeastRecentlyUpdated) {
  for (uint8_t t = 1; t <= 10; ++t) Add({{t, 1}, {t, 2}}, /*now=*/t * 10);
  CutSelection sel;
  sel.extra_spans = 5;  // three oldest traces (6 spans) cover it
  auto cut = live_.SelectForCut(sel);
  ASSERT_EQ(cut.size(), 3u);
  for (const auto& t : cut) EXPECT_LE(t.id[0], 3);
}

TEST_F(LiveTracesTest, MaxSpansBoundsASelection) {
  for (uint8_t t = 1; t <= 10; ++t) Add({{t, 1}, {t, 2}}, 0);
  CutSelection sel;
  sel.all = true;
  sel.max_spans = 5;
  EXPECT_EQ(live_.SelectForCut(sel).size(), 3u);
}

TEST_F(LiveTracesTest, RemoveKeepsSpansThatArrivedAfterTheSelection) {
  Add({{1, 1}, {1, 2}}, 0);
  Add({{2, 1}}, 0);
  CutSelection all;
  all.all = true;
  auto cut = live_.SelectForCut(all);
  Add({{1, 3}}, 5);  // arrives while the block is being written
  live_.Remove(cut);
  EXPECT_FALSE(live_.Find("t", Id(2)).has_value());
  auto rest = live_.Find("t", Id(1));
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->spans.size(), 1u);
  EXPECT_EQ(rest->batches.size(), 1u);
  EXPECT_EQ(live_.NumSpans(), 1u);
}

TEST_F(LiveTracesTest, AccountingFollowsBatchLifetimes) {
  Add({{1, 1}}, 0, /*epoch=*/3);
  Add({{2, 1}}, 0, /*epoch=*/5);
  EXPECT_EQ(acc_->batches(), 2u);
  EXPECT_GT(acc_->bytes(), 0u);
  EXPECT_EQ(acc_->OldestLiveEpoch(), 3u);
  CutSelection sel;
  sel.all = true;
  sel.max_spans = 1;
  auto cut = live_.SelectForCut(sel);
  ASSERT_EQ(cut.size(), 1u);
  const uint8_t cut_trace = cut[0].id[0];
  live_.Remove(cut);
  cut.clear();  // the last reference to the cut batch
  EXPECT_EQ(acc_->batches(), 1u);
  EXPECT_EQ(acc_->OldestLiveEpoch(), cut_trace == 1 ? 5u : 3u);
  live_.Remove(live_.SelectForCut(CutSelection{.all = true}));
  EXPECT_EQ(acc_->batches(), 0u);
  EXPECT_EQ(acc_->bytes(), 0u);
  EXPECT_FALSE(acc_->OldestLiveEpoch().has_value());
}

TEST_F(LiveTracesTest, ConcurrentAddsAreAllIndexed) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 200; ++i) {
        TestBatch b = MakeBatch({{static_cast<uint8_t>(i), static_cast<uint8_t>(t + 1)}}, acc_);
        live_.Add("t", b.live, *b.decoded, 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(live_.NumSpans(), 800u);
  EXPECT_EQ(live_.NumTraces(), 200u);
}

}  // namespace
}  // namespace strand::store
