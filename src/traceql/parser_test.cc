#include "traceql/parser.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "traceql/ast.h"

namespace strand::traceql {
namespace {

Query MustParse(std::string_view text) {
  absl::StatusOr<Query> query = Parse(text);
  EXPECT_TRUE(query.ok()) << text << "\n" << query.status();
  return query.ok() ? std::move(*query) : Query{};
}

// The canonical text of `text`, after checking that it parses back to itself.
std::string Canonical(std::string_view text) {
  absl::StatusOr<Query> query = Parse(text);
  if (!query.ok()) return "ERROR: " + std::string(query.status().message());
  const std::string canonical = ToString(*query);
  absl::StatusOr<Query> again = Parse(canonical);
  if (!again.ok()) return "CANONICAL TEXT DOES NOT PARSE: " + std::string(again.status().message());
  EXPECT_EQ(ToString(*again), canonical) << "round trip of " << text;
  return canonical;
}

const FieldExpr& FilterOf(const Query& query);

// Fully parenthesized structure, to check precedence: "((.a || .b) && .c)".
std::string Shape(const FieldExpr& e) {
  switch (e.kind) {
    case FieldExpr::Kind::kBinary:
      return "(" + Shape(*e.lhs) + " " + std::string(OpSymbol(e.op)) + " " + Shape(*e.rhs) + ")";
    case FieldExpr::Kind::kUnary:
      return "(" + std::string(OpSymbol(e.op)) + Shape(*e.lhs) + ")";
    default:
      return ToString(e);
  }
}

std::string Shape(const SpansetExpr& e) {
  static constexpr std::string_view kSymbols[] = {"&&", "||",  ">",   ">>",  "<",   "<<",
                                                  "~",  "&>",  "&>>", "&<",  "&<<", "&~",
                                                  "!>", "!>>", "!<",  "!<<", "!~"};
  if (e.kind != SpansetExpr::Kind::kBinary) return ToString(e);
  return "(" + Shape(*e.lhs) + " " + std::string(kSymbols[static_cast<int>(e.op)]) + " " +
         Shape(*e.rhs) + ")";
}

std::string FieldShape(std::string_view text) {
  absl::StatusOr<Query> query = Parse(text);
  if (!query.ok()) return std::string(query.status().message());
  return Shape(FilterOf(*query));
}

std::string SpansetShape(std::string_view text) {
  absl::StatusOr<Query> query = Parse(text);
  if (!query.ok()) return std::string(query.status().message());
  return Shape(*query->pipeline->stages.at(0).spanset);
}

const FieldExpr& FilterOf(const Query& query) {
  static const FieldExpr kEmpty;
  const SpansetExpr& spanset = *query.pipeline->stages.at(0).spanset;
  return spanset.filter ? *spanset.filter : kEmpty;
}

TEST(ParserTest, EmptyFilterMatchesEverySpan) {
  const Query query = MustParse("{ }");
  ASSERT_EQ(query.pipeline->stages.size(), 1u);
  const Stage& stage = query.pipeline->stages[0];
  EXPECT_EQ(stage.kind, Stage::Kind::kSpanset);
  EXPECT_EQ(stage.spanset->kind, SpansetExpr::Kind::kFilter);
  EXPECT_EQ(stage.spanset->filter, nullptr);
  EXPECT_EQ(Canonical("{}"), "{ }");
}

TEST(ParserTest, AttributeComparisonBuildsABinaryNode) {
  const Query query = MustParse("{ span.http.status_code = 200 }");
  const FieldExpr& e = FilterOf(query);
  EXPECT_EQ(e.kind, FieldExpr::Kind::kBinary);
  EXPECT_EQ(e.op, Op::kEq);
  EXPECT_EQ(e.pos.column, 25u);
  EXPECT_EQ(e.lhs->kind, FieldExpr::Kind::kAttribute);
  EXPECT_EQ(e.lhs->scope, AttributeScope::kSpan);
  EXPECT_EQ(e.lhs->name, "http.status_code");
  EXPECT_EQ(e.lhs->pos.column, 3u);
  EXPECT_EQ(e.rhs->kind, FieldExpr::Kind::kLiteral);
  EXPECT_EQ(e.rhs->literal.type, Value::Type::kInt);
  EXPECT_EQ(e.rhs->literal.i, 200);
}

TEST(ParserTest, EveryFieldOperator) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"{.a=1}", "{ .a = 1 }"},
      {"{.a!=1}", "{ .a != 1 }"},
      {"{.a>1}", "{ .a > 1 }"},
      {"{.a>=1}", "{ .a >= 1 }"},
      {"{.a<1}", "{ .a < 1 }"},
      {"{.a<=1}", "{ .a <= 1 }"},
      {"{.a=~\"x.*\"}", "{ .a =~ \"x.*\" }"},
      {"{.a!~\"x.*\"}", "{ .a !~ \"x.*\" }"},
      {"{.a&&.b}", "{ .a && .b }"},
      {"{.a||.b}", "{ .a || .b }"},
      {"{!.a}", "{ !.a }"},
      {"{.a + 1=2}", "{ .a + 1 = 2 }"},
      {"{.a - 1=2}", "{ .a - 1 = 2 }"},
      {"{.a * 1=2}", "{ .a * 1 = 2 }"},
      {"{.a / 1=2}", "{ .a / 1 = 2 }"},
      {"{.a % 1=2}", "{ .a % 1 = 2 }"},
      {"{.a ^ 1=2}", "{ .a ^ 1 = 2 }"},
      {"{-.a=2}", "{ -.a = 2 }"},
  };
  for (const auto& [text, canonical] : cases) EXPECT_EQ(Canonical(text), canonical) << text;
}

