#include "common/metrics.h"

#include <gtest/gtest.h>

namespace strand {
namespace {

TEST(MetricsTest, RendersCountersWithLabels) {
  MetricsRegistry registry;
  auto* f = registry.AddCounter("strand_spans_received_total", "Spans received.", {"protocol"});
  f->With({"grpc"})->Increment(3);
  f->With({"http"})->Increment();
  std::string text = registry.RenderText();
  EXPECT_NE(text.find("# TYPE strand_spans_received_total counter"), std::string::npos);
  EXPECT_NE(text.find("strand_spans_received_total{protocol=\"grpc\"} 3"), std::string::npos);
  EXPECT_NE(text.find("strand_spans_received_total{protocol=\"http\"} 1"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  auto* f = registry.AddHistogram("lat_seconds", "Latency.", {}, {0.1, 1});
  auto* h = f->With({});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5);
  std::string text = registry.RenderText();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count 3"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry registry;
  registry.AddGauge("g", "A gauge.", {"l"})->With({"a\"b"})->Set(-2);
  EXPECT_NE(registry.RenderText().find("g{l=\"a\\\"b\"} -2"), std::string::npos);
}

}  // namespace
}  // namespace strand
