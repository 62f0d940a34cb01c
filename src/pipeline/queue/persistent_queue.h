// PersistentQueue: a sending queue on disk (docs/format/persistent_queue.md), so that
// requests acknowledged to clients survive the backend being down and the collector being
// killed or restarted.
//
// Offer() hands the request to one writer thread that appends it to the current segment
// file and syncs (one fsync for every request that arrived meanwhile), then accepts it.
// Pop() reads a request back from its segment; Ack() records that it was sent (or given
// up) in the segment's ack file. A segment is deleted once it is no longer written and
// every request in it is acknowledged. Open() finds the requests a previous run left
// unacknowledged and offers them first, oldest first; a torn record at the end of a
// segment (a crash mid-write) ends that segment. At-least-once: a request sent just
// before a crash, whose ack was not yet written, is sent again.
//
// Capacity counts requests held and not yet acknowledged. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"
#include "common/metrics.h"
#include "pipeline/config/component.h"
#include "pipeline/queue/request_queue.h"

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

  // Requests found unacknowledged at Open.
  uint64_t recovered() const { return recovered_; }

  // Serialized form of a request (exposed for tests and the format doc).
  static std::string EncodeRecord(const ExportRequest& request);
  static absl::StatusOr<ExportRequest> DecodeRecord(std::string_view payload);

 private:
  struct Location {
    uint32_t segment;
    uint32_t index;
    uint64_t offset;  // of the payload
    uint32_t length;
  };
  struct Segment {
    uint32_t records = 0;
    uint32_t acked = 0;
    bool active = false;
    std::unique_ptr<WritableFile> acks;  // opened on first Ack
  };
  struct Pending {
    std::string payload;
    ConsumeDone accepted;
  };

  PersistentQueue(Env& env, std::string dir, uint64_t capacity, bool fsync,
                  uint64_t max_segment_bytes)
      : env_(env),
        dir_(std::move(dir)),
        capacity_(capacity),
        fsync_(fsync),
        max_segment_bytes_(max_segment_bytes) {}
  absl::Status Recover();
  // Closes the segment being written (the writer's), so it is deleted once acknowledged.
  void CloseSegment();
  absl::Status StartSegment();
  // Syncs (or flushes, without fsync) the segment being written and hands `written`, its
  // newest records, to Pop.
  absl::Status Publish(const std::vector<Location>& written);
  void RunWriter();
  bool WriterReady() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !pending_.empty() || closed_; }
  bool PopReady() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !ready_.empty() || closed_; }
  std::string SegmentPath(uint32_t seg) const;
  std::string AckPath(uint32_t seg) const;
  void MaybeDelete(uint32_t seg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env& env_;
  const std::string dir_;
  const uint64_t capacity_;
  const bool fsync_;
  const uint64_t max_segment_bytes_;
  uint64_t recovered_ = 0;

  mutable absl::Mutex mu_;
  std::vector<Pending> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<Location> ready_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, Segment> segments_ ABSL_GUARDED_BY(mu_);
  uint64_t held_ ABSL_GUARDED_BY(mu_) = 0;  // pending + ready + popped, not yet acked
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  // Owned by the writer thread (and by Open before it starts); no lock.
  std::unique_ptr<WritableFile> file_;
  uint32_t file_segment_ = 0;
  uint32_t file_records_ = 0;
  uint32_t next_segment_ = 1;
  std::thread writer_;
};

}  // namespace strand::pipeline
