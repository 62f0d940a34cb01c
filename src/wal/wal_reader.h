// WalReader: reads the records of one write-ahead-log segment, in order, validating every
// byte (see docs/format/wal.md). Disk bytes are untrusted: damage never crashes or
// asserts, it ends the readable part of the segment or skips records, and is described in
// damage(). Only I/O errors come back as error statuses. ReplayWal (wal_replay.h) runs a
// WalReader over every segment of a log and decides what to repair.
//
// Damage handling inside a segment:
//   - A record whose bytes are all present but fail the checksum is skipped when a valid
//     record follows it (after at most kMaxSkippedRecords damaged records whose lengths
//     chain together): that is a corrupt record in the middle of the segment
//     (kCorruptRecords). Only its length field is trusted to find the next one.
//   - Otherwise the segment's readable data ends at the first damaged record: everything
//     from there on is the segment's tail (kTornTail): a short record header, a length
//     running past the end of the file, a bad checksum with nothing valid after it, zeros.
//
// Not thread-safe. The record returned by Next() or RecordAt() views an internal buffer
// and stays valid until the next call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/wal_format.h"

namespace strand {

enum class WalDamageKind {
  kTornTail,           // the segment ends in bytes that are not a valid record
  kCorruptRecords,     // damaged records skipped; valid records follow them
  kBadHeader,          // bad magic, bad header checksum or a seq that does not match the name
  kIncompleteSegment,  // no complete header: a crash while the segment was being created
};

const char* WalDamageKindName(WalDamageKind kind);

struct WalDamage {
  uint64_t segment_seq = 0;
  uint64_t offset = 0;  // first damaged byte in the segment file
  uint64_t length = 0;  // damaged bytes from `offset`
  WalDamageKind kind = WalDamageKind::kTornTail;
  std::string reason;
  // Acknowledged records may have been lost. The reader sets it for corrupt records and
  // bad headers; ReplayWal decides it for torn tails and incomplete segments, which are
  // the normal trace of a crash only in the newest segment.
  bool data_loss = false;
  // ReplayWal truncated or removed the damaged bytes.
  bool repaired = false;
};

struct WalRecordView {
  uint8_t type = 0;
  std::string_view payload;
  uint64_t offset = 0;  // of the record header in the segment file
};

// How a reader fetches bytes: kSequential reads ahead in large chunks (for Next());
// kRandomAccess reads exactly what it parses (for RecordAt() on a few records).
enum class WalReadMode { kSequential, kRandomAccess };

class WalReader {
 public:
  // Damaged records skipped in a row before giving up and treating the rest as the tail.
  static constexpr int kMaxSkippedRecords = 16;

  // Opens the segment at `path` and reads its header. The expected seq comes from the
  // file name when it parses as a segment name.
  static absl::StatusOr<std::unique_ptr<WalReader>> Open(Env& env, const std::string& path);
  // Reads a segment from an open file; `expected_seq` (if any) must match the header.
  static absl::StatusOr<std::unique_ptr<WalReader>> FromFile(
      std::unique_ptr<RandomAccessFile> file, std::optional<uint64_t> expected_seq,
      WalReadMode mode = WalReadMode::kSequential);

  WalHeaderStatus header_status() const { return header_status_; }
  // Meaningful when header_status() is kOk (or kUnsupportedVersion).
  const WalSegmentHeader& header() const { return header_; }
  // The seq from the header if valid, else the expected one, else 0.
  uint64_t segment_seq() const { return seq_; }
  uint64_t file_size() const { return file_size_; }

  // The next valid record, or nullopt at the end of the readable data (always nullopt
  // when the header is not kOk). Errors are I/O errors only.
  absl::StatusOr<std::optional<WalRecordView>> Next();

  // The record whose header starts at `offset` (a WalRecordView::offset, or a
  // WalLocation::offset from the writer), validated like any other. DataLoss when the
  // header is not kOk or no valid record starts there; other errors are I/O errors.
  // Independent of Next()'s position.
  absl::StatusOr<WalRecordView> RecordAt(uint64_t offset);

  // After Next() returned nullopt: the offset where readable data ends. Bytes from here to
  // file_size() are the damaged tail (if any).
  uint64_t valid_end() const { return valid_end_; }
  // Damage found so far: skipped records, the tail once reached, or the bad header.
  const std::vector<WalDamage>& damage() const { return damage_; }

 private:
  enum class ParseKind { kOk, kEnd, kShortHeader, kShortPayload, kBadLength, kBadChecksum };
  struct Parsed {
    ParseKind kind = ParseKind::kEnd;
    uint64_t size = 0;  // whole record, header included (when the length is usable)
    WalRecordView record;
    std::string reason;  // why it is not kOk
  };

  WalReader(std::unique_ptr<RandomAccessFile> file, std::optional<uint64_t> expected_seq,
            WalReadMode mode);
  absl::Status ReadHeader();
  absl::StatusOr<Parsed> ParseAt(uint64_t offset);
  // Bytes [offset, offset + n) of the file, fewer if the file is shorter.
  absl::StatusOr<std::string_view> ReadAt(uint64_t offset, uint64_t n);
  void EndAt(uint64_t offset, std::string reason);

  std::unique_ptr<RandomAccessFile> file_;
  const std::optional<uint64_t> expected_seq_;
  const WalReadMode mode_;
  const uint64_t file_size_;
  WalHeaderStatus header_status_ = WalHeaderStatus::kIncomplete;
  WalSegmentHeader header_;
  uint64_t seq_ = 0;
  uint64_t mask_ = 0;

  uint64_t offset_ = 0;
  bool done_ = false;
  uint64_t valid_end_ = 0;
  std::vector<WalDamage> damage_;

  // window_ holds file bytes [window_offset_, window_offset_ + window_.size()); it views
  // scratch_ or memory owned by file_.
  std::string scratch_;
  std::string_view window_;
  uint64_t window_offset_ = 0;
};

}  // namespace strand
