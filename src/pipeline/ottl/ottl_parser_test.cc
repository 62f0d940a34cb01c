#include "pipeline/ottl/ottl_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace strand::pipeline::ottl {
namespace {

std::string ErrorOf(std::string_view text, Context context = Context::kSpan) {
  auto e = ParseCondition(text, context);
  if (e.ok()) return "ok";
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(e.status().message());
}

TEST(OttlParserTest, AcceptsTheConditionsOfTheFilterProcessor) {
  for (
      const char* text : {
          R"(attributes["http.route"] == "/healthz")",
          R"(name == "GET /ping")",
          "kind == SPAN_KIND_INTERNAL",
          "kind == 1",
          "status.code == STATUS_CODE_ERROR",
          R"(resource.attributes["service.name"] == "noisy" and attributes["http.status_code"] >= 500)",
          R"(not (IsMatch(name, "^GET .*") or kind > 0))",
          R"(span.name != nil and span.attributes["a"]["b"][0] == -1.5)",
          R"(instrumentation_scope.name == "x" or instrumentation_scope.version < "2")",
          "trace_id == TraceID(0x0102030405060708090a0b0c0d0e0f10)",
          "span_id == SpanID(0x0102030405060708)",
          R"(trace_id.string == "" or span_id.string == "" or parent_span_id.string == "")",
          R"(trace_state["vendor"] == "abc" and trace_state != "")",
          "start_time_unix_nano < end_time_unix_nano and dropped_attributes_count == 0",
          R"(kind.string == "Server" or kind.deprecated_string == "SPAN_KIND_SERVER")",
          "true",
          "IsMatch(attributes[\"x\"], \"\\\\d+\")",
          "not not false",
          "attributes[\"b\"] == 0x0102",
      }) {
    EXPECT_EQ(ErrorOf(text), "ok") << text;
  }
}

TEST(OttlParserTest, SpanEventContextReadsTheEventAndItsSpan) {
  for (const char* text : {
           R"(name == "debug")",
           R"(spanevent.name == "debug" and attributes["level"] == "v")",
           "time_unix_nano > 0 and dropped_attributes_count == 0",
           "span.kind == SPAN_KIND_SERVER and span.status.code == 0",
           R"(resource.attributes["service.name"] == "checkout")",
       }) {
    EXPECT_EQ(ErrorOf(text, Context::kSpanEvent), "ok") << text;
  }
  EXPECT_EQ(ErrorOf("kind == 1", Context::kSpanEvent),
            "at column 1: not supported: OTTL path \"kind\" in the spanevent context");
}

TEST(OttlParserTest, ErrorsNameTheColumnAndTheReason) {
  EXPECT_EQ(ErrorOf(R"(name = "x")"), "at column 6: expected a comparison; equality is ==");
  EXPECT_EQ(ErrorOf(R"(Concat([name], "") == "y")"),
            "at column 1: not supported: OTTL function Concat");
  EXPECT_EQ(ErrorOf(R"(set(name, "x"))"), "at column 1: not supported: OTTL function set");
  EXPECT_EQ(ErrorOf(R"(cache["x"] == 1)"),
            "at column 1: not supported: OTTL path \"cache\" in the span context");
  EXPECT_EQ(ErrorOf(R"(spanevent.name == "x")"),
            "at column 1: not supported: OTTL path \"spanevent.name\" in the span context");
  EXPECT_EQ(ErrorOf(R"(name == "x" and)"),
            "at column 16: expected a value, got the end of the condition");
  EXPECT_EQ(ErrorOf(R"(name == "x" ))"),
            "at column 13: expected `and`, `or` or the end of the condition, got \")\"");
  EXPECT_EQ(ErrorOf("name"),
            "at column 5: expected a comparison operator (==, !=, <, <=, >, >=), got the end "
            "of the condition");
  EXPECT_EQ(ErrorOf("kind == SPAN_KIND_BOGUS"),
            "at column 9: unknown OTTL enum \"SPAN_KIND_BOGUS\"");
  EXPECT_EQ(ErrorOf(R"(attributes["n"] + 1 == 2)"),
            "at column 17: not supported: math expressions");
  EXPECT_EQ(ErrorOf("[1] == 1"), "at column 1: not supported: list literals");
  EXPECT_EQ(ErrorOf(R"(name == "open)"), "at column 9: unterminated string");
  EXPECT_EQ(ErrorOf(R"(IsMatch(name, "("))"),
            "at column 15: invalid regular expression \"(\": missing ): (");
  EXPECT_EQ(ErrorOf("IsMatch(name, name)"),
            "at column 15: not supported: an IsMatch pattern other than a string");
  EXPECT_EQ(ErrorOf("IsMatch(name)"), "at column 1: IsMatch takes 2 arguments, got 1");
  EXPECT_EQ(ErrorOf("trace_id == TraceID(0x01)"),
            "at column 21: TraceID takes a 16-byte literal (0x and 32 hex digits)");
  EXPECT_EQ(ErrorOf("name[\"x\"] == 1"), "at column 1: path \"name\" cannot be indexed like that");
  EXPECT_EQ(ErrorOf("name == 0xz"),
            "at column 9: invalid byte slice literal (want 0x and pairs of hex digits)");
  EXPECT_EQ(ErrorOf("name ! 1"), "at column 6: unexpected character '!' (negate with `not`)");
  EXPECT_EQ(ErrorOf(""), "at column 1: empty condition");
}

TEST(OttlParserTest, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(ErrorOf(R"(name == "héllo" and x == 1)"),
            "at column 21: not supported: OTTL path \"x\" in the span context");
}

TEST(OttlParserTest, DeepNestingIsRefused) {
  std::string text = std::string(500, '(') + "true" + std::string(500, ')');
  EXPECT_EQ(ErrorOf(text), "at column 102: condition nested too deeply");
}

TEST(OttlParserTest, AndBindsTighterThanOr) {
  auto e = ParseCondition("true or false and false", Context::kSpan);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ((*e)->kind, Expr::Kind::kOr);
  ASSERT_EQ((*e)->args.size(), 2u);
  EXPECT_EQ((*e)->args[1]->kind, Expr::Kind::kAnd);
}

TEST(OttlParserTest, SignedNumbersAndEnumsAreLiterals) {
  auto e = ParseCondition("kind == SPAN_KIND_CLIENT and -5 < +.5", Context::kSpan);
  ASSERT_TRUE(e.ok()) << e.status();
  const Expr& kind = *(*e)->args[0]->args[1];
  EXPECT_EQ(kind.kind, Expr::Kind::kInt);
  EXPECT_EQ(kind.i, 3);
  const Expr& cmp = *(*e)->args[1];
  EXPECT_EQ(cmp.args[0]->i, -5);
  EXPECT_EQ(cmp.args[1]->f, 0.5);
  EXPECT_EQ(cmp.args[0]->column, 30u);
}

}  // namespace
}  // namespace strand::pipeline::ottl