TEST(ParserTest, LiteralsOfEveryType) {
  EXPECT_EQ(Canonical(R"({ .a = "s" || .a = 1 || .a = 1.5 || .a = true || .a = false })"),
            R"({ .a = "s" || .a = 1 || .a = 1.5 || .a = true || .a = false })");
  EXPECT_EQ(Canonical("{ .a = nil }"), "{ .a = nil }");
  EXPECT_EQ(Canonical("{ .a != nil }"), "{ .a != nil }");
  EXPECT_EQ(Canonical("{ status = error }"), "{ status = error }");
  EXPECT_EQ(Canonical("{ status != ok && status != unset }"),
            "{ status != ok && status != unset }");
  for (std::string_view kind :
       {"unspecified", "internal", "server", "client", "producer", "consumer"}) {
    const std::string text = "{ kind = " + std::string(kind) + " }";
    EXPECT_EQ(Canonical(text), text);
  }
  EXPECT_EQ(Canonical("{ .a = 2.0 }"), "{ .a = 2.0 }");
  EXPECT_EQ(Canonical("{ .a = 1e300 }"), "{ .a = 1e+300 }");
  EXPECT_EQ(Canonical("{ .a = 0.1 }"), "{ .a = 0.1 }");
}

TEST(ParserTest, NegativeNumbersAreLiterals) {
  Query query = MustParse("{ .a = -3 }");
  EXPECT_EQ(FilterOf(query).rhs->kind, FieldExpr::Kind::kLiteral);
  EXPECT_EQ(FilterOf(query).rhs->literal.i, -3);
  EXPECT_EQ(Canonical("{ .a = -3 }"), "{ .a = -3 }");
  EXPECT_EQ(Canonical("{ -1.5 < .a }"), "{ -1.5 < .a }");
  EXPECT_EQ(Canonical("{ .a > -1s }"), "{ .a > -1s }");
  EXPECT_EQ(Canonical("{ .a = --3 }"), "{ .a = 3 }");
  EXPECT_EQ(Canonical("{ .a = 2 - -3 }"), "{ .a = 2 - -3 }");
  EXPECT_EQ(Canonical("{ .a = (-3) * 2 }"), "{ .a = (-3) * 2 }");
  EXPECT_EQ(FieldShape("{ .a = -3 * 2 }"), "(.a = (-(3 * 2)))") << "Tempo's unary minus";
  EXPECT_EQ(Canonical("{ .a = 2 ^ -3 }"), "{ .a = 2 ^ -3 }");
  EXPECT_EQ(Canonical("{ .a = -.b ^ 2 }"), "{ .a = -.b ^ 2 }");
}

