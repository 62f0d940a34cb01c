#include "pipeline/ottl/ottl_condition.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/ottl/filter_testutil.h"

namespace strand::pipeline {
namespace {

class OttlConditionTest : public ::testing::Test {
 protected:
  // The indices of the spans `text` matches (span context).
  std::vector<uint32_t> Spans(const std::string& text) {
    auto cond = OttlCondition::Parse(text, ottl::Context::kSpan);
    EXPECT_TRUE(cond.ok()) << text << ": " << cond.status();
    if (!cond.ok()) return {};
    std::vector<uint32_t> out;
    for (uint32_t i = 0; i < batch_.spans.size(); ++i) {
      auto m = (*cond)->Evaluate(batch_, i);
      EXPECT_TRUE(m.ok()) << text << ": " << m.status();
      if (m.ok() && *m) out.push_back(i);
    }
    return out;
  }
  // The names of the events `text` matches (spanevent context), as "span/event".
  std::vector<std::string> Events(const std::string& text) {
    auto cond = OttlCondition::Parse(text, ottl::Context::kSpanEvent);
    EXPECT_TRUE(cond.ok()) << text << ": " << cond.status();
    if (!cond.ok()) return {};
    std::vector<std::string> out;
    for (uint32_t i = 0; i < batch_.spans.size(); ++i) {
      const otlp::Range r = batch_.spans[i].events;
      for (uint32_t e = r.begin; e < r.end; ++e) {
        auto m = (*cond)->Evaluate(batch_, i, e);
        EXPECT_TRUE(m.ok()) << text << ": " << m.status();
        if (m.ok() && *m)
          out.push_back(std::to_string(i) + "/" + std::string(batch_.events[e].name));
      }
    }
    return out;
  }
  absl::Status ErrorOf(const std::string& text) {
    auto cond = OttlCondition::Parse(text, ottl::Context::kSpan);
    EXPECT_TRUE(cond.ok()) << cond.status();
    auto m = (*cond)->Evaluate(batch_, 0);
    return m.ok() ? absl::OkStatus() : m.status();
  }

