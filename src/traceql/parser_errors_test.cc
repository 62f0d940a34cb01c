// Syntax and validation errors: their exact text and positions, and the depth limits.
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "traceql/ast.h"
#include "traceql/parser.h"

namespace strand::traceql {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(std::string_view text) {
  absl::StatusOr<Query> query = Parse(text);
  if (query.ok()) return "OK: " + ToString(*query);
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(query.status().message());
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ParserErrorTest, SyntaxErrorsNameWhatWasExpectedAndWhere) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"{ .a = }", R"m(parse error at line 1, column 8: expected a value after "=", got "}")m"},
      {"{ .a = 1",
       "parse error at line 1, column 9: expected an operator or \"}\", got end of "
       "query"},
      {"",
       "parse error at line 1, column 1: expected a spanset filter \"{\", an aggregate, "
       "by(), select() or coalesce(), got end of query"},
      {"{ .a } &&",
       R"m(parse error at line 1, column 10: expected a spanset filter "{" after "&&", got end of query)m"},
      {"{ .a }\n  | foo",
       "parse error at line 2, column 5: expected a spanset filter \"{\", an "
       "aggregate, by(), select() or coalesce(), got \"foo\""},
      {"{ .a } { .b }",
       R"m(parse error at line 1, column 8: expected "|", "with" or end of query, got "{")m"},
      {"{ } | count()",
       "parse error at line 1, column 14: expected an arithmetic or comparison "
       "operator (= != < <= > >=), got end of query"},
      {"{ } | count(.a) > 1",
       R"m(parse error at line 1, column 13: expected ")" (count takes no arguments), got ".a")m"},
      {"{ } | avg() > 1", R"m(parse error at line 1, column 11: expected an expression, got ")")m"},
      {"{ } | by .a", R"m(parse error at line 1, column 10: expected "(" after "by", got ".a")m"},
      {"{ } | select()",
       R"m(parse error at line 1, column 14: expected an attribute or intrinsic, got ")")m"},
      {"{ } | select(1)",
       R"m(parse error at line 1, column 14: expected an attribute or intrinsic, got "1")m"},
      {"{ } | coalesce(.a)",
       R"m(parse error at line 1, column 16: expected ")" (coalesce takes no arguments), got ".a")m"},
      {"{ (.a = 1 }",
       R"m(parse error at line 1, column 11: expected an operator or ")", got "}")m"},
      {"({ .a }",
       R"m(parse error at line 1, column 8: expected "|", a spanset operator or ")", got end of query)m"},
      {"{ .a = 1 } | { .b } |",
       "parse error at line 1, column 22: expected a spanset filter "
       "\"{\", an aggregate, by(), select() or coalesce(), got end of "
       "query"},
      {"{ foo }", R"m(parse error at line 1, column 3: expected an expression or "}", got "foo")m"},
      {"{ .a =~ }", R"m(parse error at line 1, column 9: expected a value after "=~", got "}")m"},
      {"{ ! }", R"m(parse error at line 1, column 5: expected a value after "!", got "}")m"},
      {"{ } | rate(", R"m(parse error at line 1, column 12: expected ")", got end of query)m"},
      {"{ } | rate() | { .a }",
       R"m(parse error at line 1, column 16: expected topk() or bottomk(), got "{")m"},
      {"{ } | rate() | topk(x)",
       R"m(parse error at line 1, column 21: expected an integer, got "x")m"},
      {"{ } | rate() | topk(0)", "parse error at line 1, column 21: k must be at least 1"},
      {"{ } | sum_over_time(1)",
       R"m(parse error at line 1, column 21: expected an attribute or intrinsic, got "1")m"},
      {"{ } | quantile_over_time(duration)",
       R"m(parse error at line 1, column 34: expected "," and a quantile, got ")")m"},
      {"{ } | quantile_over_time(duration, 1.5)",
       "parse error at line 1, column 36: a quantile must be between 0 and 1"},
      {"{ } | compare(.a)",
       R"m(parse error at line 1, column 15: expected a spanset filter "{", got ".a")m"},
      {"{ } | rate() by name",
       R"m(parse error at line 1, column 17: expected "(" after "by", got "name")m"},
      {"{ } with()", R"m(parse error at line 1, column 10: expected a hint name, got ")")m"},
      {"{ } with(a 1)",
       R"m(parse error at line 1, column 12: expected "=" after the hint name, got "1")m"},
      {"{ } with(a = .b)", R"m(parse error at line 1, column 14: expected a value, got ".b")m"},
      {"{ } | count() > 1 > 2",
       R"m(parse error at line 1, column 19: expected "|", "with" or end of query, got ">")m"},
      {"({ .a } | rate())",
       R"m(parse error at line 1, column 11: expected a spanset filter "{", an aggregate, by(), select() or coalesce(), got "rate")m"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(ErrorOf(text), message) << text;
}

TEST(ParserErrorTest, LexicalErrorsComeInTextOrder) {
  EXPECT_EQ(ErrorOf("{ .a = \"abc }"), "parse error at line 1, column 8: unterminated string");
  EXPECT_EQ(ErrorOf("{ .a = 1 } | @"),
            "parse error at line 1, column 14: unexpected character '@'");
  EXPECT_EQ(ErrorOf("{ span:nope = 1 }"),
            "parse error at line 1, column 3: unknown intrinsic \"span:nope\"");
  // A syntax error before a lexical one is reported first.
  EXPECT_EQ(ErrorOf("{ = } \"abc"),
            R"m(parse error at line 1, column 3: expected an expression or "}", got "=")m");
  EXPECT_EQ(ErrorOf("{ .a = 99999999999999999999 }"),
            "parse error at line 1, column 8: integer out of range");
}

TEST(ParserErrorTest, TypeErrors) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"{ name = 1 }", "parse error at line 1, column 8: cannot compare string with int"},
      {"{ status = \"error\" }",
       "parse error at line 1, column 10: cannot compare status with string"},
      {"{ status = server }", "parse error at line 1, column 10: cannot compare status with kind"},
      {"{ kind = ok }", "parse error at line 1, column 8: cannot compare kind with status"},
      {"{ duration = \"1s\" }",
       "parse error at line 1, column 12: cannot compare duration with string"},
      {"{ true = 1 }", "parse error at line 1, column 8: cannot compare bool with int"},
      {"{ name > nil }", "parse error at line 1, column 8: nil can only be compared with = and !="},
      {"{ true > false }",
       "parse error at line 1, column 8: operator \">\" cannot order bool values"},
      {"{ status < error }",
       "parse error at line 1, column 10: operator \"<\" cannot order status values"},
      {"{ .a =~ 1 }",
       "parse error at line 1, column 9: operator \"=~\" needs a string literal on the right"},
      {"{ .a !~ .b }",
       "parse error at line 1, column 9: operator \"!~\" needs a string literal on the right"},
      {"{ duration =~ \"1\" }",
       "parse error at line 1, column 12: operator \"=~\" needs a string on the left, got "
       "duration"},
      {"{ 1 + 2 }",
       "parse error at line 1, column 3: a spanset filter needs a boolean expression, got int"},
      {"{ name }",
       "parse error at line 1, column 3: a spanset filter needs a boolean expression, got string"},
      {"{ .a + 1 }",
       "parse error at line 1, column 3: a spanset filter needs a boolean expression, got number"},
      {"{ nil }",
       "parse error at line 1, column 3: a spanset filter needs a boolean expression, got nil"},
      {"{ 1 && true }",
       "parse error at line 1, column 5: operator \"&&\" needs booleans, got int and bool"},
      {"{ .a || name }",
       "parse error at line 1, column 6: operator \"||\" needs booleans, got attribute and string"},
      {"{ \"a\" + 1 = 2 }",
       "parse error at line 1, column 7: operator \"+\" needs numbers, got string and int"},
      {"{ status * 2 = 1 }",
       "parse error at line 1, column 10: operator \"*\" needs numbers, got status and int"},
      {"{ !1 }", "parse error at line 1, column 3: operator \"!\" needs a boolean, got int"},
      {"{ -name = 1 }",
       "parse error at line 1, column 3: operator \"-\" needs a number, got string"},
      {"{ .a + 1 = \"x\" }", "parse error at line 1, column 10: cannot compare number with string"},
      {"{ } | avg(name) > 1",
       "parse error at line 1, column 11: avg needs a numeric argument, got string"},
      {"{ } | sum(.a = 1) > 1",
       "parse error at line 1, column 11: sum needs a numeric argument, got bool"},
      {"{ } | avg_over_time(name)",
       "parse error at line 1, column 21: avg_over_time needs a numeric argument, got string"},
      {"{ } | compare({ name = 1 })",
       "parse error at line 1, column 22: cannot compare string with int"},
      {"({ name = 1 } | count() > 1) && { }",
       "parse error at line 1, column 9: cannot compare string with int"},
      {"{ } | by(name = 1)", "parse error at line 1, column 15: cannot compare string with int"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(ErrorOf(text), message) << text;
}

