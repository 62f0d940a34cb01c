// WalWriter: appends records to the write-ahead log with group commit.
//
// The store's write-ahead log and the collector's persistent queue both write through it
// (each in its own directory, with its own segment file suffix).
//
// Contract:
//   - Open() always starts a new segment after the highest one in `dir` (at once, or before
//     the first group with WalOptions::create_segment_at_open false); it never appends to
//     an existing segment (replay them first with ReplayWal, or read them with WalReader).
//   - Append() queues a record and returns at once. One background writer thread takes
//     everything queued, writes it with one vectored write, issues ONE fdatasync for the
//     whole group (unless WalOptions::sync is false) and then runs every record's `done`
//     with OK or with the error that hit the group. AppendLocated() is the same, and its
//     callback also learns where the record is (segment seq and offset), for reading it
//     back alone later with WalReader::RecordAt. OK from `done` means the record is
//     durable ("acknowledged means durable").
//   - `done` runs exactly once: on the writer thread normally, or synchronously inside
//     Append() when the record is refused up front (queue full -> Unavailable, writer
//     closed -> FailedPrecondition, type 0 or oversized -> InvalidArgument). Callbacks
//     must be short and must not block on the WAL (no AppendSync, Rotate or Close from a
//     callback; those return FailedPrecondition if tried); Append() from one is fine.
//   - Records reach disk in the order their Append() calls took the queue lock; callbacks
//     run in that order.
//   - A group never spans segments. Before writing a group the writer rotates if the
//     current segment has reached WalOptions::segment_size_limit. A new segment's header
//     is fsynced and then its directory, before any record goes into it.
//   - After a failed write or sync the segment is abandoned: the writer closes it, trims
//     it back to its last durable length (best effort) and puts the next group into a new
//     segment, so one I/O error fails one group, not the log. If a new segment cannot be
//     created, groups fail until one can.
//
// Thread safety: all public methods are thread-safe. Ownership: the Env must outlive the
// writer. The body passed to Append must stay valid until its `done` has run.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/env.h"
#include "wal/wal_format.h"

namespace strand {

struct WalOptions {
  // Rotate to a new segment once the current one holds at least this many bytes.
  uint64_t segment_size_limit = 128ull << 20;
  // false relaxes durability: `done` runs once the group is handed to the OS (survives a
  // process crash, not a power cut). Segments are still fsynced on rotation and Close.
  bool sync = true;
  // Bytes (record headers + payloads) accepted but not yet written (and synced). An
  // Append that would exceed it fails with Unavailable, except when nothing is queued.
  uint64_t max_queued_bytes = 64ull << 20;
  // Source of segment creation times and fsync latency. Not owned; must outlive the writer.
  Clock* clock = Clock::Real();
  // Segment file names are <seq as 16 digits><segment_suffix>.
  std::string segment_suffix = std::string(kWalSegmentSuffix);
  // false: Open() creates no segment; the first group creates it (so a run that writes
  // nothing leaves no file behind).
  bool create_segment_at_open = true;
};

// Where a record was written: its segment and the offset of its record header there.
struct WalLocation {
  uint64_t seq = 0;
  uint64_t offset = 0;
};

// Cumulative counters since Open. A plain struct so that callers can export it to any
// metrics system.
struct WalWriterCounters {
  uint64_t records_written = 0;   // records in groups that were written and synced
  uint64_t bytes_written = 0;     // their bytes on disk, record headers included
  uint64_t groups_written = 0;    // group commits that succeeded
  uint64_t syncs = 0;             // fdatasync calls for groups (segment creation not counted)
  uint64_t sync_nanos_total = 0;  // time spent in those calls
  uint64_t sync_nanos_max = 0;
  uint64_t segments_created = 0;  // including the one Open creates
  uint64_t records_rejected = 0;  // refused up front (queue full, closed, invalid)
  uint64_t records_failed = 0;    // accepted but failed by a write, sync or segment error
  uint64_t queued_bytes = 0;      // gauge: accepted, not yet written and synced
};

class WalWriter {
 public:
  using Callback = absl::AnyInvocable<void(absl::Status)>;
  // The location is meaningful only with an OK status.
  using LocatedCallback = absl::AnyInvocable<void(absl::Status, WalLocation)>;

