#include "wal/wal_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/coding.h"
#include "common/fault_injection_env.h"
#include "wal/wal_format.h"
#include "wal/wal_test_util.h"
#include "wal/wal_writer.h"

namespace strand {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class WalReplayTest : public ::testing::Test {
 protected:
  // Writes `count` records "r0", "r1", ... with the writer, rotating before each index in
  // `rotate_before`, and closes it.
  void WriteRecords(int count, std::vector<int> rotate_before = {}) {
    auto writer = WalWriter::Open(env_, dir_.path());
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (int i = 0; i < count; ++i) {
      if (std::find(rotate_before.begin(), rotate_before.end(), i) != rotate_before.end()) {
        ASSERT_TRUE((*writer)->Rotate().ok());
      }
      ASSERT_TRUE((*writer)->AppendSync(1, "r" + std::to_string(i)).ok());
      expected_.push_back({1, "r" + std::to_string(i)});
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }

  std::vector<uint64_t> Segments() { return *ListWalSegments(env_, dir_.path()); }
  std::string SegmentPath(uint64_t seq) { return WalSegmentPath(dir_.path(), seq); }
  std::string ReadSegment(uint64_t seq) { return *env_.ReadFileToString(SegmentPath(seq)); }
  void WriteSegment(uint64_t seq, std::string_view bytes) {
    ASSERT_TRUE(WriteFileAtomically(env_, SegmentPath(seq), bytes).ok());
  }
  // Offset of record `index` (0-based) in a segment written by WriteRecords.
  static uint64_t RecordOffset(const std::string& segment, int index) {
    uint64_t offset = kWalSegmentHeaderSize;
    for (int i = 0; i < index; ++i) {
      offset += kWalRecordHeaderSize + DecodeFixed32(segment.data() + offset + 4);
    }
    return offset;
  }

  ReplayResult Replay(const ReplayOptions& options = {}) {
    auto result = ReplayAll(env_, dir_.path(), options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? std::move(*result) : ReplayResult{};
  }

  Env& env_ = *Env::Default();
  ScopedTempDir dir_;
  std::vector<ReplayedRecord> expected_;
};

TEST_F(WalReplayTest, MissingDirectoryIsAnEmptyLog) {
  auto result = ReplayAll(env_, JoinPath(dir_.path(), "nope"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->records, IsEmpty());
  EXPECT_EQ(result->stats.segments, 0u);
}

TEST_F(WalReplayTest, ReplaysAllSegmentsInOrder) {
  WriteRecords(10, {3, 7});
  ASSERT_EQ(Segments().size(), 3u);
  ReplayResult r = Replay();
  EXPECT_EQ(r.records, expected_);
  EXPECT_EQ(r.stats.segments, 3u);
  EXPECT_EQ(r.stats.records, 10u);
  EXPECT_EQ(r.stats.first_seq, Segments().front());
  EXPECT_EQ(r.stats.last_seq, Segments().back());
  EXPECT_THAT(r.stats.damage, IsEmpty());
  EXPECT_FALSE(r.stats.data_loss());
}

TEST_F(WalReplayTest, TruncatedTrailingRecordIsIgnoredAndTruncatedAway) {
  WriteRecords(5);
  const uint64_t seq = Segments().back();
  const std::string segment = ReadSegment(seq);
  const uint64_t last = RecordOffset(segment, 4);
  ASSERT_TRUE(env_.TruncateFile(SegmentPath(seq), segment.size() - 2).ok());

  ReplayResult r = Replay();
  expected_.pop_back();
  EXPECT_EQ(r.records, expected_);
  ASSERT_EQ(r.stats.damage.size(), 1u);
  const WalDamage& d = r.stats.damage[0];
  EXPECT_EQ(d.kind, WalDamageKind::kTornTail);
  EXPECT_EQ(d.segment_seq, seq);
  EXPECT_EQ(d.offset, last);
  EXPECT_TRUE(d.repaired);
  EXPECT_FALSE(d.data_loss);
  EXPECT_FALSE(r.stats.data_loss());
  EXPECT_EQ(*env_.GetFileSize(SegmentPath(seq)), last);

  ReplayResult again = Replay();
  EXPECT_EQ(again.records, expected_);
  EXPECT_THAT(again.stats.damage, IsEmpty());
}

TEST_F(WalReplayTest, CorruptedChecksumAtTailIsTruncated) {
  WriteRecords(3);
  const uint64_t seq = Segments().back();
  std::string segment = ReadSegment(seq);
  const uint64_t last = RecordOffset(segment, 2);
  segment[last + 1] ^= 0x10;
  WriteSegment(seq, segment);

  ReplayResult r = Replay();
  expected_.pop_back();
  EXPECT_EQ(r.records, expected_);
  ASSERT_EQ(r.stats.damage.size(), 1u);
  EXPECT_EQ(r.stats.damage[0].kind, WalDamageKind::kTornTail);
  EXPECT_EQ(*env_.GetFileSize(SegmentPath(seq)), last);
}

TEST_F(WalReplayTest, GarbageAppendedIsTruncated) {
  WriteRecords(3);
  const uint64_t seq = Segments().back();
  std::string segment = ReadSegment(seq);
  const uint64_t end = segment.size();
  WriteSegment(seq, segment + std::string("\x13\x00\x00\x00garbage garbage garbage", 27));

  ReplayResult r = Replay();
  EXPECT_EQ(r.records, expected_);
  EXPECT_EQ(r.stats.bytes_truncated, 27u);
  EXPECT_EQ(*env_.GetFileSize(SegmentPath(seq)), end);
}

TEST_F(WalReplayTest, EmptyAndHeaderlessSegmentsAreRemoved) {
  WriteRecords(2);
  const uint64_t seq = Segments().back();
  WriteSegment(seq + 1, std::string(kWalSegmentHeaderSize, '\0'));
  WriteSegment(seq + 2, "STRNDW");
  WriteSegment(seq + 3, "");

  ReplayResult r = Replay();
  EXPECT_EQ(r.records, expected_);
  EXPECT_EQ(r.stats.segments_removed, 3u);
  ASSERT_EQ(r.stats.damage.size(), 3u);
  for (const WalDamage& d : r.stats.damage) {
    EXPECT_EQ(d.kind, WalDamageKind::kIncompleteSegment);
    EXPECT_TRUE(d.repaired);
  }
  EXPECT_FALSE(r.stats.data_loss());
  EXPECT_THAT(Segments(), ElementsAre(seq));
}

TEST_F(WalReplayTest, CorruptionInAnOlderSegmentLosesOnlyTheRestOfThatSegment) {
  WriteRecords(8, {4});
  ASSERT_EQ(Segments().size(), 2u);
  const uint64_t older = Segments().front();
  std::string segment = ReadSegment(older);
  const uint64_t second = RecordOffset(segment, 1);
  EncodeFixed32(segment.data() + second + 4, 1u << 30);  // length beyond the file
  WriteSegment(older, segment);

  ReplayResult r = Replay();
  std::vector<ReplayedRecord> expected = {expected_[0]};
  expected.insert(expected.end(), expected_.begin() + 4, expected_.end());
  EXPECT_EQ(r.records, expected);
  ASSERT_EQ(r.stats.damage.size(), 1u);
  const WalDamage& d = r.stats.damage[0];
  EXPECT_EQ(d.kind, WalDamageKind::kTornTail);
  EXPECT_EQ(d.segment_seq, older);
  EXPECT_EQ(d.offset, second);
  EXPECT_TRUE(d.data_loss);
  EXPECT_FALSE(d.repaired);
  EXPECT_TRUE(r.stats.data_loss());
  EXPECT_EQ(ReadSegment(older), segment);  // left as evidence
}

TEST_F(WalReplayTest, CorruptRecordInTheMiddleIsSkippedAndReported) {
  WriteRecords(5);
  const uint64_t seq = Segments().back();
  std::string segment = ReadSegment(seq);
  segment[RecordOffset(segment, 2) + kWalRecordHeaderSize] ^= 0x01;
  WriteSegment(seq, segment);

  ReplayResult r = Replay();
  expected_.erase(expected_.begin() + 2);
  EXPECT_EQ(r.records, expected_);
  ASSERT_EQ(r.stats.damage.size(), 1u);
  EXPECT_EQ(r.stats.damage[0].kind, WalDamageKind::kCorruptRecords);
  EXPECT_TRUE(r.stats.data_loss());
  EXPECT_FALSE(r.stats.DamageSummary().empty());
  EXPECT_EQ(ReadSegment(seq), segment);
}

TEST_F(WalReplayTest, SegmentWithBadHeaderIsSkippedAndKept) {
  WriteRecords(6, {3});
  const uint64_t older = Segments().front();
  std::string segment = ReadSegment(older);
  segment[0] = 'X';
  WriteSegment(older, segment);

  ReplayResult r = Replay();
  EXPECT_EQ(r.records, std::vector<ReplayedRecord>(expected_.begin() + 3, expected_.end()));
  ASSERT_EQ(r.stats.damage.size(), 1u);
  EXPECT_EQ(r.stats.damage[0].kind, WalDamageKind::kBadHeader);
  EXPECT_TRUE(r.stats.data_loss());
  EXPECT_TRUE(env_.FileExists(SegmentPath(older)));
}

TEST_F(WalReplayTest, UnsupportedFormatVersionFailsTheReplay) {
  WalSegmentHeader header;
  header.seq = 1;
  header.version = kWalFormatVersion + 1;
  WriteSegment(1, EncodeWalSegmentHeader(header));
  auto result = ReplayAll(env_, dir_.path());
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status())) << result.status();
}

TEST_F(WalReplayTest, CallbackErrorStopsTheReplay) {
  WriteRecords(5);
  int calls = 0;
  auto stats = ReplayWal(env_, dir_.path(), [&calls](uint8_t, std::string_view) {
    return ++calls == 2 ? absl::InternalError("stop") : absl::OkStatus();
  });
  EXPECT_EQ(stats.status().message(), "stop");
  EXPECT_EQ(calls, 2);
}

TEST_F(WalReplayTest, ReadOnlyReplayChangesNothing) {
  WriteRecords(3);
  const uint64_t seq = Segments().back();
  std::string segment = ReadSegment(seq) + "torn";
  WriteSegment(seq, segment);
  WriteSegment(seq + 1, "");

  ReplayOptions options;
  options.repair = false;
  ReplayResult r = Replay(options);
  EXPECT_EQ(r.records, expected_);
  EXPECT_EQ(r.stats.damage.size(), 2u);
  EXPECT_EQ(ReadSegment(seq), segment);
  EXPECT_TRUE(env_.FileExists(SegmentPath(seq + 1)));
}

TEST_F(WalReplayTest, MinSeqSkipsOlderSegments) {
  WriteRecords(6, {2, 4});
  ReplayOptions options;
  options.min_seq = Segments()[1];
  ReplayResult r = Replay(options);
  EXPECT_EQ(r.records, std::vector<ReplayedRecord>(expected_.begin() + 2, expected_.end()));
}

// The start-up cycle: crash with unsynced data, replay (repairs), open a writer, crash
// again, replay: every acknowledged record of both runs is there, in order.
TEST_F(WalReplayTest, RepairedLogAcceptsANewWriterAcrossCrashes) {
  FaultInjectionEnv fault_env(env_);
  std::vector<ReplayedRecord> acknowledged;
  for (int run = 0; run < 3; ++run) {
    auto replayed = ReplayAll(fault_env, dir_.path());
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    EXPECT_EQ(replayed->records, acknowledged) << "run " << run;
    auto writer = WalWriter::Open(fault_env, dir_.path());
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (int i = 0; i < 5; ++i) {
      std::string payload = "run" + std::to_string(run) + "-" + std::to_string(i);
      ASSERT_TRUE((*writer)->AppendSync(2, payload).ok());
      acknowledged.push_back({2, payload});
    }
    // An unacknowledged group is written but never synced, then the power goes.
    fault_env.FailNext(FaultInjectionEnv::Op::kSync, 1);
    EXPECT_FALSE((*writer)->AppendSync(2, "never acknowledged").ok());
    fault_env.SetFilesystemActive(false);
    writer->reset();
    ASSERT_TRUE(fault_env.DropUnsyncedData().ok());
    fault_env.SetFilesystemActive(true);
  }
  auto replayed = ReplayAll(fault_env, dir_.path());
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->records, acknowledged);
}

}  // namespace
}  // namespace strand
