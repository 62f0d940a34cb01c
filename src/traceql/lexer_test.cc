#include "traceql/lexer.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace strand::traceql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<TokenKind> Kinds(std::string_view query) {
  std::vector<TokenKind> kinds;
  for (const Token& token : Tokenize(query)) kinds.push_back(token.kind);
  return kinds;
}

// The single token of `query` (which must lex to one token and the end).
Token Only(std::string_view query) {
  std::vector<Token> tokens = Tokenize(query);
  EXPECT_EQ(tokens.size(), 2u) << query;
  return tokens.front();
}

int64_t DurationOf(std::string_view text) {
  const Token token = Only(text);
  EXPECT_EQ(token.kind, TokenKind::kDuration) << text << ": " << token.text;
  return token.value.i;
}

constexpr int64_t kMs = 1000'000;
constexpr int64_t kSecond = 1000 * kMs;

TEST(LexerTest, EmptyQueryIsJustTheEnd) {
  EXPECT_THAT(Kinds(""), ElementsAre(TokenKind::kEnd));
  EXPECT_THAT(Kinds("  \n\t "), ElementsAre(TokenKind::kEnd));
}

TEST(LexerTest, EveryOperatorIsOneToken) {
  const std::vector<std::pair<std::string_view, TokenKind>> cases = {
      {"=", TokenKind::kEq},
      {"!=", TokenKind::kNeq},
      {">", TokenKind::kGt},
      {">=", TokenKind::kGte},
      {"<", TokenKind::kLt},
      {"<=", TokenKind::kLte},
      {"=~", TokenKind::kRegex},
      {"!~", TokenKind::kNotRegex},
      {"&&", TokenKind::kAnd},
      {"||", TokenKind::kOr},
      {"!", TokenKind::kNot},
      {"+", TokenKind::kPlus},
      {"-", TokenKind::kMinus},
      {"*", TokenKind::kStar},
      {"/", TokenKind::kSlash},
      {"%", TokenKind::kPercent},
      {"^", TokenKind::kCaret},
      {">>", TokenKind::kDescendant},
      {"<<", TokenKind::kAncestor},
      {"~", TokenKind::kTilde},
      {"!>", TokenKind::kNotChild},
      {"!<", TokenKind::kNotParent},
      {"!>>", TokenKind::kNotDescendant},
      {"!<<", TokenKind::kNotAncestor},
      {"&>", TokenKind::kUnionChild},
      {"&<", TokenKind::kUnionParent},
      {"&>>", TokenKind::kUnionDescendant},
      {"&<<", TokenKind::kUnionAncestor},
      {"&~", TokenKind::kUnionSibling},
      {"{", TokenKind::kLBrace},
      {"}", TokenKind::kRBrace},
      {"(", TokenKind::kLParen},
      {")", TokenKind::kRParen},
      {",", TokenKind::kComma},
      {"|", TokenKind::kPipe},
  };
  for (const auto& [text, kind] : cases) {
    EXPECT_EQ(Only(text).kind, kind) << text;
  }
}

TEST(LexerTest, LongestOperatorWins) {
  EXPECT_THAT(Kinds("}>>{"), ElementsAre(TokenKind::kRBrace, TokenKind::kDescendant,
                                         TokenKind::kLBrace, TokenKind::kEnd));
  EXPECT_THAT(Kinds("!=~"), ElementsAre(TokenKind::kNeq, TokenKind::kTilde, TokenKind::kEnd));
}