TEST(ParserErrorTest, WellTypedQueriesPass) {
  for (std::string_view text : {
           "{ duration > 1.5 }",
           "{ duration > 100 }",
           "{ .a = 1 && .b = \"x\" }",
           "{ .a = nil }",
           "{ nil != name }",
           "{ status = error }",
           "{ kind != client }",
           "{ .a }",
           "{ true }",
           "{ !.a }",
           "{ .a > .b }",
           "{ name > \"m\" }",
           "{ .a + 1 > 2.5 }",
           "{ duration * 2 > 1s }",
           "{ span:id = \"00ff\" }",
           "{ .a = 1 } | avg(.b) > 1",
           "{ } | max(duration) > 1s",
           "{ .a =~ \"a|b\" }",
           "{ event:timeSinceStart > 1ms }",
           "{ .a = true || .b = false }",
       }) {
    EXPECT_TRUE(Parse(text).ok()) << text << ": " << Parse(text).status();
  }
}

TEST(ParserErrorTest, InvalidRegularExpressionIsAnErrorAtTheLiteral) {
  EXPECT_THAT(ErrorOf("{ .a =~ \"(\" }"),
              HasSubstr("parse error at line 1, column 9: invalid regular expression: "));
  EXPECT_THAT(ErrorOf("{ .a !~ \"a{2,1}\" }"), HasSubstr("column 9: invalid regular expression"));
}