TEST(ParserTest, AllIntrinsics) {
  const std::vector<std::pair<std::string_view, Intrinsic>> cases = {
      {"name", Intrinsic::kSpanName},
      {"span:name", Intrinsic::kSpanName},
      {"status", Intrinsic::kSpanStatus},
      {"span:status", Intrinsic::kSpanStatus},
      {"statusMessage", Intrinsic::kSpanStatusMessage},
      {"span:statusMessage", Intrinsic::kSpanStatusMessage},
      {"kind", Intrinsic::kSpanKind},
      {"span:kind", Intrinsic::kSpanKind},
      {"duration", Intrinsic::kSpanDuration},
      {"span:duration", Intrinsic::kSpanDuration},
      {"span:id", Intrinsic::kSpanId},
      {"span:parentID", Intrinsic::kSpanParentId},
      {"traceDuration", Intrinsic::kTraceDuration},
      {"trace:duration", Intrinsic::kTraceDuration},
      {"rootName", Intrinsic::kTraceRootName},
      {"trace:rootName", Intrinsic::kTraceRootName},
      {"rootServiceName", Intrinsic::kTraceRootService},
      {"trace:rootService", Intrinsic::kTraceRootService},
      {"trace:id", Intrinsic::kTraceId},
      {"event:name", Intrinsic::kEventName},
      {"event:timeSinceStart", Intrinsic::kEventTimeSinceStart},
      {"link:spanID", Intrinsic::kLinkSpanId},
      {"link:traceID", Intrinsic::kLinkTraceId},
      {"instrumentation:name", Intrinsic::kInstrumentationName},
      {"instrumentation:version", Intrinsic::kInstrumentationVersion},
  };
  for (const auto& [text, intrinsic] : cases) {
    const std::string query = "{ " + std::string(text) + " != nil }";
    const Query parsed = MustParse(query);
    EXPECT_EQ(FilterOf(parsed).lhs->kind, FieldExpr::Kind::kIntrinsic) << text;
    EXPECT_EQ(FilterOf(parsed).lhs->intrinsic, intrinsic) << text;
    Canonical(query);
  }
}

TEST(ParserTest, AttributeScopesAndQuotedNames) {
  EXPECT_EQ(Canonical("{ resource.service.name = \"api\" }"),
            "{ resource.service.name = \"api\" }");
  EXPECT_EQ(Canonical("{ event.exception.type != nil }"), "{ event.exception.type != nil }");
  EXPECT_EQ(Canonical("{ link.x != nil }"), "{ link.x != nil }");
  EXPECT_EQ(Canonical("{ instrumentation.x != nil }"), "{ instrumentation.x != nil }");
  EXPECT_EQ(Canonical("{ .http.url-path != nil }"), "{ .http.url-path != nil }");
  const Query query = MustParse(R"({ span."a b" = 1 })");
  EXPECT_EQ(FilterOf(query).lhs->name, "a b");
  EXPECT_EQ(Canonical(R"({ span."a b" = 1 })"), R"({ span."a b" = 1 })");
  EXPECT_EQ(Canonical(R"({ ."q\"uo\\te" = 1 })"), R"({ ."q\"uo\\te" = 1 })");
}

// As in Tempo, only whitespace and `{ } ( ) = ~ ! < > & | ^ ,` end an attribute name.
TEST(ParserTest, ArithmeticCharactersBelongToAttributeNames) {
  const Query query = MustParse("{ .a+1 = 2 }");
  EXPECT_EQ(FilterOf(query).lhs->name, "a+1");
  EXPECT_EQ(Canonical("{.a-b*c/d%e=2}"), "{ .a-b*c/d%e = 2 }");
  EXPECT_EQ(Canonical("{.a^2=4}"), "{ .a ^ 2 = 4 }");
}

TEST(ParserTest, StringEscapesAndRawStrings) {
  Query query = MustParse(R"({ .a = "x\"y\\z\n" })");
  EXPECT_EQ(FilterOf(query).rhs->literal.s, "x\"y\\z\n");
  EXPECT_EQ(Canonical(R"({ .a = "x\"y\\z\n\t" })"), R"({ .a = "x\"y\\z\n\t" })");
  query = MustParse(R"({ .a =~ `\d+"` })");
  EXPECT_EQ(FilterOf(query).rhs->literal.s, R"(\d+")");
  EXPECT_EQ(Canonical(R"({ .a =~ `\d+"` })"), R"({ .a =~ "\\d+\"" })");
  EXPECT_EQ(Canonical("{ .a = \"\\x01\" }"), "{ .a = \"\\x01\" }");
}

