#include "wal/wal_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "wal/wal_test_util.h"

namespace strand {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Builds segment bytes in memory.
class SegmentBuilder {
 public:
  explicit SegmentBuilder(uint64_t seq = 1) : seq_(seq) {
    WalSegmentHeader header;
    header.seq = seq;
    bytes_ = EncodeWalSegmentHeader(header);
  }
  SegmentBuilder& Add(uint8_t type, std::string_view payload) {
    offsets_.push_back(bytes_.size());
    records_.push_back({type, std::string(payload)});
    bytes_ += EncodeWalRecord(WalSegmentMask(seq_), type, payload);
    return *this;
  }
  std::string& bytes() { return bytes_; }
  uint64_t offset(size_t i) const { return offsets_[i]; }
  const std::vector<ReplayedRecord>& records() const { return records_; }

 private:
  uint64_t seq_;
  std::string bytes_;
  std::vector<uint64_t> offsets_;
  std::vector<ReplayedRecord> records_;
};

struct ReadResult {
  WalHeaderStatus header_status;
  std::vector<ReplayedRecord> records;
  std::vector<uint64_t> offsets;
  std::vector<WalDamage> damage;
  uint64_t valid_end = 0;
};

ReadResult ReadSegment(std::string bytes, std::optional<uint64_t> expected_seq = 1) {
  auto reader = WalReader::FromFile(NewStringRandomAccessFile(std::move(bytes)), expected_seq);
  EXPECT_TRUE(reader.ok()) << reader.status();
  ReadResult result;
  result.header_status = (*reader)->header_status();
  while (true) {
    auto record = (*reader)->Next();
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok() || !record->has_value()) break;
    result.records.push_back({(*record)->type, std::string((*record)->payload)});
    result.offsets.push_back((*record)->offset);
  }
  result.damage = (*reader)->damage();
  result.valid_end = (*reader)->valid_end();
  return result;
}

std::vector<ReplayedRecord> FirstN(const std::vector<ReplayedRecord>& all, size_t n) {
  return std::vector<ReplayedRecord>(all.begin(), all.begin() + n);
}

TEST(WalReaderTest, ReadsEveryRecordOfAValidSegment) {
  SegmentBuilder seg;
  seg.Add(1, "first").Add(2, "").Add(255, std::string(3 << 20, 'z')).Add(1, "last");
  ReadResult r = ReadSegment(seg.bytes());
  EXPECT_EQ(r.header_status, WalHeaderStatus::kOk);
  EXPECT_EQ(r.records, seg.records());
  EXPECT_THAT(r.offsets, ElementsAre(seg.offset(0), seg.offset(1), seg.offset(2), seg.offset(3)));
  EXPECT_THAT(r.damage, IsEmpty());
  EXPECT_EQ(r.valid_end, seg.bytes().size());
}

TEST(WalReaderTest, HeaderOnlySegmentHasNoRecordsAndNoDamage) {
  SegmentBuilder seg;
  ReadResult r = ReadSegment(seg.bytes());
  EXPECT_THAT(r.records, IsEmpty());
  EXPECT_THAT(r.damage, IsEmpty());
  EXPECT_EQ(r.valid_end, kWalSegmentHeaderSize);
}

TEST(WalReaderTest, TruncatedTrailingRecordIsATornTail) {
  SegmentBuilder seg;
  seg.Add(1, "one").Add(1, "two").Add(1, "three-is-longer");
  const std::string full = seg.bytes();
  // Cut anywhere inside the last record: its header or its payload.
  for (uint64_t cut = seg.offset(2) + 1; cut < full.size(); ++cut) {
    SCOPED_TRACE(cut);
    ReadResult r = ReadSegment(full.substr(0, cut));
    EXPECT_EQ(r.records, FirstN(seg.records(), 2));
    ASSERT_EQ(r.damage.size(), 1u);
    EXPECT_EQ(r.damage[0].kind, WalDamageKind::kTornTail);
    EXPECT_EQ(r.damage[0].offset, seg.offset(2));
    EXPECT_EQ(r.damage[0].length, cut - seg.offset(2));
    EXPECT_EQ(r.valid_end, seg.offset(2));
  }
}