TEST(ParserDepthTest, NestingUpToTheLimitParses) {
  const int n = kMaxNestingDepth - 1;
  EXPECT_TRUE(Parse("{ " + Repeat("(", n) + ".a" + Repeat(")", n) + " }").ok());
  EXPECT_TRUE(Parse("{ " + Repeat("!", n) + ".a }").ok());
  EXPECT_TRUE(Parse(Repeat("(", n) + "{ .a }" + Repeat(")", n)).ok());
}

TEST(ParserDepthTest, DeepParenthesesAreRefused) {
  const int n = kMaxNestingDepth + 1;
  EXPECT_THAT(ErrorOf("{ " + Repeat("(", n) + ".a" + Repeat(")", n) + " }"),
              HasSubstr("column 203: query nested too deeply (more than 200 levels)"));
  EXPECT_THAT(ErrorOf(Repeat("(", n) + "{ .a }" + Repeat(")", n)), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf("{ } | " + Repeat("(", n) + "count()" + Repeat(")", n) + " > 1"),
              HasSubstr("nested too deeply"));
}

TEST(ParserDepthTest, DeepUnaryAndPowerChainsAreRefused) {
  EXPECT_THAT(ErrorOf("{ " + Repeat("!", 1000) + ".a }"), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf("{ " + Repeat("-", 1000) + ".a = 1 }"), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf("{ .a = 2" + Repeat(" ^ 2", 1000) + " }"), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf("{ } | count() > 2" + Repeat(" ^ 2", 1000)), HasSubstr("nested too deeply"));
}

TEST(ParserDepthTest, HugeInputsDoNotOverflowTheStack) {
  const std::string opens(kMaxQueryBytes - 10, '(');
  EXPECT_THAT(ErrorOf("{ " + opens), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf(opens), HasSubstr("nested too deeply"));
  EXPECT_THAT(ErrorOf(std::string(kMaxQueryBytes - 10, '!')), HasSubstr("expected"));
}

TEST(ParserDepthTest, LongFlatChainsParseUpToTheTreeHeightLimit) {
  const std::string ors = ".a = 1" + Repeat(" || .a = 1", 500);
  EXPECT_TRUE(Parse("{ " + ors + " }").ok());
  EXPECT_TRUE(Parse("{ .a }" + Repeat(" && { .a }", 500)).ok());
  EXPECT_TRUE(Parse("{ }" + Repeat(" | { }", 5000)).ok()) << "stages are a list, not a chain";
}

TEST(ParserDepthTest, CanonicalTextOfDeepQueriesParsesAgain) {
  const int n = kMaxNestingDepth - 2;
  for (const std::string& text : {
           "{ " + Repeat(".a || (", n) + ".a" + Repeat(")", n) + " }",
           "{ 1" + Repeat(" * -(2", n / 2) + Repeat(")", n / 2) + " = 1 }",
           "{ 1" + Repeat(" * -2", n) + " = 1 }",
           "{ " + Repeat("!", n) + ".a }",
           "{ .a = 1" + Repeat(" || .a = 1", kMaxTreeHeight - 10) + " }",
           Repeat("({ .a } | ", n / 2) + "{ .b }" + Repeat(")", n / 2),
           "{ } | count()" + Repeat(" ^ (2", n / 2) + Repeat(")", n / 2) + " > 1",
       }) {
    absl::StatusOr<Query> query = Parse(text);
    ASSERT_TRUE(query.ok()) << query.status();
    const std::string canonical = ToString(*query);
    absl::StatusOr<Query> again = Parse(canonical);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(ToString(*again), canonical);
  }
}

TEST(ParserDepthTest, OverlyTallTreesAreRefused) {
  EXPECT_THAT(ErrorOf("{ .a = 1" + Repeat(" || .a = 1", kMaxTreeHeight) + " }"),
              HasSubstr("query too complex (expression tree deeper than 1000)"));
  EXPECT_THAT(ErrorOf("{ .a }" + Repeat(" && { .a }", kMaxTreeHeight)),
              HasSubstr("query too complex"));
  EXPECT_THAT(ErrorOf("{ } | count()" + Repeat(" + 1", kMaxTreeHeight) + " > 1"),
              HasSubstr("query too complex"));
}

}  // namespace
}  // namespace strand::traceql
