// Store tests of the block side: cutting live traces into blocks, truncating the WAL
// behind them, reading live traces and blocks together, compaction, retention and
// damage. Background threads are off (but in the test of the background threads
// themselves); the tests drive each step with a fake clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/synchronization/notification.h"
#include "common/fault_injection_env.h"
#include "otlp/proto_decoder.h"
#include "store/store.h"
#include "store/store_test_util.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::store {
namespace {

using testdata::CanonicalSpans;
using testdata::GeneratorOptions;
using testdata::RealisticRequest;

using testing::kSecond;

class StoreBlocksTest : public testing::StoreFixture {
 protected:
  // strand_block_damage_total{part}.
  uint64_t DamageCount(const char* part) {
    return metrics_.AddCounter("strand_block_damage_total", "", {"part"})->With({part})->Value();
  }
  // Request(round) ingested, idle long enough, and cut: one more block of 500 spans.
  void IngestAndCut(int round) {
    ASSERT_TRUE(IngestBytes("t", Request(round)).ok());
    clock_.Advance(std::chrono::seconds(11));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
};

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

// The background cutter (fill_blocks) leaves a chunk smaller than a block live for up to
// the idle period, so that its blocks come out full; the spans stay readable meanwhile.
TEST_F(StoreBlocksTest, BackgroundCutWaitsToFillABlock) {
  options_.max_cut_spans = 1000;
  Open();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks(/*all=*/false, /*fill_blocks=*/true).ok());
  EXPECT_TRUE(store_->blocks()->empty()) << "500 spans wait for more";
  ExpectAllFound("t", Expected(0, 1));
  ASSERT_TRUE(IngestBytes("t", Request(1)).ok());
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(store_->CutBlocks(false, true).ok());
  EXPECT_TRUE(store_->blocks()->empty()) << "request 1 is not idle yet";
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_TRUE(store_->CutBlocks(false, true).ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(BlockSpans(), 1000u) << "one full block";
  EXPECT_EQ(store_->live().NumSpans(), 0u);
  // A partial chunk is cut once it has waited the idle period (10 s).
  ASSERT_TRUE(IngestBytes("t", Request(2)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks(false, true).ok());
  EXPECT_EQ(store_->blocks()->size(), 1u);
  clock_.Advance(std::chrono::seconds(9));
  ASSERT_TRUE(store_->CutBlocks(false, true).ok());
  EXPECT_EQ(store_->blocks()->size(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->CutBlocks(false, true).ok());
  ASSERT_EQ(store_->blocks()->size(), 2u);
  EXPECT_EQ(BlockSpans(), 1500u);
  ExpectAllFound("t", Expected(0, 3));
  // A direct cut (tests, tools) cuts everything due at once.
  ASSERT_TRUE(IngestBytes("t", Request(3)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_EQ(store_->blocks()->size(), 3u);
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
  testdata::TraceSet set;
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
  testdata::TraceSet set;
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
  SettleWindows();
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

// Each span is compacted about once: cut blocks wait until together they make a final
// block (max_block_spans / 2), and what is left of a window merges once the window is
// settled.
TEST_F(StoreBlocksTest, CompactionWaitsUntilTheMergeMakesAFinalBlock) {
  options_.compaction_min_inputs = 2;
  options_.compaction_max_inputs = 8;
  options_.compaction_max_block_spans = 3000;  // final from 1,500 spans: three cut blocks
  Open();
  IngestAndCut(0);
  IngestAndCut(1);
  auto merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_FALSE(*merged) << "1,000 spans make no final block and the window is open";
  IngestAndCut(2);
  merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(*merged);
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(store_->blocks()->front()->meta.span_count, 1500u);
  IngestAndCut(3);
  IngestAndCut(4);
  merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_FALSE(*merged) << "the final block stays; two cut blocks wait";
  SettleWindows();
  merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(*merged) << "the settled window's last blocks merge";
  ASSERT_EQ(store_->blocks()->size(), 2u);
  EXPECT_EQ(BlockSpans(), 2500u);
  for (const auto& b : *store_->blocks()) EXPECT_EQ(b->meta.compaction_level, 1u);
  ExpectAllFound("t", Expected(0, 5));
}

TEST_F(StoreBlocksTest, CompactionMergesAsSoonAsMaxInputsWait) {
  options_.compaction_min_inputs = 2;
  options_.compaction_max_inputs = 3;
  Open();
  for (int round = 0; round < 3; ++round) {
    IngestAndCut(round);
    auto merged = store_->Compact();
    ASSERT_TRUE(merged.ok()) << merged.status();
    EXPECT_EQ(*merged, round == 2) << "round " << round;
  }
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(BlockSpans(), 1500u);
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
  SettleWindows();
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
  GeneratorOptions later = gen_;
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

// A row group that fails its checksums costs only its own traces: the others are served
// whole, the damaged one's answer says its data is unavailable (not "not found"), and the
// block stays listed, before and after a restart.
TEST_F(StoreBlocksTest, DamagedRowGroupAnswersDataUnavailableAndTheRestIsServed) {
  options_.cut_spans_per_row_group = 100;  // 500 spans: 5 row groups
  Open();
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const BlockHandlePtr block = store_->blocks()->front();
  ASSERT_GE(block->reader->num_row_groups(), 3u);
  const block::RowGroupInfo rg = block->reader->footer().row_groups[1];
  FlipByte(block->dir + "/data", static_cast<std::streamoff>(rg.offset + rg.size / 2));
  const std::string unavailable =
      "data unavailable: block " + block->meta.block_id.ToHex() + " row group 1 is damaged";
  auto check = [&] {
    size_t lost = 0, served = 0;
    for (const auto& [id, spans] : Expected(0, 1)) {
      auto found = store_->FindTraceById("t", id);
      if (id < rg.first_trace || rg.last_trace < id) {
        ASSERT_TRUE(found.ok()) << found.status();
        EXPECT_EQ(testdata::CanonicalSpans(found->spans), spans);
        EXPECT_EQ(found->partial, "");
        ++served;
      } else if (found.ok()) {
        // A trace that continues into an intact neighbour: what is there, marked partial.
        EXPECT_THAT(found->partial, ::testing::HasSubstr(unavailable));
      } else {
        EXPECT_EQ(found.status().code(), absl::StatusCode::kDataLoss) << found.status();
        EXPECT_THAT(std::string(found.status().message()), ::testing::HasSubstr(unavailable));
        ++lost;
      }
    }
    EXPECT_GT(lost, 0u);
    EXPECT_GT(served, lost);
  };
  check();
  EXPECT_EQ(store_->blocks()->size(), 1u) << "the block stays listed";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/quarantine/t"));
  EXPECT_EQ(DamageCount("row_group"), 1u) << "counted once, however often it is met";
  EXPECT_EQ(block->damage->damaged_row_groups(), 1u);
  store_.reset();
  Open();  // a restart finds the block readable (the damage is found again by a read)
  ASSERT_EQ(store_->blocks()->size(), 1u);
  check();
}

// The statistics section is read and checked against the footer when a block is opened,
// so its damage is logged and counted at start, not found by the first search; lookups by
// trace ID do not need it.
TEST_F(StoreBlocksTest, DamagedStatisticsAreFoundWhenTheBlockIsOpened) {
  // Written by a store without metrics: the registry's callbacks then read the second.
  auto first = Store::Open(*env_, clock_, nullptr, options_);
  ASSERT_TRUE(first.ok()) << first.status();
  store_ = std::move(*first);
  ASSERT_TRUE(IngestBytes("t", Request(0)).ok());
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const std::string block_dir = store_->blocks()->front()->dir;
  const block::PageRef stats = store_->blocks()->front()->reader->footer().stats;
  store_.reset();
  FlipByte(block_dir + "/data", static_cast<std::streamoff>(stats.offset + stats.stored_size / 2));
  Open();
  ASSERT_EQ(store_->blocks()->size(), 1u) << "kept: its spans are intact";
  EXPECT_EQ(DamageCount("stats"), 1u) << "found at open, before any search";
  EXPECT_FALSE(store_->blocks()->front()->damage->Stats().ok());
  EXPECT_THAT(metrics_.RenderText(), ::testing::HasSubstr("strand_blocks_damaged 1"));
  ExpectAllFound("t", Expected(0, 1));
}

// Compaction meets the damage (DataLoss), records which row group it is, and leaves that
// block out of later rounds (merging it would lose its unreadable spans silently): the
// rest of its window is merged.
TEST_F(StoreBlocksTest, DamagedCompactionInputIsLeftOutAndTheRestMerged) {
  options_.compaction_min_inputs = 2;
  Open();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(IngestBytes("t", Request(round)).ok());
    clock_.Advance(std::chrono::seconds(11));
    ASSERT_TRUE(store_->CutBlocks().ok());
  }
  ASSERT_EQ(store_->blocks()->size(), 3u);
  const BlockHandlePtr damaged = store_->blocks()->front();
  FlipByte(damaged->dir + "/data", 100);
  SettleWindows();
  auto failed = store_->Compact();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->blocks()->size(), 3u) << "nothing is dropped";
  EXPECT_EQ(damaged->damage->damaged_row_groups(), 1u);
  auto merged = store_->Compact();
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(*merged);
  ASSERT_EQ(store_->blocks()->size(), 2u);
  EXPECT_EQ(BlockSpans(), 1500u) << "the damaged block is still listed, its spans counted";
  EXPECT_TRUE(std::filesystem::exists(damaged->dir));
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

TEST_F(StoreBlocksTest, BackgroundCutterRunsOnTheInjectedClock) {
  options_.background = true;
  options_.cut_interval_nanos = 5 * kSecond;
  options_.trace_idle_nanos = 2 * kSecond;
  options_.maintenance_interval_nanos = 3600 * kSecond;
  options_.max_cut_spans = 2000;  // the 2,000 spans make a full block: it does not wait
  Open();
  const int64_t t0 = clock_.MonotonicNanos();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(IngestBytes("t", Request(i)).ok());
  // The cutter looks every 5 s of the store's clock: not before, however long it really
  // takes, and after the cut it waits for the next round.
  ASSERT_TRUE(clock_.AwaitWaiterUntilForTest(t0 + 5 * kSecond));
  clock_.Advance(std::chrono::nanoseconds(5 * kSecond - 1));
  ASSERT_TRUE(clock_.AwaitWaiterUntilForTest(t0 + 5 * kSecond));
  EXPECT_TRUE(store_->blocks()->empty());
  clock_.Advance(std::chrono::nanoseconds(1));
  ASSERT_TRUE(clock_.AwaitWaiterUntilForTest(t0 + 10 * kSecond));
  ASSERT_EQ(store_->blocks()->size(), 1u);
  EXPECT_EQ(BlockSpans(), 2000u);
  EXPECT_EQ(store_->live().NumSpans(), 0u);
  ExpectAllFound("t", Expected(0, 4));
}

}  // namespace
}  // namespace strand::store
