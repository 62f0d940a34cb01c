#include "pipeline/processor/filter/filter_processor.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "pipeline/ottl/filter_testutil.h"

namespace strand::pipeline {
namespace {

// Records what reaches it, and acknowledges it.
class RecordingConsumer : public TracesConsumer {
 public:
  void Consume(RequestContext&& /*ctx*/, otlp::SpanBatch&& batch, ConsumeDone done) override {
    ++batches;
    names.clear();
    events.clear();
    for (const otlp::Span& s : batch.spans) {
      names.push_back(std::string(s.name));
      for (uint32_t e = s.events.begin; e < s.events.end; ++e) {
        events.push_back(std::string(s.name) + "/" + std::string(batch.events[e].name));
      }
    }
    original = std::string(batch.original_request());
    done(absl::OkStatus());
  }
  int batches = 0;
  std::vector<std::string> names;
  std::vector<std::string> events;
  std::string original;
};

class FilterProcessorTest : public ::testing::Test {
 protected:
  // Parses `yaml` as the settings of processors::filter/test; the error message or "".
  std::string Configure(const std::string& yaml) {
    ConfigMap map(YAML::Load(yaml), "processors::filter/test");
    settings_ = factory_->Parse(map);
    absl::Status s = map.Finish();
    if (!s.ok()) return std::string(s.message());
    EXPECT_NE(settings_, nullptr);
    BuildContext ctx;
    ctx.id = ComponentId{"filter", "test"};
    ctx.metrics = &metrics_;
    auto p = factory_->Create(*settings_, ctx, next_);
    EXPECT_TRUE(p.ok()) << p.status();
    processor_ = std::move(*p);
    return "";
  }
  // Sends the test batch through; returns the status `done` got.
  absl::Status Run() {
    std::optional<absl::Status> got;
    processor_->Consume(RequestContext{}, testing::FilterTestBatch(),
                        [&](absl::Status s) { got = s; });
    EXPECT_TRUE(got.has_value());
    return got.value_or(absl::UnknownError("done not called"));
  }
  std::string Metrics() { return metrics_.RenderText(); }