TEST(WalReaderTest, BadChecksumOnTheLastRecordIsATornTail) {
  SegmentBuilder seg;
  seg.Add(1, "one").Add(1, "two");
  seg.bytes()[seg.offset(1)] ^= 0x40;  // checksum field
  ReadResult r = ReadSegment(seg.bytes());
  EXPECT_EQ(r.records, FirstN(seg.records(), 1));
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_EQ(r.damage[0].kind, WalDamageKind::kTornTail);
  EXPECT_EQ(r.valid_end, seg.offset(1));
}

TEST(WalReaderTest, CorruptRecordFollowedByValidRecordsIsSkipped) {
  SegmentBuilder seg;
  for (int i = 0; i < 6; ++i) seg.Add(1, "record-" + std::to_string(i));
  seg.bytes()[seg.offset(2) + 12] ^= 0x01;  // payload byte of record 2
  seg.bytes()[seg.offset(3) + 9] ^= 0x01;   // and of record 3
  ReadResult r = ReadSegment(seg.bytes());
  std::vector<ReplayedRecord> expected = seg.records();
  expected.erase(expected.begin() + 2, expected.begin() + 4);
  EXPECT_EQ(r.records, expected);
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_EQ(r.damage[0].kind, WalDamageKind::kCorruptRecords);
  EXPECT_EQ(r.damage[0].offset, seg.offset(2));
  EXPECT_EQ(r.damage[0].length, seg.offset(4) - seg.offset(2));
  EXPECT_TRUE(r.damage[0].data_loss);
  EXPECT_EQ(r.valid_end, seg.bytes().size());
}

TEST(WalReaderTest, CorruptLengthEndsTheSegment) {
  SegmentBuilder seg;
  for (int i = 0; i < 4; ++i) seg.Add(1, "record-" + std::to_string(i));
  EncodeFixed32(seg.bytes().data() + seg.offset(1) + 4, 0x7fff0000);
  ReadResult r = ReadSegment(seg.bytes());
  EXPECT_EQ(r.records, FirstN(seg.records(), 1));
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_EQ(r.damage[0].kind, WalDamageKind::kTornTail);
  EXPECT_EQ(r.damage[0].offset, seg.offset(1));
}

TEST(WalReaderTest, ZeroFilledOrGarbageTailIsATornTail) {
  for (std::string tail : {std::string(4096, '\0'), std::string("\x01\x02garbage-bytes", 15),
                           std::string(100, '\xff')}) {
    SegmentBuilder seg;
    seg.Add(1, "one").Add(2, "two");
    const uint64_t end = seg.bytes().size();
    seg.bytes() += tail;
    ReadResult r = ReadSegment(seg.bytes());
    EXPECT_EQ(r.records, seg.records());
    ASSERT_EQ(r.damage.size(), 1u);
    EXPECT_EQ(r.damage[0].kind, WalDamageKind::kTornTail);
    EXPECT_EQ(r.damage[0].offset, end);
    EXPECT_EQ(r.damage[0].length, tail.size());
  }
}

TEST(WalReaderTest, RecordsCopiedFromAnotherSegmentFailValidation) {
  SegmentBuilder other(5);
  other.Add(1, "stale record from segment 5");
  SegmentBuilder seg(6);
  seg.Add(1, "current");
  seg.bytes() += other.bytes().substr(kWalSegmentHeaderSize);
  ReadResult r = ReadSegment(seg.bytes(), 6);
  EXPECT_EQ(r.records, seg.records());
  ASSERT_EQ(r.damage.size(), 1u);
  EXPECT_EQ(r.damage[0].kind, WalDamageKind::kTornTail);
}

