// Store tests of recovery at start: damaged WAL segments and block directories are kept
// (quarantined or recovered), counted and reported, never deleted (docs/format/wal.md and
// docs/format/block.md, the recovery sections).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "block/block_format.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "wal/wal_format.h"

namespace strand::store {
namespace {

namespace fs = std::filesystem;

class StoreRecoveryTest : public testing::StoreFixture {
 protected:
  std::string WalDir() { return dir_ + "/wal"; }
  std::string WalQuarantine() { return dir_ + "/quarantine/wal"; }
  // With one record per segment (a segment limit of 1 byte), the segments holding
  // requests 0, 1, ... in order. Segments with no record (only a header) are left out.
  std::vector<std::string> SegmentsWithRecords() {
    std::vector<std::string> out;
    auto seqs = ListWalSegments(*env_, WalDir());
    EXPECT_TRUE(seqs.ok()) << seqs.status();
    for (uint64_t seq : seqs.value_or(std::vector<uint64_t>{})) {
      const std::string path = WalSegmentPath(WalDir(), seq);
      if (fs::file_size(path) > kWalSegmentHeaderSize) out.push_back(path);
    }
    return out;
  }
  // Ingests requests [0, n), each into its own WAL segment, then cuts the power.
  void IngestOnePerSegmentAndCrash(int n) {
    options_.wal_segment_bytes = 1;
    Open();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
    Crash();
    ASSERT_EQ(SegmentsWithRecords().size(), static_cast<size_t>(n));
  }
};

TEST_F(StoreRecoveryTest, NonNewestWalSegmentCutShortIsQuarantinedCountedAndTheRestReplayed) {
  IngestOnePerSegmentAndCrash(6);
  const std::string damaged = SegmentsWithRecords()[3];
  fs::resize_file(damaged, 20);

  Open();
  const std::string kept = WalQuarantine() + "/" + fs::path(damaged).filename().string();
  EXPECT_FALSE(fs::exists(damaged));
  ASSERT_TRUE(fs::exists(kept));
  EXPECT_EQ(fs::file_size(kept), 20u);
  EXPECT_EQ(CounterValue("strand_wal_segments_quarantined_total"), 1u);
  ExpectAllFound("t", Expected(0, 3));
  ExpectAllFound("t", Expected(4, 2));
  ExpectNoneFound(Expected(3, 1));
}

TEST_F(StoreRecoveryTest, QuarantinedWalSegmentsDoNotStopTheWalTruncation) {
  IngestOnePerSegmentAndCrash(6);
  const std::vector<std::string> segments = SegmentsWithRecords();
  fs::resize_file(segments[1], 20);                     // moved: nothing replayed from it
  std::ofstream(segments[3], std::ios::app) << "torn";  // copied: its record was replayed

  Open();
  EXPECT_EQ(CounterValue("strand_wal_segments_quarantined_total"), 2u);
  EXPECT_TRUE(fs::exists(segments[3])) << "still the durable copy of a replayed record";
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_EQ(WalSegments(), 1u) << "truncated behind the blocks";
  std::vector<std::string> kept;
  for (const auto& e : fs::directory_iterator(WalQuarantine())) {
    kept.push_back(e.path().filename().string());
  }
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(kept, (std::vector<std::string>{fs::path(segments[1]).filename().string(),
                                            fs::path(segments[3]).filename().string()}));
  // A restart finds a clean log and every span that was not damaged, in blocks.
  store_.reset();
  Open();
  EXPECT_EQ(CounterValue("strand_wal_segments_quarantined_total"), 2u);
  ExpectAllFound("t", Expected(0, 1));
  ExpectAllFound("t", Expected(2, 4));
}

TEST_F(StoreRecoveryTest, TornTailOfTheNewestWalSegmentIsTruncatedAndKept) {
  IngestOnePerSegmentAndCrash(3);
  const std::string newest = SegmentsWithRecords().back();
  const uintmax_t size = fs::file_size(newest);
  std::ofstream(newest, std::ios::app) << "a half-written record";

  Open();
  EXPECT_EQ(fs::file_size(newest), size);
  const std::string kept = WalQuarantine() + "/" + fs::path(newest).filename().string() + ".tail-" +
                           std::to_string(size);
  ASSERT_TRUE(fs::exists(kept));
  EXPECT_EQ(fs::file_size(kept), std::string("a half-written record").size());
  EXPECT_EQ(CounterValue("strand_wal_segments_quarantined_total"), 0u) << "not data loss";
  ExpectAllFound("t", Expected(0, 3));
}

class StoreBlockRecoveryTest : public testing::StoreFixture {
 protected:
  // Ingests requests [first, first + n) and cuts them into one block; returns its dir.
  std::string CutBlock(int first, int n) {
    for (int i = first; i < first + n; ++i) EXPECT_TRUE(IngestBytes("t", Request(i)).ok());
    clock_.Advance(std::chrono::seconds(11));
    EXPECT_TRUE(store_->CutBlocks().ok());
    return store_->blocks()->empty() ? "" : store_->blocks()->back()->dir;
  }
  std::string Quarantined(const std::string& block_dir) {
    return dir_ + "/quarantine/t/" + fs::path(block_dir).filename().string();
  }
};

TEST_F(StoreBlockRecoveryTest, BlockWithoutMetaButIntactDataIsRecovered) {
  Open();
  const std::string block = CutBlock(0, 4);
  const block::BlockMeta written = store_->blocks()->front()->meta;
  store_.reset();  // shutdown: the WAL is empty, the block holds every span
  ASSERT_TRUE(fs::remove(block + "/meta.json"));

  Open();
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(CounterValue("strand_blocks_recovered_total"), 1u);
  EXPECT_EQ(store_->blocks()->front()->meta.block_id, written.block_id);
  EXPECT_EQ(store_->blocks()->front()->meta.span_count, written.span_count);
  EXPECT_TRUE(fs::exists(block + "/meta.json")) << "published again";
  ExpectAllFound("t", Expected(0, 4));
  // And it stays: the next start loads it as any other block.
  store_.reset();
  Open();
  EXPECT_EQ(CounterValue("strand_blocks_recovered_total"), 1u);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  ExpectAllFound("t", Expected(0, 4));
}

// A compaction whose output lost the rename of meta.json.tmp (a crash just before it) and
// whose inputs are all still there: the recovered output names its inputs again, so they
// are removed instead of being served and compacted a second time.
TEST_F(StoreBlockRecoveryTest, RecoveredCompactionOutputRemovesItsInputs) {
  options_.compaction_min_inputs = 2;
  Open();
  CutBlock(0, 1);
  CutBlock(1, 1);
  ASSERT_EQ(store_->blocks()->size(), 2u);
  const std::string saved = dir_ + "/saved";
  fs::copy(dir_ + "/blocks/t", saved, fs::copy_options::recursive);
  SettleWindows();
  ASSERT_TRUE(*store_->Compact());
  const std::string output = store_->blocks()->front()->dir;
  store_.reset();
  fs::copy(saved, dir_ + "/blocks/t",
           fs::copy_options::recursive | fs::copy_options::skip_existing);
  fs::rename(output + "/meta.json", output + "/meta.json.tmp");

  Open();
  EXPECT_EQ(CounterValue("strand_blocks_recovered_total"), 1u);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(store_->blocks()->front()->dir, output);
  EXPECT_EQ(store_->blocks()->front()->meta.compacted_from.size(), 2u);
  EXPECT_EQ(store_->blocks()->front()->meta.compaction_level, 1u);
  EXPECT_EQ(BlockSpans(), 1000u);
  ExpectAllFound("t", Expected(0, 2));
}

TEST_F(StoreBlockRecoveryTest, BlockWithoutMetaAndDamagedDataIsQuarantined) {
  Open();
  const std::string block = CutBlock(0, 2);
  store_.reset();
  ASSERT_TRUE(fs::remove(block + "/meta.json"));
  FlipByte(block + "/data", static_cast<std::streamoff>(fs::file_size(block + "/data") / 2));
  const uintmax_t size = fs::file_size(block + "/data");

  Open();
  EXPECT_TRUE(store_->blocks()->empty());
  EXPECT_FALSE(fs::exists(block));
  ASSERT_TRUE(fs::exists(Quarantined(block) + "/data"));
  EXPECT_EQ(fs::file_size(Quarantined(block) + "/data"), size) << "kept whole";
  EXPECT_EQ(CounterValue("strand_blocks_quarantined_total"), 1u);
  EXPECT_EQ(CounterValue("strand_blocks_recovered_total"), 0u);
}

TEST_F(StoreBlockRecoveryTest, BlockDirectoryWithNothingInItIsRemoved) {
  Open();
  store_.reset();
  const std::string empty = dir_ + "/blocks/t/0123456789abcdef0123456789abcdef";
  const std::string empty_data = dir_ + "/blocks/t/00000000000000000000000000000001";
  fs::create_directories(empty);
  fs::create_directories(empty_data);
  std::ofstream(empty_data + "/data").flush();
  Open();
  EXPECT_FALSE(fs::exists(empty));
  EXPECT_FALSE(fs::exists(empty_data));
  EXPECT_FALSE(fs::exists(dir_ + "/quarantine/t"));
}

TEST_F(StoreBlockRecoveryTest, UnpublishedDirectoryWithUnknownFilesIsQuarantinedNotRemoved) {
  Open();
  store_.reset();
  const std::string odd = dir_ + "/blocks/t/0123456789abcdef0123456789abcdef";
  fs::create_directories(odd);
  std::ofstream(odd + "/notes.txt") << "an operator's notes";
  Open();
  EXPECT_FALSE(fs::exists(odd));
  EXPECT_TRUE(fs::exists(Quarantined(odd) + "/notes.txt"));
}

// Retention deletes a block and the process dies half-way through the deletion: the
// block must not come back at the next start. (Removing its files one by one could leave
// a directory without meta.json but with intact data: one that Load() recovers.)
TEST_F(StoreBlockRecoveryTest, DeletionInterruptedAfterRenameDoesNotResurrectTheBlock) {
  options_.retention_nanos = 3600 * testing::kSecond;
  Open();
  const std::string block = CutBlock(0, 2);
  clock_.Advance(std::chrono::hours(3));
  env_->FailNext(FaultInjectionEnv::Op::kRemove, 1000);  // dies before removing a file
  EXPECT_FALSE(store_->ApplyRetention().ok());
  Crash();
  env_->FailNext(FaultInjectionEnv::Op::kRemove, 0);

  Open();
  EXPECT_TRUE(store_->blocks()->empty());
  ExpectNoneFound(Expected(0, 2));
  EXPECT_FALSE(fs::exists(block));
  EXPECT_FALSE(fs::exists(block + ".deleting")) << "the deletion was finished";
  EXPECT_EQ(CounterValue("strand_blocks_recovered_total"), 0u);
}

TEST_F(StoreBlockRecoveryTest, QuarantineNeverReplacesAnEarlierCopy) {
  Open();
  const std::string block = CutBlock(0, 1);
  store_.reset();
  fs::create_directories(Quarantined(block));
  std::ofstream(Quarantined(block) + "/data") << "quarantined earlier";
  FlipByte(block + "/data", static_cast<std::streamoff>(fs::file_size(block + "/data") - 20));

  Open();
  EXPECT_TRUE(store_->blocks()->empty());
  std::ifstream earlier(Quarantined(block) + "/data");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(earlier), {}), "quarantined earlier");
  EXPECT_TRUE(fs::exists(Quarantined(block) + ".1/meta.json"));
}

}  // namespace
}  // namespace strand::store
