// The value codec and string pages: round trips, and refusal of damaged bytes.
#include "block/value_codec.h"

#include <cmath>
#include <string>

#include "block/string_column_builder.h"
#include "block/string_column_reader.h"
#include "gtest/gtest.h"
#include "otlp/batch_testutil.h"

namespace strand::block {
namespace {

using otlp::AnyValue;
using otlp::KeyValue;
using otlp::Range;
using otlp::SpanBatch;
using otlp::ValueType;

AnyValue Str(std::string_view s) {
  AnyValue v;
  v.type = ValueType::kString;
  v.str = s;
  return v;
}

// Builds attributes {a: [1, "x", [true, 2.5]], b: {c: bytes, d: <none>}, e: NaN}.
SpanBatch NestedBatch() {
  SpanBatch b;
  AnyValue inner;
  inner.type = ValueType::kArray;
  AnyValue t;
  t.type = ValueType::kBool;
  t.bool_value = true;
  AnyValue d;
  d.type = ValueType::kDouble;
  d.double_value = 2.5;
  b.array_values = {t, d};
  inner.children = Range{0, 2};
  AnyValue one;
  one.type = ValueType::kInt;
  one.int_value = -1;
  b.array_values.push_back(one);
  b.array_values.push_back(Str("x"));
  b.array_values.push_back(inner);
  AnyValue array;
  array.type = ValueType::kArray;
  array.children = Range{2, 5};
  AnyValue bytes;
  bytes.type = ValueType::kBytes;
  bytes.str = std::string_view("\0\1", 2);
  b.kvlist_values = {{"c", bytes}, {"d", AnyValue()}};
  AnyValue list;
  list.type = ValueType::kKvList;
  list.children = Range{0, 2};
  AnyValue nan;
  nan.type = ValueType::kDouble;
  nan.double_value = NAN;
  b.attributes = {{"a", array}, {"b", list}, {"e", nan}};
  return b;
}

TEST(ValueCodecTest, NestedValuesRoundTrip) {
  const SpanBatch in = NestedBatch();
  std::string bytes;
  EncodeKeyValueList(in, in.attributes, Range{0, 3}, &bytes);
  SpanBatch out;
  ByteReader reader(bytes);
  Range range;
  ASSERT_TRUE(DecodeKeyValueList(reader, 1, false, out, &range));
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(otlp::testutil::BatchInvariantViolation(out), "");
  std::string want, got;
  otlp::testutil::batch_testutil_internal::AppendKeyValues(want, in, in.attributes, Range{0, 3}, 0);
  otlp::testutil::batch_testutil_internal::AppendKeyValues(got, out, out.attributes, range, 0);
  EXPECT_EQ(got, want);
}

TEST(ValueCodecTest, EveryTruncationIsRefused) {
  const SpanBatch in = NestedBatch();
  std::string bytes;
  EncodeKeyValueList(in, in.attributes, Range{0, 3}, &bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    SpanBatch out;
    ByteReader reader(std::string_view(bytes).substr(0, n));
    Range range;
    EXPECT_FALSE(DecodeKeyValueList(reader, 1, false, out, &range)) << n;
  }
}

TEST(ValueCodecTest, NestingDeeperThanTheLimitIsRefused) {
  // kMaxValueDepth + 1 nested single-element arrays.
  std::string deep;
  for (int i = 0; i < kMaxValueDepth; ++i) deep += std::string("\x01\x05", 2);  // n=1, array
  deep += std::string("\x00", 1);  // innermost: empty array
  SpanBatch out;
  AnyValue v;
  ByteReader ok_reader(std::string_view(deep).substr(2));  // one level less: fits
  EXPECT_TRUE(DecodeValueBody(ok_reader, ValueType::kArray, 1, out, &v));
  ByteReader reader(deep);
  EXPECT_FALSE(DecodeValueBody(reader, ValueType::kArray, 1, out, &v));
}

TEST(ValueCodecTest, BadTypeAndHugeCountsAreRefused) {
  SpanBatch out;
  AnyValue v;
  const std::string bad_type_bytes("\x01\x09", 2);
  const std::string huge_bytes("\xff\xff\xff\xff\x0f", 5);
  const std::string bad_bool_bytes("\x02", 1);
  ByteReader bad_type(bad_type_bytes);
  EXPECT_FALSE(DecodeValueBody(bad_type, ValueType::kArray, 1, out, &v));
  ByteReader huge(huge_bytes);
  EXPECT_FALSE(DecodeValueBody(huge, ValueType::kArray, 1, out, &v));
  ByteReader bad_bool(bad_bool_bytes);
  EXPECT_FALSE(DecodeValueBody(bad_bool, ValueType::kBool, 1, out, &v));
}

std::vector<std::string> ReadAll(std::string_view page, uint64_t count) {
  StringColumnReader reader;
  std::vector<std::string> out;
  if (!reader.Init(page, count)) return {"<init failed>"};
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t index;
    out.emplace_back(reader.Next(&index));
  }
  if (!reader.Exhausted()) out.push_back("<not exhausted>");
  return out;
}

TEST(StringColumnTest, RepeatedValuesUseASortedDictionary) {
  StringColumnBuilder b;
  std::vector<std::string> values;
  for (int i = 0; i < 100; ++i) values.push_back(i % 3 == 0 ? "GET" : (i % 3 == 1 ? "POST" : ""));
  for (const std::string& v : values) b.Add(v);
  std::string page;
  b.Encode(&page);
  EXPECT_EQ(page[0], 1);  // dictionary
  StringColumnReader reader;
  ASSERT_TRUE(reader.Init(page, values.size()));
  EXPECT_EQ(reader.dictionary(), (std::vector<std::string_view>{"", "GET", "POST"}));
  EXPECT_EQ(ReadAll(page, values.size()), values);
}

TEST(StringColumnTest, DistinctValuesArePlainAndSkippable) {
  StringColumnBuilder b;
  std::vector<std::string> values;
  for (int i = 0; i < 50; ++i) values.push_back("value-" + std::to_string(i * 7919));
  for (const std::string& v : values) b.Add(v);
  std::string page;
  b.Encode(&page);
  EXPECT_EQ(page[0], 0);  // plain
  EXPECT_EQ(ReadAll(page, values.size()), values);
  StringColumnReader reader;
  ASSERT_TRUE(reader.Init(page, values.size()));
  reader.Skip(20);
  uint32_t index;
  EXPECT_EQ(reader.Next(&index), values[20]);
  EXPECT_EQ(index, StringColumnReader::kNoIndex);
}

TEST(StringColumnTest, DamagedPagesAreRefused) {
  StringColumnBuilder b;
  for (int i = 0; i < 10; ++i) b.Add(i % 2 ? "a" : "b");
  std::string page;
  b.Encode(&page);
  // An index past the dictionary.
  std::string bad = page;
  bad.back() = 5;
  EXPECT_NE(ReadAll(bad, 10), ReadAll(page, 10));
  // More values claimed than stored.
  StringColumnReader reader;
  EXPECT_FALSE(reader.Init(page, 1000));
  // Unknown mode.
  bad = page;
  bad[0] = 7;
  EXPECT_FALSE(reader.Init(bad, 10));
  for (size_t n = 0; n < page.size(); ++n) {
    std::vector<std::string> got = ReadAll(std::string_view(page).substr(0, n), 10);
    EXPECT_NE(got, ReadAll(page, 10)) << n;
  }
}

}  // namespace
}  // namespace strand::block