TEST(ParserTest, DurationsNormalizeToTheLargestExactUnit) {
  const Query query = MustParse("{ duration > 1h30m }");
  EXPECT_EQ(FilterOf(query).rhs->literal.type, Value::Type::kDuration);
  EXPECT_EQ(FilterOf(query).rhs->literal.i, int64_t{5400} * 1000'000'000);
  EXPECT_EQ(Canonical("{ duration > 1h30m }"), "{ duration > 90m }");
  EXPECT_EQ(Canonical("{ duration < 1.5s }"), "{ duration < 1500ms }");
  EXPECT_EQ(Canonical("{ duration < 2h }"), "{ duration < 2h }");
  EXPECT_EQ(Canonical("{ duration < 10us }"), "{ duration < 10us }");
  EXPECT_EQ(Canonical("{ duration < 10µs }"), "{ duration < 10us }");
  EXPECT_EQ(Canonical("{ duration < 7ns }"), "{ duration < 7ns }");
  EXPECT_EQ(Canonical("{ duration >= 0s }"), "{ duration >= 0s }");
  EXPECT_EQ(Canonical("{ traceDuration > 3m }"), "{ traceDuration > 3m }");
}

// Tempo's grammar: `&&` and `||` share one level and associate to the left.
TEST(ParserPrecedenceTest, AndAndOrShareALevelLeftToRight) {
  EXPECT_EQ(FieldShape("{ .a || .b && .c }"), "((.a || .b) && .c)");
  EXPECT_EQ(FieldShape("{ .a && .b || .c }"), "((.a && .b) || .c)");
  EXPECT_EQ(FieldShape("{ .a || (.b && .c) }"), "(.a || (.b && .c))");
  EXPECT_EQ(Canonical("{ .a || (.b && .c) }"), "{ .a || (.b && .c) }");
  EXPECT_EQ(Canonical("{ (.a || .b) && .c }"), "{ .a || .b && .c }");
}

TEST(ParserPrecedenceTest, ComparisonsBindTighterThanLogic) {
  EXPECT_EQ(FieldShape("{ .a = 1 && .b != 2 || .c =~ \"x\" }"),
            "(((.a = 1) && (.b != 2)) || (.c =~ \"x\"))");
  EXPECT_EQ(FieldShape("{ .a = (.b = .c) }"), "(.a = (.b = .c))");
  EXPECT_EQ(Canonical("{ .a = (.b = .c) }"), "{ .a = (.b = .c) }");
  EXPECT_EQ(FieldShape("{ .a = .b = .c }"), "((.a = .b) = .c)");
}

TEST(ParserPrecedenceTest, ArithmeticFollowsMathematics) {
  EXPECT_EQ(FieldShape("{ 1 + 2 * 3 > 4 }"), "((1 + (2 * 3)) > 4)");
  EXPECT_EQ(FieldShape("{ .a - .b - .c = 0 }"), "(((.a - .b) - .c) = 0)");
  EXPECT_EQ(FieldShape("{ .a - (.b - .c) = 0 }"), "((.a - (.b - .c)) = 0)");
  EXPECT_EQ(FieldShape("{ .a / .b * .c = 0 }"), "(((.a / .b) * .c) = 0)");
  EXPECT_EQ(FieldShape("{ 2 ^ 3 ^ 2 = .x }"), "((2 ^ (3 ^ 2)) = .x)");
  EXPECT_EQ(FieldShape("{ (2 ^ 3) ^ 2 = .x }"), "(((2 ^ 3) ^ 2) = .x)");
  EXPECT_EQ(FieldShape("{ 2 * 3 ^ 2 = .x }"), "((2 * (3 ^ 2)) = .x)");
  EXPECT_EQ(FieldShape("{ (1 + 2) * 3 > 4 }"), "(((1 + 2) * 3) > 4)");
  EXPECT_EQ(FieldShape("{ .a % 2 + 1 = 0 }"), "(((.a % 2) + 1) = 0)");
  for (std::string_view text :
       {"{ .a - (.b - .c) = 0 }", "{ (2 ^ 3) ^ 2 = .x }", "{ (1 + 2) * 3 > 4 }",
        "{ 2 ^ 3 ^ 2 = .x }", "{ .a / (.b * .c) = 0 }"}) {
    EXPECT_EQ(Canonical(text), text);
  }
}