  // Creates `dir` if needed and a new segment numbered one past the highest existing one
  // (1 in an empty directory), then starts the writer thread.
  static absl::StatusOr<std::unique_ptr<WalWriter>> Open(Env& env, std::string dir,
                                                         WalOptions options = {});

  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;
  // Close(), ignoring its status.
  ~WalWriter();

  // Queues a record of `type` (1..255) whose payload is `header` followed by `body`.
  // `body` is not copied: it must stay valid until `done` runs. A null `done` is allowed
  // (nobody is told the outcome).
  void Append(uint8_t type, std::string header, std::string_view body, Callback done);
  // Append() whose callback also receives the record's location.
  void AppendLocated(uint8_t type, std::string header, std::string_view body,
                     LocatedCallback done);
  // Append and wait for `done`. Must not be called from a callback.
  absl::Status AppendSync(uint8_t type, std::string header, std::string_view body = {});

  // Closes the current segment after everything queued before this call and starts a new
  // one; returns its seq. Records appended before Rotate() was called are in segments
  // below the returned seq; records appended after it returns are in that segment or
  // later ones.
  absl::StatusOr<uint64_t> Rotate();
  // Removes segment files with a seq below `seq` (never the segment being written), then
  // syncs the directory. For truncating the log once its records are stored elsewhere.
  absl::Status RemoveSegmentsBefore(uint64_t seq);
  // Removes the one segment `seq` (below current_segment(), else FailedPrecondition; a
  // missing file is fine), then syncs the directory. For users that drop segments out of
  // order, once every record in them is done with.
  absl::Status RemoveSegment(uint64_t seq);

  // Stops accepting records, writes and syncs everything queued, runs the callbacks,
  // fsyncs and closes the segment, and joins the writer thread. Idempotent; returns the
  // status of closing the last segment.
  absl::Status Close();

  // The seq of the segment being written (or about to be created after an I/O error).
  uint64_t current_segment() const;
  WalWriterCounters counters() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Entry;

  WalWriter(Env& env, std::string dir, WalOptions options, uint64_t first_seq);
  // Queues `entry` (its callback set) as a record of `type` with that payload, or runs
  // its callback with the reason it is refused.
  void Enqueue(uint8_t type, std::string header, std::string_view body, Entry&& entry);
  std::string SegmentPath(uint64_t seq) const;

  // Writer-thread side.
  void Run();
  void ProcessBatch(std::vector<Entry>& batch);
  void CommitGroup(std::span<Entry> group);
  void HandleRotate(Entry& entry);
  absl::Status OpenSegment();
  absl::Status CloseSegment();
  void AbandonSegment();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool OnWriterThread() const;
  void RecordCompletion(uint64_t records, uint64_t bytes, const absl::Status& status,
                        uint64_t sync_nanos, bool synced);

  Env& env_;
  const std::string dir_;
  const WalOptions options_;

  mutable absl::Mutex mu_;
  std::vector<Entry> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex close_mu_;  // serialises Close(); held while joining
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(close_mu_);

  mutable absl::Mutex counters_mu_;
  WalWriterCounters counters_ ABSL_GUARDED_BY(counters_mu_);
  // Lowest seq the writer may still write to; only grows.
  std::atomic<uint64_t> active_seq_;

  // Owned by the writer thread (and by Open before the thread starts); no lock.
  std::unique_ptr<WritableFile> file_;
  uint64_t next_seq_;          // seq for the next segment to create
  uint64_t file_seq_ = 0;      // seq of file_
  uint64_t segment_mask_ = 0;  // WalSegmentMask(file_seq_)
  // Bytes of file_ written without error (and synced, when options_.sync): the length an
  // abandoned segment is trimmed back to.
  uint64_t good_size_ = 0;
  absl::Status final_status_;  // set by Run() on exit, read by Close() after join

  std::thread thread_;
};

}  // namespace strand
