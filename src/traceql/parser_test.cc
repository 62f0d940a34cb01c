#include "traceql/parser.h"

#include "gtest/gtest.h"

namespace strand::traceql {
namespace {

TEST(ParserTest, Smoke) { EXPECT_TRUE(Parse("{ .a = 1 }").ok()); }

}  // namespace
}  // namespace strand::traceql
