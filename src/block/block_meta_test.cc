#include "block/block_meta.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace strand::block {
namespace {

using ::testing::HasSubstr;

BlockMeta Sample() {
  BlockMeta m;
  m.block_id = *BlockId::FromHex("0123456789ABCDEF0123456789abcdef");
  m.tenant = "team \"a\"";
  m.min_start_unix_nano = 1'700'000'000'000'000'000ULL;
  m.max_start_unix_nano = UINT64_MAX;
  m.trace_count = 5;
  m.span_count = 50;
  m.row_group_count = 1;
  m.data_size = 1234;
  m.header_checksum = 0xdeadbeef;
  m.footer_checksum = 7;
  m.created_unix_nano = -5;
  m.column_sizes = {{"span.attr[x]:string", 10}, {"span.id", 400}};
  return m;
}

TEST(BlockMetaTest, JsonRoundTrips) {
  const BlockMeta m = Sample();
  const std::string json = m.ToJson();
  EXPECT_THAT(json, HasSubstr("\"block_id\": \"0123456789abcdef0123456789abcdef\""));
  absl::StatusOr<BlockMeta> back = BlockMeta::FromJson(json, "meta.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(BlockMetaTest, CompactedFromRoundTripsAndIsValidated) {
  BlockMeta m = Sample();
  m.compaction_level = 2;
  m.compacted_from = {*BlockId::FromHex("00000000000000000000000000000001"),
                      *BlockId::FromHex("ffffffffffffffffffffffffffffffff")};
  const std::string json = m.ToJson();
  absl::StatusOr<BlockMeta> back = BlockMeta::FromJson(json, "meta.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  std::string bad = json;
  bad.replace(bad.find("ffffffff"), 8, "nothex!!");
  EXPECT_EQ(BlockMeta::FromJson(bad, "m.json").status().code(), absl::StatusCode::kDataLoss);
  // Cut blocks carry no such field.
  EXPECT_THAT(Sample().ToJson(), ::testing::Not(HasSubstr("compacted_from")));
}

TEST(BlockMetaTest, NewerVersionIsFailedPrecondition) {
  std::string json = Sample().ToJson();
  json.replace(json.find("\"format_version\": 1"), 19, "\"format_version\": 2");
  absl::StatusOr<BlockMeta> back = BlockMeta::FromJson(json, "x/meta.json");
  EXPECT_EQ(back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(back.status().message(), HasSubstr("x/meta.json"));
}

TEST(BlockMetaTest, DamagedJsonIsDataLoss) {
  const std::string json = Sample().ToJson();
  for (const std::string& bad :
       {json.substr(0, json.size() / 2), std::string("[]"), std::string("{\"format\":\"x\"}"),
        std::string(json).replace(json.find("\"span_count\""), 12, "\"spam_count\"")}) {
    absl::StatusOr<BlockMeta> back = BlockMeta::FromJson(bad, "m.json");
    EXPECT_EQ(back.status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

TEST(BlockIdTest, HexRoundTripsAndRejectsJunk) {
  const BlockId a = BlockId::Random();
  const BlockId b = BlockId::Random();
  EXPECT_NE(a, b);
  EXPECT_EQ(BlockId::FromHex(a.ToHex()), a);
  EXPECT_EQ(a.ToHex().size(), 32u);
  EXPECT_FALSE(BlockId::FromHex("xyz").has_value());
  EXPECT_FALSE(BlockId::FromHex(std::string(32, 'g')).has_value());
}

}  // namespace
}  // namespace strand::block
