// The segment log's on-disk format, shared by WalWriter and WalReader: the store's
// write-ahead log and the collector's persistent queue are both written in it. The
// byte-level specification is docs/format/wal.md (format version 1); keep the two in step.
//
//   segment file  <dir>/<seq as 16 decimal digits><suffix>   (suffix ".wal" for the WAL)
//   segment       = header (36 bytes) record*
//   header        = "STRNDWAL" u32 version u32 flags u64 seq i64 created_unix_nanos
//                   u32 header_checksum            (little-endian)
//   record        = u32 checksum u32 length u8 type byte[length]
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"

namespace strand {

inline constexpr std::string_view kWalMagic = "STRNDWAL";
// The file name suffix of the store's WAL segments. Other users of the log pick their own
// (the persistent queue: ".seg"), so that a directory's files say what they hold.
inline constexpr std::string_view kWalSegmentSuffix = ".wal";
inline constexpr uint32_t kWalFormatVersion = 1;
inline constexpr size_t kWalSegmentHeaderSize = 36;
inline constexpr size_t kWalRecordHeaderSize = 9;
// Largest payload (header + body) of one record. Larger lengths on disk are corruption.
inline constexpr uint32_t kWalMaxPayloadSize = 256u << 20;

struct WalSegmentHeader {
  uint32_t version = kWalFormatVersion;
  uint32_t flags = 0;
  uint64_t seq = 0;
  int64_t created_unix_nanos = 0;
};

std::string EncodeWalSegmentHeader(const WalSegmentHeader& header);

enum class WalHeaderStatus {
  kOk,
  kIncomplete,          // shorter than a header, or all zero: a crash during creation
  kBadMagic,            // not a Strand WAL segment, or damaged
  kBadChecksum,         // damaged
  kUnsupportedVersion,  // written by a newer format version (or unknown flags)
  kSeqMismatch,         // valid, but its seq differs from the file name (set by WalReader)
};

struct WalHeaderParse {
  WalHeaderStatus status = WalHeaderStatus::kIncomplete;
  WalSegmentHeader header;  // meaningful when status is kOk or kUnsupportedVersion
};

// Parses the first bytes of a segment (pass at least kWalSegmentHeaderSize bytes if the
// file has them). Never fails on arbitrary input.
WalHeaderParse ParseWalSegmentHeader(std::string_view bytes);

// XXH3-64 (seed 0) over the checksummed part of a record: length, type, payload.
// `payload` is given in two pieces (the header and body passed to WalWriter::Append).
uint64_t WalRecordHash(uint32_t length, uint8_t type, std::string_view payload_head,
                       std::string_view payload_tail);
// The per-segment value mixed into record checksums: XXH3-64 of the 8-byte seq.
uint64_t WalSegmentMask(uint64_t seq);
inline uint32_t WalRecordChecksum(uint64_t record_hash, uint64_t segment_mask) {
  return static_cast<uint32_t>(record_hash ^ segment_mask);
}

// One whole record as it appears in a segment whose mask is `segment_mask` (WalWriter
// writes the same bytes without first copying the payload together).
std::string EncodeWalRecord(uint64_t segment_mask, uint8_t type, std::string_view payload);

// "0000000000000042.wal" (with the default suffix).
std::string WalSegmentFileName(uint64_t seq, std::string_view suffix = kWalSegmentSuffix);
// The seq of a segment file name, or nullopt for any other name.
std::optional<uint64_t> ParseWalSegmentFileName(std::string_view name,
                                                std::string_view suffix = kWalSegmentSuffix);
std::string WalSegmentPath(std::string_view dir, uint64_t seq,
                           std::string_view suffix = kWalSegmentSuffix);
// Seqs of the segment files in `dir`, ascending. Other files are ignored. A missing
// directory has no segments.
absl::StatusOr<std::vector<uint64_t>> ListWalSegments(Env& env, const std::string& dir,
                                                      std::string_view suffix = kWalSegmentSuffix);

}  // namespace strand