// Unary operators bind tighter than + - and comparisons, looser than * / % ^ (as in Tempo).
TEST(ParserPrecedenceTest, UnaryOperators) {
  EXPECT_EQ(FieldShape("{ !.a && .b }"), "((!.a) && .b)");
  EXPECT_EQ(FieldShape("{ !(.a && .b) }"), "(!(.a && .b))");
  EXPECT_EQ(FieldShape("{ !.a = .b }"), "((!.a) = .b)");
  EXPECT_EQ(FieldShape("{ -.a * 2 = 1 }"), "((-(.a * 2)) = 1)");
  EXPECT_EQ(FieldShape("{ (-.a) * 2 = 1 }"), "(((-.a) * 2) = 1)");
  EXPECT_EQ(FieldShape("{ -.a + 2 = 1 }"), "(((-.a) + 2) = 1)");
  EXPECT_EQ(FieldShape("{ 2 ^ -.a * 3 = 1 }"), "((2 ^ (-(.a * 3))) = 1)");
  EXPECT_EQ(FieldShape("{ !!.a }"), "(!(!.a))");
  for (std::string_view text : {"{ !(.a && .b) }", "{ -.a * 2 = 1 }", "{ (-.a) * 2 = 1 }",
                                "{ -.a + 2 = 1 }", "{ 2 ^ (-.a) * 3 = 1 }", "{ !!.a }",
                                "{ !.a = .b }", "{ !(.a = .b) }", "{ -(.a + 1) = 2 }"}) {
    EXPECT_EQ(Canonical(text), text);
  }
  EXPECT_EQ(Canonical("{ 2 ^ -.a * 3 = 1 }"), "{ 2 ^ -.a * 3 = 1 }");
}

TEST(ParserPrecedenceTest, StructuralOperatorsBindTighterThanLogic) {
  EXPECT_EQ(SpansetShape("{.a} && {.b} > {.c}"), "({ .a } && ({ .b } > { .c }))");
  EXPECT_EQ(SpansetShape("{.a} > {.b} && {.c}"), "(({ .a } > { .b }) && { .c })");
  EXPECT_EQ(SpansetShape("{.a} > {.b} >> {.c}"), "(({ .a } > { .b }) >> { .c })");
  EXPECT_EQ(SpansetShape("{.a} || {.b} && {.c}"), "(({ .a } || { .b }) && { .c })");
  EXPECT_EQ(SpansetShape("({.a} && {.b}) > {.c}"), "(({ .a } && { .b }) > { .c })");
  EXPECT_EQ(SpansetShape("{.a} > ({.b} > {.c})"), "({ .a } > ({ .b } > { .c }))");
  for (std::string_view text : {"({ .a } && { .b }) > { .c }", "{ .a } && { .b } > { .c }",
                                "{ .a } > ({ .b } > { .c })", "{ .a } || ({ .b } && { .c })"}) {
    EXPECT_EQ(Canonical(text), text);
  }
  const Query query = MustParse("{.a} && {.b} > {.c}");
  const SpansetExpr& root = *query.pipeline->stages[0].spanset;
  EXPECT_EQ(root.op, SpansetOp::kAnd);
  EXPECT_EQ(root.rhs->op, SpansetOp::kChild);
  EXPECT_EQ(root.pos.column, 6u);
}

TEST(ParserTest, EverySpansetOperator) {
  const std::vector<std::pair<std::string_view, SpansetOp>> cases = {
      {"&&", SpansetOp::kAnd},
      {"||", SpansetOp::kOr},
      {">", SpansetOp::kChild},
      {">>", SpansetOp::kDescendant},
      {"<", SpansetOp::kParent},
      {"<<", SpansetOp::kAncestor},
      {"~", SpansetOp::kSibling},
      {"&>", SpansetOp::kUnionChild},
      {"&>>", SpansetOp::kUnionDescendant},
      {"&<", SpansetOp::kUnionParent},
      {"&<<", SpansetOp::kUnionAncestor},
      {"&~", SpansetOp::kUnionSibling},
      {"!>", SpansetOp::kNotChild},
      {"!>>", SpansetOp::kNotDescendant},
      {"!<", SpansetOp::kNotParent},
      {"!<<", SpansetOp::kNotAncestor},
      {"!~", SpansetOp::kNotSibling},
  };
  for (const auto& [symbol, op] : cases) {
    const std::string text = "{ .a } " + std::string(symbol) + " { .b }";
    const Query query = MustParse(text);
    const SpansetExpr& root = *query.pipeline->stages[0].spanset;
    EXPECT_EQ(root.kind, SpansetExpr::Kind::kBinary) << symbol;
    EXPECT_EQ(root.op, op) << symbol;
    EXPECT_EQ(Canonical(text), text);
    EXPECT_TRUE(Parse("{.a}" + std::string(symbol) + "{.b}").ok()) << symbol;
  }
}

