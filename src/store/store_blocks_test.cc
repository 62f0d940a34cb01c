// Store tests of the block side: cutting live traces into blocks, truncating the WAL
// behind them, reading live traces and blocks together, compaction, retention and
// quarantine. Background threads are off; the tests drive each step with a fake clock.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/synchronization/notification.h"
#include "block/block_testdata.h"
#include "common/fault_injection_env.h"
#include "otlp/proto_decoder.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace strand::store {
namespace {

using block::testdata::CanonicalSpans;
using block::testdata::RealisticOptions;
using block::testdata::RealisticRequest;

using testing::kSecond;

class StoreBlocksTest : public testing::StoreFixture {};

TEST_F(StoreBlocksTest, IdleTracesAreCutAndStillFound) {
  Open();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_TRUE(store_->blocks()->empty()) << "nothing is idle yet";
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(BlockSpans(), 2000u);
  EXPECT_EQ(store_->live().NumSpans(), 0u);
  EXPECT_EQ(store_->live_bytes(), 0u);
  ExpectAllFound("t", Expected(0, 4));
}

TEST_F(StoreBlocksTest, BigCutIsWrittenAsSeveralBlocks) {
  options_.max_cut_spans = 600;
  Open();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  // Whole requests go together: two per block.
  ASSERT_EQ(store_->blocks()->size(), 2u);
  for (const auto& b : *store_->blocks()) EXPECT_EQ(b->meta.span_count, 1000u);
  EXPECT_EQ(store_->live().NumSpans(), 0u);
  ExpectAllFound("t", Expected(0, 4));
}

TEST_F(StoreBlocksTest, TraceSplitBetweenBlocksAndLiveComesBackWhole) {
  Open();
  // The same requests again under another generator seed would be other traces; instead
  // send each trace's spans in two halves, far apart in time.
  block::testdata::TraceSet set;
  ASSERT_TRUE(set.AddRequest(Request(0)).ok());
  auto whole = Expected(0, 1);
  std::vector<otlp::SpanRef> first, second;
  for (const auto& [id, spans] : set.traces) {
    for (size_t i = 0; i < spans.size(); ++i) (i % 2 ? second : first).push_back(spans[i]);
  }
  ASSERT_TRUE(IngestBytes("t", otlp::EncodeResourceSpans(first)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  ASSERT_TRUE(IngestBytes("t", otlp::EncodeResourceSpans(second)).ok());
  ExpectAllFound("t", whole);  // half in a block, half live
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 2u);
  ExpectAllFound("t", whole);  // split across two blocks
}

TEST_F(StoreBlocksTest, HeadOverItsSizeIsCutBeforeIdle) {
  options_.max_head_bytes = 100 << 10;
  Open();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  const uint64_t before = store_->live_bytes();
  ASSERT_GT(before, options_.max_head_bytes);
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_LE(store_->live_bytes(), options_.max_head_bytes / 2);
  EXPECT_GT(BlockSpans(), 0u);
  ExpectAllFound("t", Expected(0, 6));
}

TEST_F(StoreBlocksTest, LongActiveTraceIsCutAtTheLiveLimit) {
  options_.max_trace_live_nanos = 30 * kSecond;
  Open();
  // One trace that keeps getting spans every 5 s: never idle.
  block::testdata::TraceSet set;
  ASSERT_TRUE(set.AddRequest(Request(0)).ok());
  const auto& spans = set.traces.begin()->second;
  for (size_t i = 0; i < spans.size(); ++i) {
    ASSERT_TRUE(IngestBytes("t", otlp::EncodeResourceSpans({&spans[i], 1})).ok());
    clock_.Advance(std::chrono::seconds(5));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
  EXPECT_GE(store_->blocks()->size(), 1u);
  auto found = store_->FindTraceById("t", set.traces.begin()->first);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(CanonicalSpans(found->spans), CanonicalSpans(spans));
}

TEST_F(StoreBlocksTest, WalIsTruncatedOnceItsSpansAreInBlocks) {
  Open();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  const size_t segments = WalSegments();
  ASSERT_GT(segments, 2u);  // 64 KiB segments
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());  // rotates, cuts everything, truncates
  EXPECT_EQ(WalSegments(), 1u);
  // A restart replays nothing: every span is in a block.
  store_.reset();
  Open();
  EXPECT_EQ(store_->live().NumSpans(), 0u);
  ExpectAllFound("t", Expected(0, 10));
}

TEST_F(StoreBlocksTest, LiveSpansKeepTheirWalSegments) {
  Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_TRUE(store_->CutBlocks().ok());  // nothing is idle; starts a new WAL epoch
  EXPECT_TRUE(store_->blocks()->empty());
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_TRUE(store_->CutBlocks().ok());  // the first five are idle, the rest are not
  EXPECT_EQ(BlockSpans(), 2500u);
  // A crash now: the restart must still have the live half, from the WAL.
  env_->SetFilesystemActive(false);
  store_.reset();
  ASSERT_TRUE(env_->DropUnsyncedData().ok());
  env_->SetFilesystemActive(true);
  Open();
  // Only the segments of the live half were kept and replayed.
  EXPECT_EQ(store_->live().NumSpans(), 2500u);
  ExpectAllFound("t", Expected(0, 10));
}

TEST_F(StoreBlocksTest, ShutdownCutsEverythingAndEmptiesTheWal) {
  Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  ASSERT_TRUE(IngestBytes("other", Request(3)).ok());
  store_->Close();
  store_.reset();
  Open();
  EXPECT_EQ(store_->live().NumSpans(), 0u);
  EXPECT_EQ(store_->blocks()->size(), 2u);  // one per tenant
  ExpectAllFound("t", Expected(0, 3));
  ExpectAllFound("other", Expected(3, 1));
  auto none = store_->FindTraceById("t", Expected(3, 1).begin()->first);
  EXPECT_TRUE(absl::IsNotFound(none.status()));
}

TEST_F(StoreBlocksTest, FailedCutKeepsTracesLiveAndTheWal) {
  Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  clock_.Advance(std::chrono::seconds(11));
  env_->FailNext(FaultInjectionEnv::Op::kSync, 1000);
  EXPECT_FALSE(store_->CutBlocks().ok());
  env_->FailNext(FaultInjectionEnv::Op::kSync, 0);
  EXPECT_EQ(store_->live().NumSpans(), 1500u);
  EXPECT_TRUE(store_->blocks()->empty());
  ExpectAllFound("t", Expected(0, 3));
  ASSERT_TRUE(store_->CutBlocks().ok());  // the next try succeeds
  EXPECT_EQ(BlockSpans(), 1500u);
  ExpectAllFound("t", Expected(0, 3));
}

TEST_F(StoreBlocksTest, RetriedRequestIsStoredOnce) {
  Open();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());  // a client retry
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_EQ(BlockSpans(), 500u);
  ExpectAllFound("t", Expected(0, 1));
}

TEST_F(StoreBlocksTest, CompactionMergesBlocksAndDropsDuplicates) {
  options_.compaction_min_inputs = 3;
  Open();
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(IngestBytes("t", Request(round)).ok());
    if (round == 3) {
      ASSERT_TRUE(IngestBytes("t", Request(0)).ok());  // a late duplicate
    }
    clock_.Advance(std::chrono::seconds(11));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
  ASSERT_EQ(store_->blocks()->size(), 4u);
  EXPECT_EQ(BlockSpans(), 2500u);
  auto merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(*merged);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(BlockSpans(), 2000u);
  EXPECT_EQ(store_->blocks()->front()->meta.compaction_level, 1u);
  ExpectAllFound("t", Expected(0, 4));
  auto again = store_->Compact();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "one block is left: nothing to merge";
  // The inputs' directories are gone; a restart loads just the output.
  store_.reset();
  Open();
  EXPECT_EQ(store_->blocks()->size(), 1u);
  ExpectAllFound("t", Expected(0, 4));
}

TEST_F(StoreBlocksTest, CompactionInterruptedBeforeCleanupKeepsOneCopy) {
  options_.compaction_min_inputs = 2;
  Open();
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(IngestBytes("t", Request(round)).ok());
    clock_.Advance(std::chrono::seconds(11));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
  ASSERT_EQ(store_->blocks()->size(), 2u);
  // Keep copies of the inputs, as if the process died after publishing the output but
  // before deleting them.
  const std::string saved = dir_ + "/saved";
  std::filesystem::copy(dir_ + "/blocks/t", saved, std::filesystem::copy_options::recursive);
  ASSERT_TRUE(*store_->Compact());
  store_.reset();
  std::filesystem::copy(
      saved, dir_ + "/blocks/t",
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::skip_existing);
  Open();
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(store_->blocks()->front()->meta.compacted_from.size(), 2u);
  EXPECT_EQ(BlockSpans(), 1000u);
  size_t dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/blocks/t")) {
    dirs += e.is_directory();
  }
  EXPECT_EQ(dirs, 1u) << "the inputs' files are gone";
  ExpectAllFound("t", Expected(0, 2));
}

