#include "wal/wal_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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
  std::string ReadSegment(uint64_t seq) {
    auto bytes = env_.ReadFileToString(SegmentPath(seq));
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : "";
  }
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

  // The store's options: damaged segments and torn tails are kept in quarantine.
  ReplayOptions Quarantining() {
    ReplayOptions options;
    options.quarantine_dir = QuarantineDir();
    return options;
  }
  std::string QuarantineDir() { return JoinPath(quarantine_.path(), "wal"); }
  std::string QuarantinePath(std::string_view name) { return JoinPath(QuarantineDir(), name); }
  // Names of the files in quarantine, sorted; empty when the directory is missing.
  std::vector<std::string> Quarantined() {
    auto names = env_.GetChildren(QuarantineDir());
    if (!names.ok()) return {};
    std::sort(names->begin(), names->end());
    return *names;
  }
  std::string ReadQuarantined(std::string_view name) {
    auto bytes = env_.ReadFileToString(QuarantinePath(name));
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : "";
  }
  // Records [begin, end) of expected_, followed by [begin2, end2).
  std::vector<ReplayedRecord> Expected(int begin, int end, int begin2 = 0, int end2 = 0) {
    std::vector<ReplayedRecord> out(expected_.begin() + begin, expected_.begin() + end);
    out.insert(out.end(), expected_.begin() + begin2, expected_.begin() + end2);
    return out;
  }

  Env& env_ = *Env::Default();
  ScopedTempDir dir_;
  ScopedTempDir quarantine_;
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

// Only the newest segment can be the trace of a crash while a segment was being created;
// an older one without a header lost whatever it held.
TEST_F(WalReplayTest, OnlyTheNewestHeaderlessSegmentIsRemoved) {
  WriteRecords(2);
  const uint64_t seq = Segments().back();
  WriteSegment(seq + 1, std::string(kWalSegmentHeaderSize, '\0'));
  WriteSegment(seq + 2, "STRNDW");
  WriteSegment(seq + 3, "");

  ReplayResult r = Replay();
  EXPECT_EQ(r.records, expected_);
  EXPECT_EQ(r.stats.segments_removed, 1u);
  ASSERT_EQ(r.stats.damage.size(), 3u);
  for (const WalDamage& d : r.stats.damage) {
    EXPECT_EQ(d.kind, WalDamageKind::kIncompleteSegment);
    EXPECT_EQ(d.repaired, d.segment_seq == seq + 3);
    EXPECT_EQ(d.data_loss, d.segment_seq != seq + 3);
  }
  EXPECT_TRUE(r.stats.data_loss());
  EXPECT_THAT(Segments(), ElementsAre(seq, seq + 1, seq + 2));
}

TEST_F(WalReplayTest, NewestSegmentWithPartOfAHeaderIsRemovedWithoutACopy) {
  WriteRecords(2);
  const uint64_t seq = Segments().back();
  WriteSegment(seq + 1, "STRNDWAL\x01");

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, expected_);
  EXPECT_FALSE(r.stats.data_loss());
  EXPECT_EQ(r.stats.segments_removed, 1u);
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  EXPECT_TRUE(r.stats.damaged_segments[0].removed);
  EXPECT_THAT(Segments(), ElementsAre(seq));
  EXPECT_THAT(Quarantined(), IsEmpty()) << "nothing past a partial header: nothing to keep";
}

