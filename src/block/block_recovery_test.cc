// RebuildBlockMeta: a block whose meta.json is gone is rebuilt from its data file only
// when every checksum of the data file holds and the file is the block its directory
// names.
#include "block/block_recovery.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>

#include "block/block_format.h"
#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "gtest/gtest.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::block {
namespace {

using testdata::CanonicalSpans;
using testdata::TraceSet;
using testing::FlipByte;
using testing::TempDir;
using testing::WriteTraceSet;

class BlockRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(set_.AddRequest(testdata::RealisticRequest({}, 0)).ok());
    options_.spans_per_row_group = 150;  // several row groups
  }
  // Writes the block and removes its meta.json, as a crash before publication would.
  BlockMeta WriteWithoutMeta() {
    absl::StatusOr<BlockMeta> meta = WriteTraceSet(env_, dir_.path(), set_, options_, "acme");
    EXPECT_TRUE(meta.ok()) << meta.status();
    if (!meta.ok()) return {};
    EXPECT_TRUE(env_.RemoveFile(JoinPath(BlockDir(*meta), kMetaFileName)).ok());
    return *meta;
  }
  std::string BlockDir(const BlockMeta& meta) {
    return JoinPath(dir_.path(), meta.block_id.ToHex());
  }

  Env& env_ = *Env::Default();
  TempDir dir_;
  TraceSet set_;
  BlockWriterOptions options_;
};

TEST_F(BlockRecoveryTest, RebuiltMetaIsTheWrittenOneInEverythingTheDataFileHolds) {
  options_.compaction_level = 2;
  options_.compacted_from = {BlockId::Random()};
  const BlockMeta written = WriteWithoutMeta();

  absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, BlockDir(written), "acme", 42);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  BlockMeta expected = written;
  expected.created_unix_nano = 42;
  expected.compaction_level = 0;    // unknown: a recovered block is compacted again
  expected.compacted_from.clear();  // unknown
  expected.column_sizes = rebuilt->column_sizes;
  EXPECT_EQ(*rebuilt, expected);

  uint64_t sum = 0;
  for (const auto& [name, size] : rebuilt->column_sizes) sum += size;
  EXPECT_EQ(sum, written.data_size) << "the parts cover the data file";
  for (const auto& [name, size] : written.column_sizes) {
    if (name == "header" || name == "tables" || name == "stats" || name == "bloom" ||
        name == "footer" || name == "row_group.directory") {
      auto it = std::find_if(rebuilt->column_sizes.begin(), rebuilt->column_sizes.end(),
                             [&name = name](const auto& p) { return p.first == name; });
      ASSERT_NE(it, rebuilt->column_sizes.end()) << name;
      EXPECT_EQ(it->second, size) << name;
    }
  }
}

// The writer's time range (where the store placed the spans) is in the footer, so a
// rebuilt meta.json has it too, not the spans' own times.
// A crash between writing meta.json.tmp and renaming it: the compaction fields, which the
// data file does not hold, come from that file when it names this data file.
TEST_F(BlockRecoveryTest, CompactionInputsComeFromAWholeWriterMetaOfTheSameData) {
  options_.compaction_level = 2;
  options_.compacted_from = {BlockId::Random(), BlockId::Random()};
  absl::StatusOr<BlockMeta> written = WriteTraceSet(env_, dir_.path(), set_, options_, "acme");
  ASSERT_TRUE(written.ok()) << written.status();
  const std::string meta_path = JoinPath(BlockDir(*written), kMetaFileName);
  const std::string tmp_path = meta_path + ".tmp";
  ASSERT_TRUE(env_.RenameFile(meta_path, tmp_path).ok());
  absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, BlockDir(*written), "acme", 42);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->compaction_level, 2u);
  EXPECT_EQ(rebuilt->compacted_from, options_.compacted_from);

  // A torn meta.json.tmp, or one of another data file, is ignored.
  absl::StatusOr<std::string> json = env_.ReadFileToString(tmp_path);
  ASSERT_TRUE(json.ok());
  BlockMeta other = *written;
  other.footer_checksum ^= 1;
  for (const std::string& bad : {json->substr(0, json->size() / 2), other.ToJson()}) {
    ASSERT_TRUE(WriteFileAtomically(env_, tmp_path, bad).ok());
    rebuilt = RebuildBlockMeta(env_, BlockDir(*written), "acme", 42);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_EQ(rebuilt->compaction_level, 0u);
    EXPECT_TRUE(rebuilt->compacted_from.empty());
  }
}