TEST(LexerTest, KeywordsAndIntrinsics) {
  EXPECT_EQ(Only("true").kind, TokenKind::kTrue);
  EXPECT_EQ(Only("false").kind, TokenKind::kFalse);
  EXPECT_EQ(Only("nil").kind, TokenKind::kNil);
  EXPECT_EQ(Only("error").value.i, static_cast<int64_t>(StatusValue::kError));
  EXPECT_EQ(Only("unset").kind, TokenKind::kStatus);
  EXPECT_EQ(Only("consumer").value.i, static_cast<int64_t>(KindValue::kConsumer));
  EXPECT_EQ(Only("by").kind, TokenKind::kBy);
  EXPECT_EQ(Only("select").kind, TokenKind::kSelect);
  EXPECT_EQ(Only("coalesce").kind, TokenKind::kCoalesce);
  EXPECT_EQ(Only("with").kind, TokenKind::kWith);
  EXPECT_EQ(Only("avg").aggregate, AggregateFn::kAvg);
  EXPECT_EQ(Only("quantile_over_time").kind, TokenKind::kMetricsFn);
  EXPECT_EQ(Only("bottomk").kind, TokenKind::kSecondStage);
  EXPECT_EQ(Only("most_recent").kind, TokenKind::kIdentifier);
  EXPECT_EQ(Only("duration").intrinsic, Intrinsic::kSpanDuration);
  EXPECT_EQ(Only("rootServiceName").intrinsic, Intrinsic::kTraceRootService);
  EXPECT_EQ(Only("span:parentID").intrinsic, Intrinsic::kSpanParentId);
  EXPECT_EQ(Only("trace:rootService").intrinsic, Intrinsic::kTraceRootService);
  EXPECT_EQ(Only("event:timeSinceStart").intrinsic, Intrinsic::kEventTimeSinceStart);
  EXPECT_EQ(Only("link:traceID").intrinsic, Intrinsic::kLinkTraceId);
  EXPECT_EQ(Only("instrumentation:version").intrinsic, Intrinsic::kInstrumentationVersion);
}

TEST(LexerTest, UnknownScopedIntrinsicIsAnError) {
  const Token token = Tokenize("{ span:nope }")[1];
  EXPECT_EQ(token.kind, TokenKind::kError);
  EXPECT_THAT(token.text, HasSubstr("unknown intrinsic \"span:nope\""));
  EXPECT_EQ(token.pos.column, 3u);
}

TEST(LexerTest, AttributesKeepDotsAndDashes) {
  Token token = Only("span.http.status-code");
  EXPECT_EQ(token.kind, TokenKind::kAttribute);
  EXPECT_EQ(token.scope, AttributeScope::kSpan);
  EXPECT_EQ(token.text, "http.status-code");
  token = Only(".service.name");
  EXPECT_EQ(token.scope, AttributeScope::kNone);
  EXPECT_EQ(token.text, "service.name");
  EXPECT_EQ(Only("resource.x").scope, AttributeScope::kResource);
  EXPECT_EQ(Only("event.x").scope, AttributeScope::kEvent);
  EXPECT_EQ(Only("link.x").scope, AttributeScope::kLink);
  EXPECT_EQ(Only("instrumentation.x").scope, AttributeScope::kInstrumentation);
}

TEST(LexerTest, AttributeNameEndsAtOperatorCharacters) {
  std::vector<Token> tokens = Tokenize(".a=1");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0].text, "a");
  EXPECT_EQ(tokens[1].kind, TokenKind::kEq);
  tokens = Tokenize("{.a}");
  EXPECT_EQ(tokens[1].text, "a");
  EXPECT_EQ(tokens[2].kind, TokenKind::kRBrace);
}

TEST(LexerTest, QuotedAttributeNames) {
  Token token = Only(R"(span."a b")");
  EXPECT_EQ(token.scope, AttributeScope::kSpan);
  EXPECT_EQ(token.text, "a b");
  EXPECT_EQ(Only(R"(."x\"y\\z")").text, "x\"y\\z");
  EXPECT_EQ(Only(R"(.foo."bar {}")").text, "foo.bar {}");
}

TEST(LexerTest, EmptyAttributeNameIsAnError) {
  const Token token = Tokenize("{ span. }")[1];
  EXPECT_EQ(token.kind, TokenKind::kError);
  EXPECT_THAT(token.text, HasSubstr("attribute name after \"span.\""));
}

TEST(LexerTest, Numbers) {
  EXPECT_EQ(Only("42").value.i, 42);
  EXPECT_EQ(Only("42").kind, TokenKind::kInt);
  EXPECT_DOUBLE_EQ(Only("1.5").value.f, 1.5);
  EXPECT_DOUBLE_EQ(Only("2e3").value.f, 2000);
  EXPECT_DOUBLE_EQ(Only("2.5E-1").value.f, 0.25);
  EXPECT_EQ(Tokenize("99999999999999999999")[0].kind, TokenKind::kError);
}