TEST_F(WalReplayTest, NonNewestSegmentCutShortIsQuarantinedNotDeleted) {
  WriteRecords(9, {3, 6});
  ASSERT_EQ(Segments().size(), 3u);
  const std::vector<uint64_t> seqs = Segments();
  const std::string original = ReadSegment(seqs[1]);
  ASSERT_TRUE(env_.TruncateFile(SegmentPath(seqs[1]), 20).ok());

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, Expected(0, 3, 6, 9));
  EXPECT_TRUE(r.stats.data_loss());
  EXPECT_EQ(r.stats.segments_removed, 0u);
  EXPECT_EQ(r.stats.segments_quarantined, 1u);
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  const WalSegmentReport& s = r.stats.damaged_segments[0];
  EXPECT_EQ(s.seq, seqs[1]);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(s.bytes_damaged, 20u);
  EXPECT_TRUE(s.data_loss);
  EXPECT_FALSE(s.removed);
  EXPECT_EQ(s.kept, WalSegmentReport::Kept::kMoved);
  EXPECT_EQ(s.kept_at, QuarantinePath(WalSegmentFileName(seqs[1])));
  EXPECT_THAT(Segments(), ElementsAre(seqs[0], seqs[2]));
  EXPECT_EQ(ReadQuarantined(WalSegmentFileName(seqs[1])), original.substr(0, 20));
}

TEST_F(WalReplayTest, WithoutAQuarantineDirectoryADamagedSegmentStaysInPlace) {
  WriteRecords(6, {3});
  const uint64_t older = Segments().front();
  ASSERT_TRUE(env_.TruncateFile(SegmentPath(older), 20).ok());

  ReplayResult r = Replay();
  EXPECT_EQ(r.records, Expected(3, 6));
  EXPECT_TRUE(r.stats.data_loss());
  EXPECT_EQ(r.stats.segments_removed, 0u);
  EXPECT_EQ(ReadSegment(older).size(), 20u);
}

TEST_F(WalReplayTest, NewestSegmentWithAZeroedHeaderAndRecordsIsQuarantined) {
  WriteRecords(6, {3});
  const uint64_t newest = Segments().back();
  std::string segment = ReadSegment(newest);
  std::fill(segment.begin(), segment.begin() + kWalSegmentHeaderSize, '\0');
  WriteSegment(newest, segment);

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, Expected(0, 3));
  EXPECT_TRUE(r.stats.data_loss());
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  EXPECT_EQ(r.stats.damaged_segments[0].kept, WalSegmentReport::Kept::kMoved);
  EXPECT_EQ(r.stats.damaged_segments[0].bytes_damaged, segment.size());
  EXPECT_EQ(Segments().size(), 1u);
  EXPECT_EQ(ReadQuarantined(WalSegmentFileName(newest)), segment);
}

TEST_F(WalReplayTest, TornTailOfNewestSegmentIsTruncatedAndItsBytesKept) {
  WriteRecords(3);
  const uint64_t seq = Segments().back();
  const std::string segment = ReadSegment(seq);
  const std::string tail("\x13\x00\x00\x00garbage garbage garbage", 27);
  WriteSegment(seq, segment + tail);

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, expected_);
  EXPECT_FALSE(r.stats.data_loss());
  EXPECT_EQ(r.stats.bytes_truncated, 27u);
  EXPECT_EQ(r.stats.segments_quarantined, 0u);
  EXPECT_EQ(ReadSegment(seq), segment);
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  const WalSegmentReport& s = r.stats.damaged_segments[0];
  EXPECT_TRUE(s.newest);
  EXPECT_TRUE(s.truncated);
  EXPECT_EQ(s.records, 3u);
  EXPECT_EQ(s.kept, WalSegmentReport::Kept::kTail);
  const std::string name = WalSegmentFileName(seq) + ".tail-" + std::to_string(segment.size());
  EXPECT_EQ(s.kept_at, QuarantinePath(name));
  EXPECT_THAT(Quarantined(), ElementsAre(name));
  EXPECT_EQ(ReadQuarantined(name), tail);
}

TEST_F(WalReplayTest, ZeroTornTailOfNewestSegmentIsTruncatedWithoutACopy) {
  WriteRecords(3);
  const uint64_t seq = Segments().back();
  const std::string segment = ReadSegment(seq);
  WriteSegment(seq, segment + std::string(4096, '\0'));

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, expected_);
  EXPECT_EQ(r.stats.bytes_truncated, 4096u);
  EXPECT_EQ(ReadSegment(seq), segment);
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  EXPECT_EQ(r.stats.damaged_segments[0].kept, WalSegmentReport::Kept::kNone);
  EXPECT_THAT(Quarantined(), IsEmpty()) << "zeros hold nothing";
}