TEST_F(StoreBlocksTest, RetentionDeletesOldBlocksOnly) {
  options_.retention_nanos = 3600 * kSecond;
  RealisticOptions later = gen_;
  later.base_time_unix_nano += 2 * 3600 * kSecond;
  later.seed = 7;
  Open();
  // Spans ingested two hours apart (each when it happened), in one block each.
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  clock_.Set(static_cast<int64_t>(later.base_time_unix_nano));
  ASSERT_TRUE(IngestBytes("t", RealisticRequest(later, 0).SerializeAsString()).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 2u);
  auto deleted = store_->ApplyRetention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(store_->FindTraceById("t", Expected(0, 1).begin()->first).status()));
  const auto recent = RealisticRequest(later, 0).resource_spans(0).scope_spans(0).spans(0);
  otlp::TraceId id;
  std::memcpy(id.data(), recent.trace_id().data(), 16);
  EXPECT_TRUE(store_->FindTraceById("t", id).ok());
}

TEST_F(StoreBlocksTest, DamagedBlockIsQuarantinedAtStart) {
  Open();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  ASSERT_TRUE(IngestBytes("t", Request(1)).ok());
  store_->Close();
  store_.reset();
  // Flip a byte in the middle of the data file.
  std::string data_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/blocks")) {
    if (e.path().filename() == "data") data_path = e.path();
  }
  ASSERT_FALSE(data_path.empty());
  FlipByte(data_path, static_cast<std::streamoff>(std::filesystem::file_size(data_path) - 20));
  Open();  // the server starts
  EXPECT_TRUE(store_->blocks()->empty());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/quarantine/t"));
  EXPECT_TRUE(absl::IsNotFound(store_->FindTraceById("t", Expected(0, 1).begin()->first).status()));
  ASSERT_TRUE(IngestBytes("t", Request(2)).ok());  // and keeps serving
  ExpectAllFound("t", Expected(2, 1));
}