TEST(ParserPipelineTest, EveryStage) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"{ .a } | count() > 2", "{ .a } | count() > 2"},
      {"{ } | avg(duration) > 1s", "{ } | avg(duration) > 1s"},
      {"{ } | min(.x) < max(.y) * 2", "{ } | min(.x) < max(.y) * 2"},
      {"{ } | sum(span.bytes) >= 1000", "{ } | sum(span.bytes) >= 1000"},
      {"{ } | count() + 1 != 3 - 1", "{ } | count() + 1 != 3 - 1"},
      {"{ } | (count() + 1) * 2 = 4", "{ } | (count() + 1) * 2 = 4"},
      {"{ } | count() > -1", "{ } | count() > -1"},
      {"{ } | avg(duration * 2) <= 2 ^ 2 ^ 3", "{ } | avg(duration * 2) <= 2 ^ 2 ^ 3"},
      {"{ } | (2 ^ 2) ^ 3 < count()", "{ } | (2 ^ 2) ^ 3 < count()"},
      {"{ } | count() - (1 - 2) = 1", "{ } | count() - (1 - 2) = 1"},
      {"{ } | -1 * count() < -2", "{ } | -1 * count() < -2"},
      {"{ } | 2 - -1 ^ 2 > 0", "{ } | 2 - -1 ^ 2 > 0"},
      {"{ } | by(resource.service.name)", "{ } | by(resource.service.name)"},
      {"{ } | by(.a = 1)", "{ } | by(.a = 1)"},
      {"{ } | select(span.a, name, span:id)", "{ } | select(span.a, name, span:id)"},
      {"{ } | coalesce()", "{ } | coalesce()"},
      {"{ .a } | { .b } && { .c } | count() = 1", "{ .a } | { .b } && { .c } | count() = 1"},
      {"{ } | by(.a) | count() > 1 | coalesce() | select(.b)",
       "{ } | by(.a) | count() > 1 | coalesce() | select(.b)"},
  };
  for (const auto& [text, canonical] : cases) EXPECT_EQ(Canonical(text), canonical) << text;
  const Query query = MustParse("{ } | avg(duration) > 1s");
  const Stage& stage = query.pipeline->stages[1];
  EXPECT_EQ(stage.kind, Stage::Kind::kScalarFilter);
  EXPECT_EQ(stage.pos.column, 7u);
  EXPECT_EQ(stage.scalar_filter.op, Op::kGt);
  EXPECT_EQ(stage.scalar_filter.lhs->kind, ScalarExpr::Kind::kAggregate);
  EXPECT_EQ(stage.scalar_filter.lhs->fn, AggregateFn::kAvg);
  EXPECT_EQ(stage.scalar_filter.lhs->field->intrinsic, Intrinsic::kSpanDuration);
  EXPECT_EQ(stage.scalar_filter.rhs->literal.type, Value::Type::kDuration);
}

TEST(ParserPipelineTest, PipelineStartingWithAStageGetsAnImplicitEmptyFilter) {
  const Query query = MustParse("count() > 1");
  ASSERT_EQ(query.pipeline->stages.size(), 2u);
  EXPECT_EQ(query.pipeline->stages[0].kind, Stage::Kind::kSpanset);
  EXPECT_EQ(query.pipeline->stages[0].spanset->filter, nullptr);
  EXPECT_EQ(Canonical("count() > 1"), "{ } | count() > 1");
  EXPECT_EQ(Canonical("by(name)"), "{ } | by(name)");
  EXPECT_EQ(Canonical("select(.a)"), "{ } | select(.a)");
}