TEST_F(WalReplayTest, OlderSegmentWithTornTailIsCopiedToQuarantineAfterItsRecordsAreReplayed) {
  WriteRecords(8, {4});
  const uint64_t older = Segments().front();
  std::string segment = ReadSegment(older);
  const uint64_t second = RecordOffset(segment, 1);
  EncodeFixed32(segment.data() + second + 4, 1u << 30);  // length beyond the file
  WriteSegment(older, segment);

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, Expected(0, 1, 4, 8));
  EXPECT_EQ(r.stats.segments_quarantined, 1u);
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  const WalSegmentReport& s = r.stats.damaged_segments[0];
  EXPECT_EQ(s.seq, older);
  EXPECT_FALSE(s.newest);
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.payload_bytes, 2u);
  EXPECT_EQ(s.bytes_damaged, segment.size() - second);
  EXPECT_TRUE(s.data_loss);
  EXPECT_FALSE(s.truncated);
  EXPECT_EQ(s.kept, WalSegmentReport::Kept::kCopied);
  EXPECT_EQ(ReadQuarantined(WalSegmentFileName(older)), segment);
  // Still the durable home of the record replayed from it.
  EXPECT_EQ(ReadSegment(older), segment);
}

TEST_F(WalReplayTest, SegmentWithCorruptRecordIsCopiedAndItsTornTailTruncated) {
  WriteRecords(5);
  const uint64_t seq = Segments().back();
  std::string segment = ReadSegment(seq);
  segment[RecordOffset(segment, 2) + kWalRecordHeaderSize] ^= 0x01;
  const std::string damaged = segment + "torn";
  WriteSegment(seq, damaged);

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, Expected(0, 2, 3, 5));
  EXPECT_TRUE(r.stats.data_loss());
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  const WalSegmentReport& s = r.stats.damaged_segments[0];
  EXPECT_EQ(s.records, 4u);
  EXPECT_EQ(s.kept, WalSegmentReport::Kept::kCopied);
  EXPECT_TRUE(s.truncated);
  EXPECT_THAT(Quarantined(), ElementsAre(WalSegmentFileName(seq)));
  EXPECT_EQ(ReadQuarantined(WalSegmentFileName(seq)), damaged) << "the copy has the tail too";
  EXPECT_EQ(ReadSegment(seq), segment);
}

TEST_F(WalReplayTest, SegmentWithBadHeaderIsMovedToQuarantine) {
  WriteRecords(6, {3});
  const uint64_t older = Segments().front();
  std::string segment = ReadSegment(older);
  segment[0] = 'X';
  WriteSegment(older, segment);

  ReplayResult r = Replay(Quarantining());
  EXPECT_EQ(r.records, Expected(3, 6));
  EXPECT_EQ(r.stats.segments_quarantined, 1u);
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  EXPECT_EQ(r.stats.damaged_segments[0].kept, WalSegmentReport::Kept::kMoved);
  EXPECT_EQ(r.stats.damaged_segments[0].bytes_damaged, segment.size());
  EXPECT_FALSE(env_.FileExists(SegmentPath(older)));
  EXPECT_EQ(ReadQuarantined(WalSegmentFileName(older)), segment);
}

TEST_F(WalReplayTest, SegmentAlreadyInQuarantineIsNotCopiedAgain) {
  WriteRecords(8, {4});
  const uint64_t older = Segments().front();
  std::string segment = ReadSegment(older);
  WriteSegment(older, segment.substr(0, segment.size() - 1));

  ReplayResult first = Replay(Quarantining());
  EXPECT_EQ(first.stats.segments_quarantined, 1u);
  ReplayResult second = Replay(Quarantining());  // the next start, before a cut
  EXPECT_EQ(second.records, first.records);
  EXPECT_EQ(second.stats.segments_quarantined, 0u);
  ASSERT_EQ(second.stats.damaged_segments.size(), 1u);
  EXPECT_TRUE(second.stats.damaged_segments[0].kept_before);
  EXPECT_EQ(second.stats.damaged_segments[0].kept_at, first.stats.damaged_segments[0].kept_at);
  EXPECT_THAT(Quarantined(), ElementsAre(WalSegmentFileName(older)));
}