TEST_F(BlockRecoveryTest, RebuiltMetaKeepsTheWrittenTimeRange) {
  options_.time_range = TimeRange{5000, 6000, 5100, 6100};
  const BlockMeta written = WriteWithoutMeta();
  EXPECT_EQ(written.min_start_unix_nano, 5000u);
  EXPECT_EQ(written.max_start_unix_nano, 6000u);
  EXPECT_EQ(written.min_end_unix_nano, 5100u);
  EXPECT_EQ(written.max_end_unix_nano, 6100u);
  absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, BlockDir(written), "acme", 42);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->min_start_unix_nano, 5000u);
  EXPECT_EQ(rebuilt->max_start_unix_nano, 6000u);
  EXPECT_EQ(rebuilt->min_end_unix_nano, 5100u);
  EXPECT_EQ(rebuilt->max_end_unix_nano, 6100u);
  // The spans and the row groups' statistics keep the spans' own times.
  absl::StatusOr<std::unique_ptr<BlockReader>> reader =
      BlockReader::OpenFile(*env_.NewRandomAccessFile(JoinPath(BlockDir(written), kDataFileName)));
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<BlockStats> stats = (*reader)->ReadStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_FALSE(stats->row_groups.empty());
  EXPECT_GT(stats->row_groups[0].min_start, 1'000'000'000'000'000'000u);
  for (const auto& [id, spans] : set_.traces) {
    absl::StatusOr<std::optional<FoundTrace>> found = (*reader)->FindTrace(id);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ(CanonicalSpans((*found)->spans), CanonicalSpans(spans));
  }
}

TEST_F(BlockRecoveryTest, RebuiltMetaPublishesABlockThatHoldsEveryTrace) {
  const BlockMeta written = WriteWithoutMeta();
  absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, BlockDir(written), "acme", 42);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  ASSERT_TRUE(
      WriteFileAtomically(env_, JoinPath(BlockDir(written), kMetaFileName), rebuilt->ToJson())
          .ok());
  absl::StatusOr<std::unique_ptr<BlockReader>> reader = BlockReader::Open(env_, BlockDir(written));
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (const auto& [id, spans] : set_.traces) {
    absl::StatusOr<std::optional<FoundTrace>> found = (*reader)->FindTrace(id);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ(CanonicalSpans((*found)->spans), CanonicalSpans(spans));
  }
}

TEST_F(BlockRecoveryTest, DamagedDataFileIsNotRebuilt) {
  options_.compress = false;  // damage inside a page must be caught by its checksum alone
  const BlockMeta written = WriteWithoutMeta();
  const std::string data = JoinPath(BlockDir(written), kDataFileName);
  for (uint64_t pos :
       {uint64_t{20}, uint64_t{100}, written.data_size / 2, written.data_size - 30}) {
    SCOPED_TRACE("byte " + std::to_string(pos));
    FlipByte(data, pos);
    absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, BlockDir(written), "acme", 42);
    EXPECT_TRUE(absl::IsDataLoss(rebuilt.status())) << rebuilt.status();
    FlipByte(data, pos);  // undone
  }
  ASSERT_TRUE(RebuildBlockMeta(env_, BlockDir(written), "acme", 42).ok());
}

TEST_F(BlockRecoveryTest, TruncatedDataFileIsNotRebuilt) {
  const BlockMeta written = WriteWithoutMeta();
  const std::string data = JoinPath(BlockDir(written), kDataFileName);
  for (uint64_t size : {written.data_size - 1, written.data_size / 2, uint64_t{10}}) {
    ASSERT_TRUE(env_.TruncateFile(data, size).ok());
    absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, BlockDir(written), "acme", 42);
    EXPECT_TRUE(absl::IsDataLoss(rebuilt.status())) << size << ": " << rebuilt.status();
  }
}

TEST_F(BlockRecoveryTest, DataFileOfAnotherBlockIsNotRebuilt) {
  const BlockMeta written = WriteWithoutMeta();
  const std::string other = JoinPath(dir_.path(), BlockId::Random().ToHex());
  ASSERT_TRUE(env_.RenameFile(BlockDir(written), other).ok());
  absl::StatusOr<BlockMeta> rebuilt = RebuildBlockMeta(env_, other, "acme", 42);
  EXPECT_TRUE(absl::IsDataLoss(rebuilt.status())) << rebuilt.status();
}

}  // namespace
}  // namespace strand::block
