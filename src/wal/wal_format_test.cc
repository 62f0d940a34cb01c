#include "wal/wal_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/checksum.h"
#include "common/coding.h"
#include "wal/wal_test_util.h"

namespace strand {
namespace {

using ::testing::ElementsAre;

std::string ValidHeaderBytes(uint64_t seq = 42) {
  WalSegmentHeader header;
  header.seq = seq;
  header.created_unix_nanos = 1'700'000'000'123'456'789;
  return EncodeWalSegmentHeader(header);
}

// Rewrites the header checksum after a test edits the other fields.
void Reseal(std::string& header) {
  EncodeFixed32(header.data() + 32, Checksum32(std::string_view(header).substr(0, 32)));
}

TEST(WalFormatTest, SegmentHeaderRoundTripsAndMatchesTheSpecLayout) {
  std::string bytes = ValidHeaderBytes(42);
  ASSERT_EQ(bytes.size(), kWalSegmentHeaderSize);
  EXPECT_EQ(bytes.substr(0, 8), "STRNDWAL");
  EXPECT_EQ(DecodeFixed32(bytes.data() + 8), 1u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 12), 0u);
  EXPECT_EQ(DecodeFixed64(bytes.data() + 16), 42u);
  EXPECT_EQ(DecodeFixed64(bytes.data() + 24), 1'700'000'000'123'456'789u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 32), Checksum32(bytes.substr(0, 32)));

  WalHeaderParse parsed = ParseWalSegmentHeader(bytes + "trailing records");
  EXPECT_EQ(parsed.status, WalHeaderStatus::kOk);
  EXPECT_EQ(parsed.header.seq, 42u);
  EXPECT_EQ(parsed.header.version, kWalFormatVersion);
  EXPECT_EQ(parsed.header.created_unix_nanos, 1'700'000'000'123'456'789);
}

TEST(WalFormatTest, HeaderParseClassifiesDamage) {
  const std::string good = ValidHeaderBytes();
  EXPECT_EQ(ParseWalSegmentHeader("").status, WalHeaderStatus::kIncomplete);
  EXPECT_EQ(ParseWalSegmentHeader(good.substr(0, 35)).status, WalHeaderStatus::kIncomplete);
  EXPECT_EQ(ParseWalSegmentHeader(std::string(36, '\0')).status, WalHeaderStatus::kIncomplete);

  std::string magic = good;
  magic[0] = 'X';
  EXPECT_EQ(ParseWalSegmentHeader(magic).status, WalHeaderStatus::kBadMagic);

  std::string flipped = good;
  flipped[20] ^= 0x01;
  EXPECT_EQ(ParseWalSegmentHeader(flipped).status, WalHeaderStatus::kBadChecksum);

  std::string v2 = good;
  EncodeFixed32(v2.data() + 8, 2);
  Reseal(v2);
  WalHeaderParse parsed = ParseWalSegmentHeader(v2);
  EXPECT_EQ(parsed.status, WalHeaderStatus::kUnsupportedVersion);
  EXPECT_EQ(parsed.header.version, 2u);

  std::string flags = good;
  EncodeFixed32(flags.data() + 12, 1);
  Reseal(flags);
  EXPECT_EQ(ParseWalSegmentHeader(flags).status, WalHeaderStatus::kUnsupportedVersion);
}

TEST(WalFormatTest, RecordChecksumCoversLengthTypeAndPayloadHoweverSplit) {
  const uint64_t mask = WalSegmentMask(7);
  std::string record = EncodeWalRecord(mask, 3, "abcdef");
  ASSERT_EQ(record.size(), kWalRecordHeaderSize + 6);
  EXPECT_EQ(DecodeFixed32(record.data() + 4), 6u);
  EXPECT_EQ(record[8], 3);
  EXPECT_EQ(record.substr(9), "abcdef");
  // The spec: low 32 bits of XXH3-64(record[4..]) XOR XXH3-64(le64(seq)).
  char seq_bytes[8];
  EncodeFixed64(seq_bytes, 7);
  const uint64_t expected =
      Hash64(std::string_view(record).substr(4)) ^ Hash64(std::string_view(seq_bytes, 8));
  EXPECT_EQ(DecodeFixed32(record.data()), static_cast<uint32_t>(expected));
  EXPECT_EQ(WalRecordHash(6, 3, "ab", "cdef"), WalRecordHash(6, 3, "abcdef", ""));
  EXPECT_EQ(WalRecordHash(6, 3, "", "abcdef"), WalRecordHash(6, 3, "abcdef", ""));
  EXPECT_NE(WalRecordHash(6, 3, "abcdef", ""), WalRecordHash(6, 4, "abcdef", ""));
  EXPECT_NE(WalSegmentMask(7), WalSegmentMask(8));
}

TEST(WalFormatTest, SegmentFileNamesRoundTripAndOtherNamesAreRejected) {
  EXPECT_EQ(WalSegmentFileName(42), "0000000000000042.wal");
  EXPECT_EQ(ParseWalSegmentFileName("0000000000000042.wal"), 42u);
  EXPECT_EQ(ParseWalSegmentFileName("9999999999999999.wal"), 9999999999999999u);
  EXPECT_EQ(ParseWalSegmentFileName("42.wal"), std::nullopt);
  EXPECT_EQ(ParseWalSegmentFileName("000000000000004a.wal"), std::nullopt);
  EXPECT_EQ(ParseWalSegmentFileName("0000000000000042.wal.tmp"), std::nullopt);
  EXPECT_EQ(ParseWalSegmentFileName("0000000000000042.log"), std::nullopt);
  EXPECT_EQ(WalSegmentPath("/d", 1), "/d/0000000000000001.wal");
}

TEST(WalFormatTest, ListWalSegmentsSortsAndIgnoresOtherFiles) {
  ScopedTempDir dir;
  Env& env = *Env::Default();
  for (std::string name :
       {"0000000000000010.wal", "0000000000000002.wal", "notes.txt", "0000000000000003.wal.tmp"}) {
    ASSERT_TRUE(WriteFileAtomically(env, JoinPath(dir.path(), name), "").ok());
  }
  auto seqs = ListWalSegments(env, dir.path());
  ASSERT_TRUE(seqs.ok()) << seqs.status();
  EXPECT_THAT(*seqs, ElementsAre(2, 10));

  auto missing = ListWalSegments(env, JoinPath(dir.path(), "missing"));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
}

}  // namespace
}  // namespace strand
