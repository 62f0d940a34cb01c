#include "blockgen/block_generator.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "gtest/gtest.h"

namespace strand::blockgen {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kEnd = 1'750'000'000 * kSecond;

BlockGenOptions SmallOptions(const std::string& dir) {
  BlockGenOptions o;
  o.data_dir = dir;
  o.tenant = "single-tenant";
  o.pool.generator.traces_per_request = 10;  // 100 spans per request
  o.pool.size = 4;
  o.pool.id_salt = 7;
  o.spans = 2500;            // 25 requests
  o.spans_per_block = 1000;  // 10 requests per block: blocks of 1000, 1000, 500 spans
  o.end_unix_nano = kEnd;
  o.time_span_nanos = 60 * kSecond;
  o.writer.zstd_level = 3;
  o.writer.spans_per_row_group = 300;
  o.id_sample = 40;
  return o;
}

std::vector<block::BlockMeta> WriteAll(BlockGenerator& gen) {
  std::vector<block::BlockMeta> metas;
  for (;;) {
    auto progress = gen.WriteNextBlock();
    EXPECT_TRUE(progress.ok()) << progress.status();
    if (!progress.ok() || !progress->has_value()) break;
    EXPECT_GT((*progress)->disk_bytes, (*progress)->meta.data_size);
    metas.push_back((*progress)->meta);
  }
  return metas;
}

TEST(BlockGeneratorTest, WritesTheLoadGeneratorsRequestsAsConsecutiveBlocks) {
  block::testing::TempDir dir;
  const BlockGenOptions options = SmallOptions(dir.path());
  auto gen = BlockGenerator::Create(*Env::Default(), options);
  ASSERT_TRUE(gen.ok()) << gen.status();
  EXPECT_EQ((*gen)->total_blocks(), 3u);
  const std::vector<block::BlockMeta> metas = WriteAll(**gen);
  ASSERT_EQ(metas.size(), 3u);
  EXPECT_EQ(metas[0].span_count, 1000u);
  EXPECT_EQ(metas[1].span_count, 1000u);
  EXPECT_EQ(metas[2].span_count, 500u);
  EXPECT_EQ((*gen)->traces_written(), 250u);
  for (size_t i = 0; i < metas.size(); ++i) {
    EXPECT_EQ(metas[i].tenant, "single-tenant");
    EXPECT_EQ(metas[i].compaction_level, options.writer.compaction_level);
    // The data spreads over the minute before kEnd, older blocks first.
    EXPECT_GE(metas[i].min_start_unix_nano, kEnd - 62 * kSecond);
    EXPECT_LE(metas[i].max_start_unix_nano, kEnd);
    if (i > 0) {
      EXPECT_GT(metas[i].min_start_unix_nano, metas[i - 1].min_start_unix_nano);
    }
  }
  EXPECT_GE(metas[2].max_start_unix_nano, kEnd - 2 * kSecond);

  // Every trace strand-loadgen would send as request s, trace t is in block s / 10, whole.
  auto pool = loadgen::RequestPool::Build(options.pool);
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::string tenant_dir = dir.path() + "/blocks/single-tenant/";
  for (uint64_t seq : {0, 9, 10, 17, 24}) {
    auto reader =
        block::BlockReader::Open(*Env::Default(), tenant_dir + metas[seq / 10].block_id.ToHex());
    ASSERT_TRUE(reader.ok()) << reader.status();
    for (size_t t = 0; t < 10; t += 3) {
      const loadgen::SentTrace sent = (*pool)->Sent(seq, t);
      otlp::TraceId id;
      std::copy(sent.trace_id.begin(), sent.trace_id.end(), id.begin());
      auto found = (*reader)->FindTrace(id);
      ASSERT_TRUE(found.ok()) << found.status();
      ASSERT_TRUE(found->has_value()) << "request " << seq << " trace " << t;
      std::set<std::string> want, got;
      for (const auto& s : sent.span_ids) want.emplace(s.begin(), s.end());
      for (const auto& s : (*found)->spans.spans) got.emplace(s.span_id.begin(), s.span_id.end());
      EXPECT_EQ(got, want);
    }
    EXPECT_TRUE((*reader)->Verify().ok());
  }
}

TEST(BlockGeneratorTest, SamplesDistinctStoredTraceIds) {
  block::testing::TempDir dir;
  auto gen = BlockGenerator::Create(*Env::Default(), SmallOptions(dir.path()));
  ASSERT_TRUE(gen.ok()) << gen.status();
  const std::vector<block::BlockMeta> metas = WriteAll(**gen);
  const auto& ids = (*gen)->sampled_ids();
  ASSERT_EQ(ids.size(), 40u);
  EXPECT_EQ(std::set<otlp::TraceId>(ids.begin(), ids.end()).size(), ids.size());
  // Each sampled trace is in exactly one block, with all its spans.
  std::vector<std::unique_ptr<block::BlockReader>> readers;
  for (const auto& m : metas) {
    auto r = block::BlockReader::Open(*Env::Default(),
                                      dir.path() + "/blocks/single-tenant/" + m.block_id.ToHex());
    ASSERT_TRUE(r.ok()) << r.status();
    readers.push_back(*std::move(r));
  }
  std::set<size_t> blocks_hit;
  for (const auto& id : ids) {
    int found_in = 0;
    for (size_t b = 0; b < readers.size(); ++b) {
      auto found = readers[b]->FindTrace(id);
      ASSERT_TRUE(found.ok()) << found.status();
      if (!found->has_value()) continue;
      ++found_in;
      blocks_hit.insert(b);
      EXPECT_EQ((*found)->spans.spans.size(), 10u);
    }
    EXPECT_EQ(found_in, 1);
  }
  EXPECT_EQ(blocks_hit.size(), readers.size());  // the sample is not just the first block
}

TEST(BlockGeneratorTest, RefusesBadOptions) {
  block::testing::TempDir dir;
  BlockGenOptions o = SmallOptions(dir.path());
  o.spans = 0;
  EXPECT_FALSE(BlockGenerator::Create(*Env::Default(), o).ok());
  o = SmallOptions(dir.path());
  o.tenant = "..";
  EXPECT_FALSE(BlockGenerator::Create(*Env::Default(), o).ok());
  o = SmallOptions("");
  EXPECT_FALSE(BlockGenerator::Create(*Env::Default(), o).ok());
}

}  // namespace
}  // namespace strand::blockgen