  otlp::SpanBatch batch_ = testing::FilterTestBatch();
  using V = std::vector<uint32_t>;
};

TEST_F(OttlConditionTest, SpanFields) {
  EXPECT_EQ(Spans(R"(name == "GET /ping")"), V{1});
  EXPECT_EQ(Spans(R"(span.name != "GET /ping")"), (V{0, 2}));
  EXPECT_EQ(Spans("kind == SPAN_KIND_INTERNAL"), V{1});
  EXPECT_EQ(Spans("kind == 2"), V{0});
  EXPECT_EQ(Spans("kind >= SPAN_KIND_SERVER"), (V{0, 2}));
  EXPECT_EQ(Spans(R"(kind.string == "Client")"), V{2});
  EXPECT_EQ(Spans(R"(kind.deprecated_string == "SPAN_KIND_SERVER")"), V{0});
  EXPECT_EQ(Spans("status.code == STATUS_CODE_ERROR"), V{1});
  EXPECT_EQ(Spans("status.code == STATUS_CODE_UNSET"), V{0});
  EXPECT_EQ(Spans(R"(status.message == "boom")"), V{1});
  EXPECT_EQ(Spans(R"(trace_id.string == "00000000000000000000000000000002")"), V{2});
  EXPECT_EQ(Spans("trace_id == TraceID(0x00000000000000000000000000000001)"), (V{0, 1}));
  EXPECT_EQ(Spans(R"(span_id.string == "00000000000000a2")"), V{1});
  EXPECT_EQ(Spans("span_id == SpanID(0x00000000000000b1)"), V{2});
  EXPECT_EQ(Spans(R"(parent_span_id.string == "00000000000000a1")"), V{1});
  EXPECT_EQ(Spans(R"(parent_span_id.string == "")"), (V{0, 2}));
  EXPECT_EQ(Spans(R"(trace_state == "vendor=abc, other=xyz")"), V{0});
  EXPECT_EQ(Spans(R"(trace_state["other"] == "xyz")"), V{0});
  EXPECT_EQ(Spans(R"(trace_state["missing"] == nil)"), (V{0, 1, 2}));
  EXPECT_EQ(Spans("start_time_unix_nano == 1000 and end_time_unix_nano > 1999"), V{0});
  EXPECT_EQ(Spans("dropped_attributes_count == 0 and dropped_events_count == 0 and "
                  "dropped_links_count == 0"),
            (V{0, 1, 2}));
}

TEST_F(OttlConditionTest, ResourceAndScope) {
  EXPECT_EQ(Spans(R"(resource.attributes["service.name"] == "noisy")"), V{2});
  EXPECT_EQ(Spans(R"(resource.attributes["host.name"] != nil)"), (V{0, 1}));
  EXPECT_EQ(Spans("resource.dropped_attributes_count == 0"), (V{0, 1, 2}));
  EXPECT_EQ(Spans(R"(instrumentation_scope.name == "db")"), V{2});
  EXPECT_EQ(Spans(R"(instrumentation_scope.version >= "1")"), (V{0, 1}));
  EXPECT_EQ(Spans(R"(instrumentation_scope.attributes["x"] == nil)"), (V{0, 1, 2}));
}

TEST_F(OttlConditionTest, AttributesOfEachType) {
  EXPECT_EQ(Spans(R"(attributes["http.route"] == "/healthz")"), V{0});
  EXPECT_EQ(Spans(R"(attributes["http.status_code"] >= 500)"), (V{1, 2}));
  EXPECT_EQ(Spans(R"(attributes["http.status_code"] < 500.5)"), (V{0, 2}));
  EXPECT_EQ(Spans(R"(attributes["ratio"] == 0.5 and attributes["ratio"] < 1)"), V{0});
  EXPECT_EQ(Spans(R"(attributes["ok"] == true and attributes["ok"] > false)"), V{0});
  EXPECT_EQ(Spans(R"(attributes["blob"] == 0x0102)"), V{0});
  EXPECT_EQ(Spans(R"(attributes["tags"][1] == "b")"), V{0});
  EXPECT_EQ(Spans(R"(attributes["nested"]["inner"] == "x")"), V{0});
  EXPECT_EQ(Spans(R"(attributes["nested"]["deep"]["z"] == 1)"), V{0});
  EXPECT_EQ(Spans(R"(attributes["nested"]["missing"]["z"] == nil)"), (V{0, 1, 2}));
  EXPECT_EQ(Spans(R"(attributes["tags"] == attributes["tags"])"), (V{0, 1, 2}));
  EXPECT_EQ(Spans(R"(attributes["nested"] != attributes["tags"])"), V{0});
}

TEST_F(OttlConditionTest, TypeMismatchesAreNotEqualAndNilEqualsOnlyNil) {
  EXPECT_EQ(Spans(R"(attributes["http.status_code"] == "200")"), V{});
  EXPECT_EQ(Spans(R"(attributes["http.status_code"] != "200")"), (V{0, 1, 2}));
  EXPECT_EQ(Spans(R"(attributes["http.status_code"] > "1")"), V{});
  EXPECT_EQ(Spans(R"(attributes["missing"] == nil)"), (V{0, 1, 2}));
  EXPECT_EQ(Spans(R"(attributes["missing"] != nil)"), V{});
  EXPECT_EQ(Spans(R"(attributes["missing"] < 1 or attributes["missing"] >= 1)"), V{});
  EXPECT_EQ(Spans(R"(attributes["missing"] != 1)"), (V{0, 1, 2}));
  EXPECT_EQ(Spans("nil == nil"), (V{0, 1, 2}));
  EXPECT_EQ(Spans(R"(attributes["tags"] < attributes["tags"])"), V{});
}

TEST_F(OttlConditionTest, AndOrNotAndParentheses) {
  EXPECT_EQ(
      Spans(
          R"(resource.attributes["service.name"] == "noisy" and attributes["http.status_code"] >= 500)"),
      V{2});
  EXPECT_EQ(Spans(R"(name == "GET /ping" or name == "SELECT")"), (V{1, 2}));
  EXPECT_EQ(Spans(R"(not name == "GET /ping")"), (V{0, 2}));
  EXPECT_EQ(Spans(R"(not (kind == 2 or kind == 3) and true)"), V{1});
  EXPECT_EQ(Spans("kind == 1 or kind == 2 and kind == 3"), V{1});
  EXPECT_EQ(Spans("(kind == 1 or kind == 2) and kind == 3"), V{});
}

TEST_F(OttlConditionTest, IsMatchSearchesUnanchoredAndConvertsScalars) {
  EXPECT_EQ(Spans(R"(IsMatch(name, "^GET"))"), (V{0, 1}));
  EXPECT_EQ(Spans(R"(IsMatch(name, "ping"))"), V{1});
  EXPECT_EQ(Spans(R"(IsMatch(resource.attributes["host.name"], "pod-\\d+"))"), (V{0, 1}));
  EXPECT_EQ(Spans(R"(IsMatch(attributes["http.status_code"], "^5\\d\\d$"))"), (V{1, 2}));
  EXPECT_EQ(Spans(R"(IsMatch(attributes["ratio"], "^0\\.5$"))"), V{0});
  EXPECT_EQ(Spans(R"(IsMatch(attributes["ok"], "^true$"))"), V{0});
  EXPECT_EQ(Spans(R"(IsMatch(attributes["blob"], "^AQI=$"))"), V{0});
  EXPECT_EQ(Spans(R"(IsMatch(attributes["missing"], ".*"))"), V{});
  EXPECT_EQ(Spans(R"(IsMatch(name, "ping") == true)"), V{1});
  EXPECT_EQ(Spans(R"(not IsMatch(name, "ping"))"), (V{0, 2}));
}

TEST_F(OttlConditionTest, SpanEventContext) {
  using S = std::vector<std::string>;
  EXPECT_EQ(Events(R"(name == "debug")"), (S{"0/debug", "1/debug"}));
  EXPECT_EQ(Events(R"(spanevent.name == "debug" and span.name == "GET /ping")"), S{"1/debug"});
  EXPECT_EQ(Events(R"(attributes["level"] == "v")"), S{"0/debug"});
  EXPECT_EQ(Events("time_unix_nano == 1500"), S{"0/debug"});
  EXPECT_EQ(Events("span.kind == SPAN_KIND_SERVER"), (S{"0/debug", "0/exception"}));
  EXPECT_EQ(Events(R"(resource.attributes["service.name"] == "checkout" and name != "debug")"),
            S{"0/exception"});
}

TEST_F(OttlConditionTest, EvaluationErrorsAreReported) {
  EXPECT_EQ(ErrorOf(R"(IsMatch(attributes["tags"], "a"))").message(),
            "at column 1: not supported: IsMatch on a map or slice");
  EXPECT_EQ(ErrorOf(R"(attributes["tags"][5] == "a")").message(),
            "at column 1: index 5 out of range");
  EXPECT_EQ(ErrorOf(R"(attributes["http.route"]["x"] == "a")").message(),
            "at column 1: cannot index a value that is not a map with [\"x\"]");
  EXPECT_EQ(ErrorOf(R"(attributes["nested"][0] == "a")").message(),
            "at column 1: cannot index a value that is not a slice with [0]");
  // `or` stops at the first true operand, so a later error does not count.
  EXPECT_TRUE(ErrorOf(R"(true or attributes["tags"][5] == "a")").ok());
}

}  // namespace
}  // namespace strand::pipeline
