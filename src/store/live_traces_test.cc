#include "store/live_traces.h"

#include <gtest/gtest.h>

#include <thread>

namespace strand::store {
namespace {

BatchPtr MakeBatch(std::vector<std::pair<uint8_t, uint8_t>> trace_and_span) {
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
  return b;
}

TEST(LiveTracesTest, GroupsSpansByTraceAcrossBatches) {
  LiveTraces live(4);
  live.Add("t", MakeBatch({{1, 1}, {2, 1}, {1, 2}}), 0);
  live.Add("t", MakeBatch({{1, 3}}), 0);
  otlp::TraceId id;
  id.fill(1);
  auto found = live.Find("t", id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->spans.size(), 3u);
  EXPECT_EQ(found->batches.size(), 2u);
  EXPECT_EQ(found->min_start_unix_nano, 100u);
  EXPECT_EQ(found->max_end_unix_nano, 350u);
  EXPECT_EQ(live.NumTraces(), 2u);
  EXPECT_EQ(live.NumSpans(), 4u);
}

TEST(LiveTracesTest, UnknownTraceOrTenantIsAbsent) {
  LiveTraces live;
  live.Add("t", MakeBatch({{1, 1}}), 0);
  otlp::TraceId id;
  id.fill(1);
  EXPECT_FALSE(live.Find("other", id).has_value());
  id.fill(9);
  EXPECT_FALSE(live.Find("t", id).has_value());
}

TEST(LiveTracesTest, ConcurrentAddsAreAllIndexed) {
  LiveTraces live;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&live, t] {
      for (int i = 0; i < 200; ++i) {
        live.Add("t", MakeBatch({{static_cast<uint8_t>(i), static_cast<uint8_t>(t)}}), 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(live.NumSpans(), 800u);
  EXPECT_EQ(live.NumTraces(), 200u);
}

}  // namespace
}  // namespace strand::store
