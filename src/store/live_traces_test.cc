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

TEST(PlaceSpanTest, SpansOutsideTheSlackArePlacedAtTheIngestTime) {
  constexpr int64_t kNow = 1'000'000;
  constexpr int64_t kSlack = 100;
  auto place = [](uint64_t start, uint64_t end) { return PlaceSpan(start, end, kNow, kSlack); };
  auto in_range = place(kNow - kSlack, kNow + kSlack);  // the window's ends are inside
  EXPECT_EQ(in_range.timing, SpanTiming::kInRange);
  EXPECT_EQ(in_range.start, uint64_t{kNow - kSlack});
  EXPECT_EQ(in_range.end, uint64_t{kNow + kSlack});
  for (auto [start, end] : {std::pair<uint64_t, uint64_t>{kNow - kSlack - 1, kNow},
                            {5, 6},
                            {kNow, kNow - kSlack - 1}}) {
    auto p = place(start, end);
    EXPECT_EQ(p.timing, SpanTiming::kPast) << start << ".." << end;
    EXPECT_EQ(p.start, uint64_t{kNow});
    EXPECT_EQ(p.end, uint64_t{kNow});
  }
  for (auto [start, end] : {std::pair<uint64_t, uint64_t>{kNow, kNow + kSlack + 1},
                            {UINT64_MAX, UINT64_MAX},
                            {0, UINT64_MAX}}) {
    auto p = place(start, end);
    EXPECT_EQ(p.timing, SpanTiming::kFuture) << start << ".." << end;
    EXPECT_EQ(p.start, uint64_t{kNow});
  }
  // No slack trusts every span; the window stops at 0 and never wraps.
  EXPECT_EQ(PlaceSpan(5, 6, kNow, 0).timing, SpanTiming::kInRange);
  EXPECT_EQ(PlaceSpan(0, 1, 0, 10).timing, SpanTiming::kInRange);
  EXPECT_EQ(PlaceSpan(0, UINT64_MAX - 1, INT64_MAX, INT64_MAX).timing, SpanTiming::kInRange);
  EXPECT_EQ(PlaceSpan(0, UINT64_MAX, INT64_MAX, INT64_MAX).timing, SpanTiming::kFuture);
}

TEST(LiveTracesPlacementTest, OutOfRangeSpansArePlacedAndCounted) {
  auto acc = std::make_shared<LiveAccounting>();
  LiveTraces live(/*ingestion_time_range_slack_nanos=*/150);
  // Span s lasts 100 * s .. 100 * s + 50; ingested at 250 the window is [100, 400].
  TestBatch b = MakeBatch({{1, 2}, {1, 3}, {1, 9}, {2, 1}, {3, 0}}, acc);
  const OutOfRangeSpans counted = live.Add("t", b.live, *b.decoded, 250);
  EXPECT_EQ(counted.past, 1u);    // span 0
  EXPECT_EQ(counted.future, 1u);  // span 9
  auto one = live.Find("t", Id(1));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->spans.size(), 3u);
  EXPECT_EQ(one->min_start_unix_nano, 200u);
  EXPECT_EQ(one->max_start_unix_nano, 300u);
  EXPECT_EQ(one->min_end_unix_nano, 250u);  // span 9 stands at the ingest time
  EXPECT_EQ(one->max_end_unix_nano, 350u);
  auto two = live.Find("t", Id(2));
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->min_start_unix_nano, 100u);
  EXPECT_EQ(two->max_end_unix_nano, 150u);
  auto three = live.Find("t", Id(3));
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->min_start_unix_nano, 250u);
  EXPECT_EQ(three->max_end_unix_nano, 250u);
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
