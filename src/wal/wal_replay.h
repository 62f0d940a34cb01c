// ReplayWal: reads every segment of a write-ahead log in seq order and hands each valid
// record to a callback; run it at start-up, before WalWriter::Open on the same directory
// (the two must never run on one directory at the same time).
//
// Every valid record is replayed, whatever damage surrounds it (see WalReader for how
// damage is classified). Then, with repair on, nothing that could hold an acknowledged
// record is deleted (docs/format/wal.md, "Recovery"):
//   - Incomplete NEWEST segment of at most a header's size: a crash while it was being
//     created; it never held a record. Removed, the directory synced. Not data loss.
//   - Torn tail of the NEWEST segment: the normal trace of a crash mid-write. Its bytes
//     are saved to quarantine (unless all zero), then the segment is truncated at the end
//     of the last good record and the new length made durable. Not data loss.
//   - Anything else (a bad or missing header, a header-less segment that is not the
//     newest, corrupt records, a torn tail of an older segment) is data loss: the segment
//     is moved to quarantine when none of its records was replayed, else copied there and
//     left in the log (it is the durable copy of the replayed records).
//   - A segment of an unsupported format version: replay stops with FailedPrecondition
//     before calling `fn` for that segment (a downgrade must not silently drop data).
// Without a quarantine directory damaged segments stay where they are. Damage never fails
// the replay; it is reported in ReplayStats (per damage and per segment) and the caller
// decides (log it, count it, refuse to start). I/O errors (quarantining included) and
// errors returned by `fn` stop the replay and are returned.
//
// Thread-safe in the sense that it keeps no state; `fn` runs on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/wal_reader.h"

namespace strand {

struct ReplayOptions {
  // Truncate the torn tail of the newest segment, remove an empty incomplete newest
  // segment and keep damaged segments in `quarantine_dir`. Off means read-only: nothing
  // on disk changes.
  bool repair = true;
  // Skip segments with a lower seq (their records are already stored elsewhere).
  uint64_t min_seq = 0;
  // Where damaged segments, and torn tails that hold data, are kept (see WalQuarantine);
  // created when first needed. Empty: nowhere; damaged segments then stay where they are
  // and torn tails are truncated without a copy.
  std::string quarantine_dir;
  // Called with a segment's seq before its records (if any) go to `fn`, for every
  // segment read, so the caller can attribute what it restores to segments. May be empty.
  std::function<void(uint64_t seq)> on_segment;
};

// What replay found in, and did with, one damaged segment.
struct WalSegmentReport {
  enum class Kept {
    kNone,    // nothing kept: no quarantine directory, read-only, or nothing worth keeping
    kTail,    // the torn tail cut off the newest segment was saved before the truncation
    kMoved,   // the segment was moved to quarantine (none of its records was replayed)
    kCopied,  // the segment was copied to quarantine; it stays in the log because records
              // replayed from it live there until the caller has stored them elsewhere
  };
  uint64_t seq = 0;
  bool newest = false;
  uint64_t file_size = 0;
  uint64_t records = 0;        // valid records replayed from it
  uint64_t payload_bytes = 0;  // their payload bytes
  uint64_t bytes_damaged = 0;  // bytes not replayed: damaged records, tail, or the whole file
  bool data_loss = false;      // acknowledged records may be among the damaged bytes
  bool removed = false;        // an incomplete newest segment holding nothing: removed
  bool truncated = false;      // the newest segment's torn tail was truncated away
  Kept kept = Kept::kNone;
  std::string kept_at;       // the file in quarantine, when kept != kNone
  bool kept_before = false;  // that file was already there, same bytes (an earlier start)
};

struct ReplayStats {
  uint64_t segments = 0;  // segments with a valid header that were read
  uint64_t records = 0;
  uint64_t payload_bytes = 0;
  uint64_t first_seq = 0;  // first and last segment read; 0 when none
  uint64_t last_seq = 0;
  uint64_t bytes_truncated = 0;
  uint64_t segments_removed = 0;
  // Segments newly moved or copied to quarantine by this replay (not torn tails, not
  // segments whose identical copy was already there).
  uint64_t segments_quarantined = 0;
  std::vector<WalDamage> damage;
  std::vector<WalSegmentReport> damaged_segments;  // one per segment with damage, in order

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
