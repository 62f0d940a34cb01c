#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <limits>

namespace strand {
namespace {

TEST(JsonWriterTest, NestedDocumentIsPrettyPrinted) {
  JsonWriter w;
  w.BeginObject().Field("name", "a\"b").Field("count", uint64_t{3}).Field("delta", int64_t{-2});
  w.Key("list").BeginArray().Uint(1).Bool(true).Null().EndArray();
  w.Key("empty").BeginObject().EndObject();
  w.Key("none").BeginArray().EndArray();
  w.EndObject();
  EXPECT_EQ(std::move(w).Finish(),
            "{\n"
            "  \"name\": \"a\\\"b\",\n"
            "  \"count\": 3,\n"
            "  \"delta\": -2,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    true,\n"
            "    null\n"
            "  ],\n"
            "  \"empty\": {},\n"
            "  \"none\": []\n"
            "}\n");
}

TEST(JsonWriterTest, DoublesAreShortestAndNonFiniteIsNull) {
  JsonWriter w;
  w.BeginArray().Double(30.5).Double(0.1).Double(std::numeric_limits<double>::infinity());
  w.Double(std::numeric_limits<double>::quiet_NaN()).EndArray();
  EXPECT_EQ(std::move(w).Finish(), "[\n  30.5,\n  0.1,\n  null,\n  null\n]\n");
}

TEST(JsonWriterTest, CompactHasNoWhitespace) {
  JsonWriter w(/*pretty=*/false);
  w.BeginObject().Field("a", int64_t{1}).Key("b").BeginArray().String("x").Bool(true).EndArray();
  w.Key("c").BeginObject().EndObject().EndObject();
  EXPECT_EQ(std::move(w).Finish(), "{\"a\":1,\"b\":[\"x\",true],\"c\":{}}\n");
}

}  // namespace
}  // namespace strand