TEST(ParserPipelineTest, ParenthesizedPipelineIsASpansetOperand) {
  const Query query = MustParse("({ .a } | count() > 1) && { .b }");
  const SpansetExpr& root = *query.pipeline->stages[0].spanset;
  ASSERT_EQ(root.kind, SpansetExpr::Kind::kBinary);
  ASSERT_EQ(root.lhs->kind, SpansetExpr::Kind::kPipeline);
  EXPECT_EQ(root.lhs->pipeline->stages.size(), 2u);
  EXPECT_EQ(root.rhs->kind, SpansetExpr::Kind::kFilter);
  EXPECT_EQ(Canonical("({ .a } | count() > 1) && { .b }"), "({ .a } | count() > 1) && { .b }");
  EXPECT_EQ(Canonical("{ .b } > ({ .a } | by(.x) | count() > 1) | count() = 2"),
            "{ .b } > ({ .a } | by(.x) | count() > 1) | count() = 2");
  EXPECT_EQ(Canonical("(({ .a }))"), "{ .a }");
}

TEST(ParserMetricsTest, EveryFunction) {
  const std::vector<std::string_view> cases = {
      "{ } | rate()",
      "{ } | count_over_time()",
      "{ } | sum_over_time(span.bytes)",
      "{ } | min_over_time(duration)",
      "{ } | max_over_time(duration)",
      "{ } | avg_over_time(duration)",
      "{ } | quantile_over_time(duration, 0.9)",
      "{ } | quantile_over_time(duration, 0.5, 0.9, 0.99, 1)",
      "{ } | histogram_over_time(duration)",
      "{ } | compare({ status = error })",
      "{ } | compare({ status = error }, 10)",
      "{ } | compare({ status = error }, 10, 1700000000000000000, 1700000060000000000)",
      "{ .a } | rate() by (resource.service.name, name)",
      "{ } | rate() | topk(5)",
      "{ } | quantile_over_time(duration, 0.9) by (span.http.route) | bottomk(3)",
      "{ } | by(.a) | count() > 1 | rate()",
  };
  for (std::string_view text : cases) EXPECT_EQ(Canonical(text), text);
  const Query query = MustParse("{ } | quantile_over_time(duration, 0.5, 0.9) by (name) | topk(2)");
  ASSERT_TRUE(query.metrics.has_value());
  const MetricsStage& m = *query.metrics;
  EXPECT_EQ(m.function, "quantile_over_time");
  EXPECT_EQ(m.pos.column, 7u);
  ASSERT_EQ(m.args.size(), 1u);
  EXPECT_EQ(m.args[0]->intrinsic, Intrinsic::kSpanDuration);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[1].f, 0.9);
  ASSERT_EQ(m.by.size(), 1u);
  EXPECT_EQ(m.second_stage, "topk");
  EXPECT_EQ(m.second_stage_k, 2);
  const Query compare = MustParse("{ } | compare({ .a = 1 }, 5)");
  ASSERT_NE(compare.metrics->compare_filter, nullptr);
  EXPECT_EQ(compare.metrics->params.at(0).i, 5);
}

TEST(ParserTest, Hints) {
  EXPECT_EQ(Canonical("{ } with(sample=true)"), "{ } with(sample=true)");
  EXPECT_EQ(Canonical("{ } | rate() with (sample = 0.1, most_recent = true, n = -2, d = 5s)"),
            "{ } | rate() with(sample=0.1, most_recent=true, n=-2, d=5s)");
  const Query query = MustParse("{ } with(most_recent=true, name=\"x\")");
  ASSERT_EQ(query.hints.size(), 2u);
  EXPECT_EQ(query.hints[0].name, "most_recent");
  EXPECT_TRUE(query.hints[0].value.b);
  EXPECT_EQ(query.hints[1].value.s, "x");
}

TEST(ParserTest, WhitespaceAndNewlinesAreInsignificant) {
  EXPECT_EQ(Canonical("\n{\n\t.a\n=\n1\n}\n|\ncount()\n>\n1\n"), "{ .a = 1 } | count() > 1");
}

TEST(ParserTest, QueryAtTheLengthLimitParses) {
  std::string text = "{ }";
  text.resize(kMaxQueryBytes, ' ');
  EXPECT_TRUE(Parse(text).ok());
}

TEST(ParserTest, QueryOverTheLengthLimitIsRefused) {
  std::string text = "{ }";
  text.resize(kMaxQueryBytes + 1, ' ');
  const absl::Status status = Parse(text).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), ::testing::HasSubstr("query too long"));
}

}  // namespace
}  // namespace strand::traceql
