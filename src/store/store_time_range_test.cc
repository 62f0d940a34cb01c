// Store tests of client clocks: a span stamped far from its ingest time (1970, 2262) is
// stored and read as sent, but placed by its ingest time for block time ranges,
// compaction windows and retention, and counted (StoreOptions::
// ingestion_time_range_slack_nanos, docs/format/block.md "Time range").
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace strand::store {
namespace {

namespace pb = opentelemetry::proto;
using testing::kHour;
using testing::kSecond;
using testing::TraceIdOf;

constexpr uint64_t k1970 = 86'400ull * 1'000'000'000;     // 1970-01-02
constexpr uint64_t k2262 = 9'220'000'000'000'000'000ull;  // 2262-03

// One request holding trace `trace`, one span per (start, end).
std::string SpanRequest(char trace, const std::vector<std::pair<uint64_t, uint64_t>>& times) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (size_t i = 0; i < times.size(); ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(16, trace));
    s->set_span_id(std::string(7, '\x01') + static_cast<char>(i + 1));
    s->set_name("op");
    s->set_start_time_unix_nano(times[i].first);
    s->set_end_time_unix_nano(times[i].second);
  }
  return req.SerializeAsString();
}

block::TimeRange RangeOf(const block::BlockMeta& m) {
  return {m.min_start_unix_nano, m.max_start_unix_nano, m.min_end_unix_nano, m.max_end_unix_nano};
}

class StoreTimeRangeTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    options_.retention_nanos = kHour;
  }
  int64_t Now() const { return clock_.NowUnixNanos(); }
  int64_t Slack() const { return options_.ingestion_time_range_slack_nanos; }
  // Cuts every trace (they are all idle after 11 s).
  void CutIdle() {
    clock_.Advance(std::chrono::seconds(11));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
  // Ingests trace `trace` as one span of a second from `start` and cuts it into a block of
  // its own; returns the ingest time.
  int64_t IngestOneSpanAndCut(char trace, uint64_t start) {
    const int64_t ingest = Now();
    EXPECT_TRUE(IngestBytes("t", SpanRequest(trace, {{start, start + kSecond}})).ok());
    CutIdle();
    EXPECT_EQ(store_->blocks()->size(), 1u);
    return ingest;
  }
  uint64_t OutOfRange(const std::string& direction) {
    return metrics_.AddCounter("strand_spans_out_of_time_range_total", "", {"direction"})
        ->With({direction})
        ->Value();
  }
  // The trace's single span as stored, or a failed expectation.
  std::pair<uint64_t, uint64_t> StoredTimes(char trace, int64_t start_s = 0, int64_t end_s = 0) {
    auto found = store_->FindTraceById("t", TraceIdOf(trace), start_s, end_s);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok() || found->spans.size() != 1) return {0, 0};
    const otlp::Span& span = found->spans[0].span();
    return {span.start_time_unix_nano, span.end_time_unix_nano};
  }
  // Expects the block's time range within the ingest window [first - slack, last + slack].
  void ExpectPlacedWithin(const block::BlockMeta& meta, int64_t first, int64_t last) {
    EXPECT_GE(meta.min_start_unix_nano, static_cast<uint64_t>(first - Slack()));
    EXPECT_GE(meta.min_end_unix_nano, static_cast<uint64_t>(first - Slack()));
    EXPECT_LE(meta.max_start_unix_nano, static_cast<uint64_t>(last + Slack()));
    EXPECT_LE(meta.max_end_unix_nano, static_cast<uint64_t>(last + Slack()));
  }
};

TEST_F(StoreTimeRangeTest, SpanStamped1970SurvivesRetentionAndIsReadable) {
  Open();
  const int64_t ingest = Now();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  ASSERT_TRUE(IngestBytes("t", SpanRequest('a', {{k1970, k1970 + kSecond}})).ok());
  CutIdle();
  ASSERT_EQ(store_->blocks()->size(), 1u) << "cut in its ingest time's window, with the rest";
  ExpectPlacedWithin(store_->blocks()->front()->meta, ingest, ingest);

  clock_.Advance(std::chrono::minutes(2));
  auto deleted = store_->ApplyRetention();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 0);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const std::pair<uint64_t, uint64_t> sent{k1970, k1970 + kSecond};
  EXPECT_EQ(StoredTimes('a'), sent);
  // A time range around the ingest time finds it too: the block is placed there.
  const int64_t ingest_s = ingest / kSecond;
  EXPECT_EQ(StoredTimes('a', ingest_s - 60, ingest_s + 60), sent);
  ExpectAllFound("t", Expected(0, 1));
}