TEST(WalReaderTest, RecordTypeZeroIsInvalid) {
  SegmentBuilder seg;
  seg.Add(1, "ok").Add(0, "type zero");
  ReadResult r = ReadSegment(seg.bytes());
  EXPECT_EQ(r.records, FirstN(seg.records(), 1));
  ASSERT_EQ(r.damage.size(), 1u);
}

TEST(WalReaderTest, HeaderDamageIsClassified) {
  SegmentBuilder seg;
  seg.Add(1, "x");
  struct Case {
    std::string bytes;
    WalHeaderStatus status;
    std::optional<WalDamageKind> kind;
  };
  std::string bad_magic = seg.bytes();
  bad_magic[1] = '?';
  std::string bad_checksum = seg.bytes();
  bad_checksum[17] ^= 1;
  std::string zeros = std::string(kWalSegmentHeaderSize, '\0') + "junk";
  std::vector<Case> cases = {
      {"", WalHeaderStatus::kIncomplete, WalDamageKind::kIncompleteSegment},
      {seg.bytes().substr(0, 20), WalHeaderStatus::kIncomplete, WalDamageKind::kIncompleteSegment},
      {zeros, WalHeaderStatus::kIncomplete, WalDamageKind::kIncompleteSegment},
      {bad_magic, WalHeaderStatus::kBadMagic, WalDamageKind::kBadHeader},
      {bad_checksum, WalHeaderStatus::kBadChecksum, WalDamageKind::kBadHeader},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.bytes.size());
    ReadResult r = ReadSegment(c.bytes);
    EXPECT_EQ(r.header_status, c.status);
    EXPECT_THAT(r.records, IsEmpty());
    ASSERT_EQ(r.damage.size(), 1u);
    EXPECT_EQ(r.damage[0].kind, *c.kind);
    EXPECT_EQ(r.damage[0].data_loss, c.kind == WalDamageKind::kBadHeader);
  }
  ReadResult mismatch = ReadSegment(seg.bytes(), /*expected_seq=*/2);
  EXPECT_EQ(mismatch.header_status, WalHeaderStatus::kSeqMismatch);
  EXPECT_THAT(mismatch.records, IsEmpty());
  ReadResult unnamed = ReadSegment(seg.bytes(), std::nullopt);
  EXPECT_EQ(unnamed.records, seg.records());
}

// Property: whatever happens to the bytes, the reader never fails or crashes, and every
// record it returns is one that was written, at the offset where it was written.
TEST(WalReaderTest, RandomDamageYieldsOnlyRecordsThatWereWritten) {
  std::mt19937_64 rng(20240601);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    SegmentBuilder seg;
    std::map<uint64_t, ReplayedRecord> written;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      std::string payload(rng() % 300, '\0');
      for (char& c : payload) c = static_cast<char>(rng());
      seg.Add(static_cast<uint8_t>(1 + rng() % 255), payload);
      written[seg.offset(i)] = seg.records().back();
    }
    std::string bytes = seg.bytes();
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !bytes.empty(); ++m) {
      switch (rng() % 4) {
        case 0:
          bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:
          bytes.resize(rng() % bytes.size());
          break;
        case 2:
          for (int k = static_cast<int>(rng() % 64); k > 0; --k) {
            bytes.push_back(static_cast<char>(rng()));
          }
          break;
        case 3: {
          const size_t start = rng() % bytes.size();
          const size_t len = std::min<size_t>(rng() % 512, bytes.size() - start);
          std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(start), len, '\0');
          break;
        }
      }
    }
    ReadResult r = ReadSegment(bytes);
    for (size_t i = 0; i < r.records.size(); ++i) {
      auto it = written.find(r.offsets[i]);
      ASSERT_NE(it, written.end()) << "iteration " << iteration;
      EXPECT_EQ(r.records[i], it->second) << "iteration " << iteration;
    }
    EXPECT_LE(r.valid_end, bytes.size());
  }
}

}  // namespace
}  // namespace strand
