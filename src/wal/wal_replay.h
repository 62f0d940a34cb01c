// ReplayWal: reads every segment of a write-ahead log in seq order and hands each valid
// record to a callback; run it at start-up, before WalWriter::Open on the same directory
// (the two must never run on one directory at the same time).
//
// What it does with damage (see WalReader for how damage is classified):
//   - Torn tail of the NEWEST segment: the normal trace of a crash mid-write. The records
//     before it are replayed; with repair on, the segment is truncated at the end of the
//     last good record and the new length is made durable. Not data loss.
//   - Incomplete segment (shorter than a header, or an all-zero header): a crash while the
//     segment was being created; it cannot hold records. With repair on it is removed and
//     the directory synced. Not data loss.
//   - Torn tail of an OLDER segment: the records before it are replayed, the segment is
//     left as it is (evidence), replay continues with the next segment. Data loss.
//   - Corrupt records with valid records after them (any segment): skipped, replay goes
//     on within the segment. Data loss.
//   - Bad segment header (magic, checksum, seq not matching the name): the segment is
//     skipped and left as it is. Data loss.
//   - A segment of an unsupported format version: replay stops with FailedPrecondition
//     before calling `fn` for that segment (a downgrade must not silently drop data).
// Damage never fails the replay; it is reported in ReplayStats::damage and the caller
// decides (log it, count it, refuse to start). I/O errors and errors returned by `fn` stop
// the replay and are returned.
//
// Thread-safe in the sense that it keeps no state; `fn` runs on the calling thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/wal_reader.h"

namespace strand {

struct ReplayOptions {
  // Truncate the torn tail of the newest segment and remove incomplete segments. Off
  // means read-only.
  bool repair = true;
  // Skip segments with a lower seq (their records are already stored elsewhere).
  uint64_t min_seq = 0;
};

struct ReplayStats {
  uint64_t segments = 0;  // segments with a valid header that were read
  uint64_t records = 0;
  uint64_t payload_bytes = 0;
  uint64_t first_seq = 0;  // first and last segment read; 0 when none
  uint64_t last_seq = 0;
  uint64_t bytes_truncated = 0;
  uint64_t segments_removed = 0;
  std::vector<WalDamage> damage;

  // True if any damage may have lost acknowledged records.
  bool data_loss() const;
  // One line per damage entry, for logs.
  std::string DamageSummary() const;
};

// Calls `fn(type, payload)` for every valid record of the log in `dir`, oldest first. The
// payload view is valid only during the call. A missing directory is an empty log.
absl::StatusOr<ReplayStats> ReplayWal(
    Env& env, const std::string& dir,
    absl::FunctionRef<absl::Status(uint8_t type, std::string_view payload)> fn,
    const ReplayOptions& options = {});

}  // namespace strand