  std::unique_ptr<ProcessorFactory> factory_ = NewFilterProcessorFactory();
  MetricsRegistry metrics_;
  RecordingConsumer next_;
  std::unique_ptr<ComponentSettings> settings_;
  std::unique_ptr<Processor> processor_;
  using S = std::vector<std::string>;
};

TEST_F(FilterProcessorTest, DropsSpansMatchingAnyConditionAndCountsThem) {
  ASSERT_EQ(Configure(R"(
traces:
  span:
    - 'attributes["http.route"] == "/healthz"'
    - 'resource.attributes["service.name"] == "noisy" and attributes["http.status_code"] >= 500'
)"),
            "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.batches, 1);
  EXPECT_EQ(next_.names, S{"GET /ping"});
  EXPECT_EQ(next_.original, "");  // changed: the original bytes are not forwarded
  EXPECT_NE(
      Metrics().find("strand_processor_filter_spans_dropped_total{processor=\"filter/test\"} 2"),
      std::string::npos)
      << Metrics();
}

TEST_F(FilterProcessorTest, NothingMatchingPassesTheBatchUnchanged) {
  ASSERT_EQ(Configure("traces:\n  span: ['name == \"nope\"']\n"), "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.names, (S{"GET /healthz", "GET /ping", "SELECT"}));
  EXPECT_FALSE(next_.original.empty());
}

TEST_F(FilterProcessorTest, AnEmptiedBatchIsAcknowledgedAndNotPassedOn) {
  ASSERT_EQ(Configure("traces:\n  span: ['kind != 99']\n"), "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.batches, 0);
  EXPECT_NE(Metrics().find("spans_dropped_total{processor=\"filter/test\"} 3"), std::string::npos);
}

TEST_F(FilterProcessorTest, SpanEventConditionsRemoveEvents) {
  ASSERT_EQ(Configure(R"(
traces:
  span: ['name == "SELECT"']
  spanevent: ['name == "debug"']
)"),
            "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.names, (S{"GET /healthz", "GET /ping"}));
  EXPECT_EQ(next_.events, S{"GET /healthz/exception"});
  EXPECT_NE(Metrics().find("span_events_dropped_total{processor=\"filter/test\"} 2"),
            std::string::npos);
}

TEST_F(FilterProcessorTest, TraceqlFilterDropsTheSpansOfItsSpansets) {
  ASSERT_EQ(Configure(R"(
traces:
  traceql: '{ span.http.status_code >= 500 && resource.service.name = "checkout" }'
)"),
            "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.names, (S{"GET /healthz", "SELECT"}));
}

TEST_F(FilterProcessorTest, TraceqlAndOttlCombine) {
  ASSERT_EQ(Configure(R"(
traces:
  span: ['name == "SELECT"']
  traceql: '{ kind = server }'
)"),
            "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.names, S{"GET /ping"});
}

TEST_F(FilterProcessorTest, TraceqlBeyondOneSpansetFilterIsRefused) {
  EXPECT_EQ(Configure("traces:\n  traceql: '{ kind = server } >> { kind = internal }'\n"),
            "processors::filter/test::traces::traceql (line 2): at line 1, column 19: not "
            "supported: spanset and structural operators in the filter processor: only one "
            "plain spanset filter `{ ... }` (it sees a batch, not whole traces)");
  EXPECT_EQ(Configure("traces:\n  traceql: '{ } | count() > 1'\n"),
            "processors::filter/test::traces::traceql (line 2): at line 1, column 7: not "
            "supported: pipelines in the filter processor: only one plain spanset filter "
            "`{ ... }` (it sees a batch, not whole traces)");
  EXPECT_EQ(Configure("traces:\n  traceql: '{ traceDuration > 1s }'\n"),
            "processors::filter/test::traces::traceql (line 2): at line 1, column 3: not "
            "supported: trace-level intrinsics in the filter processor (a batch holds part of "
            "a trace)");
  EXPECT_NE(Configure("traces:\n  traceql: '{ span.x = }'\n").find("parse error"),
            std::string::npos);
}

TEST_F(FilterProcessorTest, ErrorModePropagateFailsTheBatch) {
  ASSERT_EQ(Configure("traces:\n  span: ['IsMatch(attributes[\"tags\"], \"a\")']\n"), "");
  absl::Status s = Run();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "filter processor filter/test: condition \"IsMatch(attributes[\"tags\"], \"a\")\": "
            "at column 1: not supported: IsMatch on a map or slice");
  EXPECT_EQ(next_.batches, 0);
}

TEST_F(FilterProcessorTest, ErrorModeIgnoreAndSilentKeepTheSpan) {
  for (const char* mode : {"ignore", "silent"}) {
    ASSERT_EQ(Configure(std::string("error_mode: ") + mode + R"(
traces:
  span:
    - 'IsMatch(attributes["tags"], "a")'
    - 'name == "SELECT"'
  spanevent: ['attributes["level"]["x"] == 1']
)"),
              "");
    EXPECT_TRUE(Run().ok());
    EXPECT_EQ(next_.names, (S{"GET /healthz", "GET /ping"})) << mode;
    EXPECT_EQ(next_.events.size(), 3u) << mode;
  }
}

TEST_F(FilterProcessorTest, ConfigErrorsNameTheKeyAndTheCondition) {
  EXPECT_EQ(Configure("traces:\n  span: ['name == \"a\"', 'name = \"b\"']\n"),
            "processors::filter/test::traces::span (line 2): condition #2 \"name = \"b\"\": at "
            "column 6: expected a comparison; equality is ==");
  EXPECT_EQ(Configure("traces:\n  spanevent: ['Concat([name], \"\") == \"x\"']\n"),
            "processors::filter/test::traces::spanevent (line 2): condition #1 "
            "\"Concat([name], \"\") == \"x\"\": at column 1: not supported: OTTL function Concat");
  EXPECT_EQ(Configure("traces:\n  spans: ['name == \"a\"']\n"),
            "processors::filter/test::traces::spans (line 2): unknown key");
  EXPECT_EQ(Configure("bogus: 1\n").substr(0, 35), "processors::filter/test::bogus (lin");
  EXPECT_EQ(Configure("error_mode: loud\n"),
            "processors::filter/test::error_mode (line 1): must be propagate, ignore or silent, "
            "not \"loud\"");
  EXPECT_EQ(Configure("metrics:\n  metric: ['name == \"a\"']\n"),
            "processors::filter/test::metrics (line 2): not supported: filter processor for "
            "metrics/logs (Strand pipelines carry traces)");
  EXPECT_EQ(Configure("traces:\n  resource: ['attributes[\"a\"] == 1']\n"),
            "processors::filter/test::traces::resource (line 2): not supported: "
            "resource-context conditions; write them under traces::span with "
            "resource.attributes[...] paths");
  EXPECT_NE(Configure("trace_conditions: ['span.name == \"a\"']\n").find("not supported"),
            std::string::npos);
  EXPECT_EQ(Configure("logs:\n  log_record: []\n"),
            "processors::filter/test::logs (line 2): not supported: filter processor for "
            "metrics/logs (Strand pipelines carry traces)");
}

TEST_F(FilterProcessorTest, ProcessorsOfOneRegistryShareTheMetricFamilies) {
  ASSERT_EQ(Configure("traces:\n  span: ['kind == 1']\n"), "");
  EXPECT_TRUE(Run().ok());
  ASSERT_EQ(Configure("traces:\n  span: ['kind == 2']\n"), "");
  EXPECT_TRUE(Run().ok());
  const std::string text = Metrics();
  const std::string help = "# HELP strand_processor_filter_spans_dropped_total";
  ASSERT_NE(text.find(help), std::string::npos) << text;
  EXPECT_EQ(text.find(help, text.find(help) + 1), std::string::npos) << text;
  EXPECT_NE(text.find("spans_dropped_total{processor=\"filter/test\"} 2"), std::string::npos);
}

TEST_F(FilterProcessorTest, NoConditionsPassesEverything) {
  ASSERT_EQ(Configure(""), "");
  EXPECT_TRUE(Run().ok());
  EXPECT_EQ(next_.names.size(), 3u);
}

}  // namespace
}  // namespace strand::pipeline