TEST_F(StoreBlocksTest, BlockFoundDamagedWhileServingIsQuarantined) {
  Open();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const std::string block_dir = store_->blocks()->front()->dir;
  // Damage the first row group on disk while the store has the block open.
  FlipByte(block_dir + "/data", 100);
  size_t failed_or_missing = 0;
  for (const auto& [id, spans] : Expected(0, 1)) {
    failed_or_missing += !store_->FindTraceById("t", id).ok();
  }
  EXPECT_GT(failed_or_missing, 0u) << "the damaged row group's traces cannot be served";
  EXPECT_TRUE(store_->blocks()->empty()) << "the damaged block left the block list";
  EXPECT_FALSE(std::filesystem::exists(block_dir));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/quarantine/t"));
  // The store keeps taking and serving spans.
  ASSERT_TRUE(IngestBytes("t", Request(1)).ok());
  ExpectAllFound("t", Expected(1, 1));
}

TEST_F(StoreBlocksTest, DamagedCompactionInputIsQuarantinedAndTheRestMerged) {
  options_.compaction_min_inputs = 2;
  Open();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(IngestBytes("t", Request(round)).ok());
    clock_.Advance(std::chrono::seconds(11));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
  ASSERT_EQ(store_->blocks()->size(), 3u);
  const std::string damaged = store_->blocks()->front()->dir;
  FlipByte(damaged + "/data", 100);
  auto failed = store_->Compact();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->blocks()->size(), 2u) << "the damaged input left the block list";
  EXPECT_FALSE(std::filesystem::exists(damaged));
  auto merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(*merged);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(BlockSpans(), 1000u);
}

// A data file without meta.json that does not verify is kept, not deleted: it may be a
// block whose meta.json was lost (docs/format/block.md, "Recovery at start").
TEST_F(StoreBlocksTest, HalfWrittenBlockWithoutMetaIsQuarantinedAtStart) {
  Open();
  store_.reset();
  const std::string unfinished = dir_ + "/blocks/t/0123456789abcdef0123456789abcdef";
  std::filesystem::create_directories(unfinished);
  std::ofstream(unfinished + "/data") << "half a block";
  Open();
  EXPECT_FALSE(std::filesystem::exists(unfinished));
  EXPECT_TRUE(store_->blocks()->empty());
  EXPECT_TRUE(
      std::filesystem::exists(dir_ + "/quarantine/t/0123456789abcdef0123456789abcdef/data"));
}

}  // namespace
}  // namespace strand::store