TEST_F(StoreTimeRangeTest, SpanStamped2262DoesNotMakeABlockThatNeverExpires) {
  Open();
  const int64_t ingest = IngestOneSpanAndCut('b', k2262);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  ExpectPlacedWithin(store_->blocks()->front()->meta, ingest, ingest);
  EXPECT_EQ(StoredTimes('b'), std::make_pair(k2262, k2262 + kSecond));

  clock_.Set(ingest + kHour - kSecond);
  ASSERT_EQ(*store_->ApplyRetention(), 0) << "within retention of its ingest time";
  clock_.Set(ingest + kHour + kSecond);
  auto deleted = store_->ApplyRetention();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  EXPECT_TRUE(store_->blocks()->empty());
  EXPECT_TRUE(absl::IsNotFound(store_->FindTraceById("t", TraceIdOf('b')).status()));
}

TEST_F(StoreTimeRangeTest, OutOfRangeSpansAreCounted) {
  options_.ingestion_time_range_slack_nanos = 120 * kSecond;
  Open();
  const uint64_t now = static_cast<uint64_t>(Now());
  const uint64_t slack = static_cast<uint64_t>(Slack());
  const std::vector<std::pair<uint64_t, uint64_t>> times = {
      {now - 1000, now},           // in range
      {now - slack, now + slack},  // in range: the window's ends are inside
      {k1970, k1970 + 1},          // past
      {now - slack - 1, now},      // past: starts just before the window
      {k2262, k2262 + 1},          // future
      {now, now + slack + 1},      // future: ends just after the window
      {k1970, k2262},              // future: a time after the window wins
  };
  ASSERT_TRUE(IngestBytes("t", SpanRequest('c', times)).ok());
  EXPECT_EQ(OutOfRange("past"), 2u);
  EXPECT_EQ(OutOfRange("future"), 3u);
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("strand_spans_out_of_time_range_total{direction=\"past\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("strand_spans_out_of_time_range_total{direction=\"future\"} 3"),
            std::string::npos);
  // The live trace is placed by its in-range spans and, for the rest, the ingest time.
  auto live = store_->live().Find("t", TraceIdOf('c'));
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->min_start_unix_nano, now - slack);
  EXPECT_EQ(live->max_end_unix_nano, now + slack);

  // A restart replays the spans without counting them again.
  Crash();
  Open();
  EXPECT_EQ(store_->live().NumSpans(), 7u);
  EXPECT_EQ(OutOfRange("past"), 2u);
  EXPECT_EQ(OutOfRange("future"), 3u);
}

TEST_F(StoreTimeRangeTest, CompactionKeepsThePlacedRange) {
  options_.compaction_min_inputs = 2;
  Open();
  const int64_t first = Now();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  ASSERT_TRUE(IngestBytes("t", SpanRequest('a', {{k1970, k1970 + kSecond}})).ok());
  CutIdle();
  ASSERT_TRUE(IngestBytes("t", Request(1)).ok());
  ASSERT_TRUE(IngestBytes("t", SpanRequest('b', {{k2262, k2262 + kSecond}})).ok());
  const int64_t last = Now();
  CutIdle();
  ASSERT_EQ(store_->blocks()->size(), 2u) << "both in the window of their ingest time";
  block::TimeRange inputs;
  for (const auto& b : *store_->blocks()) inputs.Merge(RangeOf(b->meta));

  SettleWindows();
  auto merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_TRUE(*merged);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const block::BlockMeta& meta = store_->blocks()->front()->meta;
  EXPECT_EQ(RangeOf(meta), inputs) << "the union of the inputs' ranges";
  ExpectPlacedWithin(meta, first, last);
  EXPECT_EQ(StoredTimes('a'), std::make_pair(k1970, k1970 + kSecond));
  EXPECT_EQ(StoredTimes('b'), std::make_pair(k2262, k2262 + kSecond));
  ExpectAllFound("t", Expected(0, 2));
}

TEST_F(StoreTimeRangeTest, BlockRecoveredWithoutMetaKeepsThePlacedRange) {
  Open();
  const int64_t ingest = IngestOneSpanAndCut('a', k1970);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const std::string block_dir = store_->blocks()->front()->dir;
  store_.reset();
  std::filesystem::remove(block_dir + "/meta.json");

  Open();
  EXPECT_EQ(CounterValue("strand_blocks_recovered_total"), 1u);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  ExpectPlacedWithin(store_->blocks()->front()->meta, ingest, ingest);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(*store_->ApplyRetention(), 0);
  EXPECT_EQ(StoredTimes('a'), std::make_pair(k1970, k1970 + kSecond));
}

TEST_F(StoreTimeRangeTest, ZeroSlackTrustsClientClocks) {
  options_.ingestion_time_range_slack_nanos = 0;  // importing old data
  Open();
  IngestOneSpanAndCut('a', k1970);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(store_->blocks()->front()->meta.min_start_unix_nano, k1970);
  EXPECT_EQ(store_->blocks()->front()->meta.max_end_unix_nano, k1970 + kSecond);
  EXPECT_EQ(OutOfRange("past") + OutOfRange("future"), 0u);
}

}  // namespace
}  // namespace strand::store
