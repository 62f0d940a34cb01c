#include "wal/wal_format.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/checksum.h"
#include "common/coding.h"

namespace strand {
namespace {

// Header layout; see docs/format/wal.md.
constexpr size_t kVersionOffset = 8;
constexpr size_t kFlagsOffset = 12;
constexpr size_t kSeqOffset = 16;
constexpr size_t kCreatedOffset = 24;
constexpr size_t kHeaderChecksumOffset = 32;
static_assert(kHeaderChecksumOffset + 4 == kWalSegmentHeaderSize);

constexpr size_t kSeqDigits = 16;

}  // namespace

std::string EncodeWalSegmentHeader(const WalSegmentHeader& header) {
  std::string out;
  out.reserve(kWalSegmentHeaderSize);
  out.append(kWalMagic);
  PutFixed32(&out, header.version);
  PutFixed32(&out, header.flags);
  PutFixed64(&out, header.seq);
  PutFixed64(&out, static_cast<uint64_t>(header.created_unix_nanos));
  PutFixed32(&out, Checksum32(out));
  return out;
}

WalHeaderParse ParseWalSegmentHeader(std::string_view bytes) {
  WalHeaderParse result;
  if (bytes.size() < kWalSegmentHeaderSize) return result;  // kIncomplete
  bytes = bytes.substr(0, kWalSegmentHeaderSize);
  if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; })) return result;
  if (bytes.substr(0, kWalMagic.size()) != kWalMagic) {
    result.status = WalHeaderStatus::kBadMagic;
    return result;
  }
  const char* p = bytes.data();
  if (Checksum32(bytes.substr(0, kHeaderChecksumOffset)) !=
      DecodeFixed32(p + kHeaderChecksumOffset)) {
    result.status = WalHeaderStatus::kBadChecksum;
    return result;
  }
  result.header.version = DecodeFixed32(p + kVersionOffset);
  result.header.flags = DecodeFixed32(p + kFlagsOffset);
  result.header.seq = DecodeFixed64(p + kSeqOffset);
  result.header.created_unix_nanos = static_cast<int64_t>(DecodeFixed64(p + kCreatedOffset));
  result.status = (result.header.version != kWalFormatVersion || result.header.flags != 0)
                      ? WalHeaderStatus::kUnsupportedVersion
                      : WalHeaderStatus::kOk;
  return result;
}

uint64_t WalRecordHash(uint32_t length, uint8_t type, std::string_view payload_head,
                       std::string_view payload_tail) {
  char prefix[5];
  EncodeFixed32(prefix, length);
  prefix[4] = static_cast<char>(type);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, prefix, sizeof(prefix));
  XXH3_64bits_update(&state, payload_head.data(), payload_head.size());
  XXH3_64bits_update(&state, payload_tail.data(), payload_tail.size());
  return XXH3_64bits_digest(&state);
}

uint64_t WalSegmentMask(uint64_t seq) {
  char buf[8];
  EncodeFixed64(buf, seq);
  return XXH3_64bits(buf, sizeof(buf));
}

std::string EncodeWalRecord(uint64_t segment_mask, uint8_t type, std::string_view payload) {
  const auto length = static_cast<uint32_t>(payload.size());
  std::string out;
  out.reserve(kWalRecordHeaderSize + payload.size());
  PutFixed32(&out, WalRecordChecksum(WalRecordHash(length, type, payload, {}), segment_mask));
  PutFixed32(&out, length);
  out.push_back(static_cast<char>(type));
  out.append(payload);
  return out;
}

std::string WalSegmentFileName(uint64_t seq, std::string_view suffix) {
  std::string name = absl::StrFormat("%016u", seq);
  name.append(suffix);
  return name;
}

std::optional<uint64_t> ParseWalSegmentFileName(std::string_view name, std::string_view suffix) {
  if (name.size() != kSeqDigits + suffix.size() || name.substr(kSeqDigits) != suffix) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (size_t i = 0; i < kSeqDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return seq;
}

std::string WalSegmentPath(std::string_view dir, uint64_t seq, std::string_view suffix) {
  return JoinPath(dir, WalSegmentFileName(seq, suffix));
}

absl::StatusOr<std::vector<uint64_t>> ListWalSegments(Env& env, const std::string& dir,
                                                      std::string_view suffix) {
  std::vector<uint64_t> seqs;
  if (!env.FileExists(dir)) return seqs;
  absl::StatusOr<std::vector<std::string>> names = env.GetChildren(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (std::optional<uint64_t> seq = ParseWalSegmentFileName(name, suffix)) seqs.push_back(*seq);
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

}  // namespace strand