TEST_F(WalReplayTest, QuarantineNeverReplacesAnEarlierFile) {
  WriteRecords(6, {3});
  const uint64_t older = Segments().front();
  const std::string name = WalSegmentFileName(older);
  ASSERT_TRUE(env_.CreateDirs(QuarantineDir()).ok());
  ASSERT_TRUE(WriteFileAtomically(env_, QuarantinePath(name), "an earlier segment").ok());
  ASSERT_TRUE(env_.TruncateFile(SegmentPath(older), 20).ok());

  ReplayResult r = Replay(Quarantining());
  ASSERT_EQ(r.stats.damaged_segments.size(), 1u);
  EXPECT_EQ(r.stats.damaged_segments[0].kept_at, QuarantinePath(name + ".1"));
  EXPECT_EQ(ReadQuarantined(name), "an earlier segment");
  EXPECT_EQ(ReadQuarantined(name + ".1").size(), 20u);
}

// A power cut right after the replay keeps everything it put in quarantine: the moved
// segment does not fall back into the log, the saved tail is durable.
TEST_F(WalReplayTest, QuarantineSurvivesAPowerCut) {
  WriteRecords(6, {3});
  const uint64_t older = Segments().front();
  const uint64_t newest = Segments().back();
  std::string segment = ReadSegment(older);
  segment[0] = 'X';
  WriteSegment(older, segment);
  WriteSegment(newest, ReadSegment(newest) + "torn tail");

  FaultInjectionEnv fault_env(env_);
  auto r = ReplayAll(fault_env, dir_.path(), Quarantining());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->stats.damaged_segments.size(), 2u);
  ASSERT_TRUE(fault_env.DropUnsyncedData().ok());

  EXPECT_THAT(Segments(), ElementsAre(newest));
  EXPECT_EQ(ReadQuarantined(WalSegmentFileName(older)), segment);
  EXPECT_EQ(env_.ReadFileToString(r->stats.damaged_segments[1].kept_at).value_or(""), "torn tail");
}

TEST_F(WalReplayTest, FailedQuarantineFailsTheReplayAndLosesNothing) {
  WriteRecords(6, {3});
  const uint64_t older = Segments().front();
  ASSERT_TRUE(env_.TruncateFile(SegmentPath(older), 20).ok());
  FaultInjectionEnv fault_env(env_);
  fault_env.FailNext(FaultInjectionEnv::Op::kRename, 1);
  EXPECT_FALSE(ReplayAll(fault_env, dir_.path(), Quarantining()).ok());
  EXPECT_EQ(ReadSegment(older).size(), 20u);
  auto again = ReplayAll(fault_env, dir_.path(), Quarantining());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stats.segments_quarantined, 1u);
}

TEST_F(WalReplayTest, OnSegmentIsCalledBeforeEachSegmentsRecords) {
  WriteRecords(4, {2});
  const std::vector<uint64_t> seqs = Segments();
  std::vector<std::string> events;
  ReplayOptions options;
  options.on_segment = [&events](uint64_t seq) { events.push_back("s" + std::to_string(seq)); };
  auto stats = ReplayWal(
      env_, dir_.path(),
      [&events](uint8_t, std::string_view payload) {
        events.emplace_back(payload);
        return absl::OkStatus();
      },
      options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  const std::string s0 = "s" + std::to_string(seqs[0]), s1 = "s" + std::to_string(seqs[1]);
  EXPECT_THAT(events, ElementsAre(s0, "r0", "r1", s1, "r2", "r3"));
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
