// PersistentQueue: a sending queue on disk (docs/format/persistent_queue.md), so that
// requests acknowledged to clients survive the backend being down and the collector being
// killed or restarted.
//
// The requests are records of a segment log (src/wal, the store's WAL format and writer):
// Offer() appends the request and accepts it once the log's group holding it is durable
// (one fsync for every request that arrived meanwhile; with `fsync: false`, once written).
// Pop() reads a request back from its segment by its location; Ack() records that it was
// sent (or given up) in the segment's ack file. A segment is deleted once the log writes
// to it no more and every request in it is acknowledged. Open() finds the requests a
// previous run left unacknowledged and offers them first, oldest first; damage (a torn
// record at the end of a segment after a crash mid-write) ends or skips what it covers.
// Requests still in version-1 segment files (an earlier Strand) are moved into the log at
// Open. At-least-once: a request sent just before a crash, whose ack was not yet written,
// is sent again.
//
// Capacity counts requests held and not yet acknowledged. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"
#include "common/metrics.h"
#include "pipeline/config/component.h"
#include "pipeline/queue/request_queue.h"
#include "wal/wal_writer.h"

namespace strand::pipeline {

class FileStorage;

class PersistentQueue : public RequestQueue {
 public:
  // The queue of exporter `exporter` under the storage's directory.
  static absl::StatusOr<std::unique_ptr<PersistentQueue>> Open(FileStorage& storage,
                                                               const ComponentId& exporter,
                                                               uint64_t capacity,
                                                               MetricsRegistry* metrics);
  // The same over any directory and Env (tests). `max_segment_bytes` starts a new segment.
  static absl::StatusOr<std::unique_ptr<PersistentQueue>> OpenDir(
      Env& env, std::string dir, uint64_t capacity, bool fsync,
      uint64_t max_segment_bytes = 32 << 20);
  ~PersistentQueue() override;

  void Offer(ExportRequest&& request, ConsumeDone sent, ConsumeDone accepted) override;
  std::optional<QueuedRequest> Pop(const Clock& clock, absl::Duration wait) override;
  void Ack(uint64_t id) override;
  uint64_t Size() const override;
  uint64_t Capacity() const override { return capacity_; }
  void Close() override;
  bool persistent() const override { return true; }

  // The log record type of a request.
  static constexpr uint8_t kRequestRecordType = 1;

  // Requests found unacknowledged at Open (in version-1 segments too).
  uint64_t recovered() const { return recovered_; }

  // Serialized form of a request (exposed for tests and the format doc).
  static std::string EncodeRecord(const ExportRequest& request);
  static absl::StatusOr<ExportRequest> DecodeRecord(std::string_view payload);

 private:
  struct Location {
    uint64_t segment;
    uint64_t offset;  // of the record in the segment
  };
  struct Segment {
    uint64_t records = 0;  // durable ones
    uint64_t acked = 0;
    // Found with damage that may have cost requests (bad header, corrupt records): kept
    // for inspection, never deleted.
    bool damaged = false;
    std::unique_ptr<WritableFile> acks;  // opened on first Ack
  };

  PersistentQueue(Env& env, std::string dir, uint64_t capacity)
      : env_(env), dir_(std::move(dir)), capacity_(capacity) {}
  // Reads the log's segments (all older than the writer's first one).
  absl::Status Recover(const std::vector<uint64_t>& segments);
  absl::Status RecoverSegment(uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the unacknowledged requests of version-1 segment files into the log, oldest
  // segment first, and deletes each file once its requests are durable in the log.
  absl::Status MigrateVersion1();
  // The log's answer for an appended request (on the log's thread).
  void Written(const absl::Status& status, WalLocation location, const ConsumeDone& accepted);
  absl::StatusOr<ExportRequest> Read(const Location& location) const;
  bool PopReady() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !ready_.empty() || closed_; }
  std::string SegmentPath(uint64_t seq) const;
  std::string AckPath(uint64_t seq) const;
  void MaybeDelete(uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env& env_;
  const std::string dir_;
  const uint64_t capacity_;
  uint64_t recovered_ = 0;
  std::unique_ptr<WalWriter> log_;

  mutable absl::Mutex mu_;
  std::deque<Location> ready_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Location> popped_ ABSL_GUARDED_BY(mu_);  // by request id
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Segment> segments_ ABSL_GUARDED_BY(mu_);
  uint64_t newest_written_ ABSL_GUARDED_BY(mu_) = 0;  // segment of the latest durable request
  uint64_t held_ ABSL_GUARDED_BY(mu_) = 0;  // being written + ready + popped, not yet acked
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;  // the latest append failed (logged once)
};

}  // namespace strand::pipeline