TEST(LexerTest, Durations) {
  EXPECT_EQ(DurationOf("5ns"), 5);
  EXPECT_EQ(DurationOf("5us"), 5000);
  EXPECT_EQ(DurationOf("5µs"), 5000);
  EXPECT_EQ(DurationOf("5ms"), 5 * kMs);
  EXPECT_EQ(DurationOf("5s"), 5 * kSecond);
  EXPECT_EQ(DurationOf("2m"), 120 * kSecond);
  EXPECT_EQ(DurationOf("1h"), 3600 * kSecond);
  EXPECT_EQ(DurationOf("1h30m"), 5400 * kSecond);
  EXPECT_EQ(DurationOf("1m30s500ms"), 90 * kSecond + 500 * kMs);
  EXPECT_EQ(DurationOf("1.5s"), 1500 * kMs);
  EXPECT_EQ(DurationOf("0.25ms"), 250'000);
  EXPECT_EQ(DurationOf("1.5h"), 5400 * kSecond);
}

TEST(LexerTest, DurationOverflowIsAnError) {
  const Token token = Tokenize("99999999999h")[0];
  EXPECT_EQ(token.kind, TokenKind::kError);
  EXPECT_THAT(token.text, HasSubstr("duration out of range"));
}

TEST(LexerTest, NumberFollowedByOtherLettersIsNotADuration) {
  EXPECT_THAT(Kinds("10 ms"),
              ElementsAre(TokenKind::kInt, TokenKind::kIdentifier, TokenKind::kEnd));
  EXPECT_THAT(Kinds("1x"), ElementsAre(TokenKind::kInt, TokenKind::kIdentifier, TokenKind::kEnd));
}

TEST(LexerTest, DoubleQuotedStringEscapes) {
  EXPECT_EQ(Only(R"("a\"b\\c\nd\te\r")").text, "a\"b\\c\nd\te\r");
  EXPECT_EQ(Only(R"("\x41\u00e9\U0001F600")").text, "A\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(Only(R"("")").text, "");
}

TEST(LexerTest, BacktickStringsAreRaw) {
  EXPECT_EQ(Only(R"(`a\d+"x"`)").text, R"(a\d+"x")");
  EXPECT_EQ(Only("`two\nlines`").text, "two\nlines");
}

TEST(LexerTest, BadStringsAreErrors) {
  EXPECT_THAT(Tokenize(R"("abc)")[0].text, HasSubstr("unterminated string"));
  EXPECT_THAT(Tokenize("`abc")[0].text, HasSubstr("unterminated string"));
  EXPECT_THAT(Tokenize("\"a\nb\"")[0].text, HasSubstr("unterminated string"));
  const Token bad = Tokenize(R"("ab\qc")")[0];
  EXPECT_EQ(bad.kind, TokenKind::kError);
  EXPECT_THAT(bad.text, HasSubstr("invalid escape"));
  EXPECT_EQ(bad.pos.column, 4u);
  EXPECT_THAT(Tokenize(R"("\uD800")")[0].text, HasSubstr("invalid Unicode"));
}

TEST(LexerTest, PositionsCountLinesAndCharacters) {
  const std::vector<Token> tokens = Tokenize("{ .a = \"µ\"\n  && 5ms }");
  ASSERT_EQ(tokens.size(), 8u);
  EXPECT_EQ(tokens[0].pos.line, 1u);
  EXPECT_EQ(tokens[0].pos.column, 1u);
  EXPECT_EQ(tokens[1].pos.column, 3u);
  EXPECT_EQ(tokens[3].pos.column, 8u);
  EXPECT_EQ(tokens[4].pos.line, 2u);
  EXPECT_EQ(tokens[4].pos.column, 3u);
  EXPECT_EQ(tokens[4].pos.offset, 14u);
  EXPECT_EQ(tokens[5].pos.column, 6u);
  EXPECT_EQ(tokens[6].pos.column, 10u);
}

TEST(LexerTest, UnexpectedCharacterIsAnError) {
  const std::vector<Token> tokens = Tokenize("{ @ }");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[1].kind, TokenKind::kError);
  EXPECT_EQ(tokens[1].text, "unexpected character '@'");
  EXPECT_EQ(tokens[1].pos.column, 3u);
  EXPECT_EQ(Tokenize("&")[0].kind, TokenKind::kError);
}

TEST(LexerTest, DescribeQuotesTheSourceText) {
  const std::vector<Token> tokens = Tokenize("}");
  EXPECT_EQ(Describe(tokens[0]), "\"}\"");
  EXPECT_EQ(Describe(tokens[1]), "end of query");
}

}  // namespace
}  // namespace strand::traceql
