// RequestQueue: an exporter's sending queue. Offer() takes a request (Unavailable when
// the queue is full); consumers Pop() requests and Ack() each once it has been sent or
// given up. An in-memory queue forgets a request at Pop; a persistent queue
// (persistent_queue.h) keeps it on disk until Ack, and offers it again after a restart.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/memory_budget.h"
#include "pipeline/queue/export_request.h"

namespace strand::pipeline {

struct QueuedRequest {
  uint64_t id = 0;
  ExportRequest request;
  ConsumeDone done;  // set only when the queue is a holding line (queue disabled)
  MemoryLease lease;  // an in-memory queue's hold on the body, from the memory budget
};

class RequestQueue {
 public:
  virtual ~RequestQueue() = default;
  // Takes a request; `accepted` runs once, from any thread, with OK once the queue holds
  // it (on disk, for a persistent queue) or Unavailable when it is full or closed.
  // `sent` (may be null) travels with the request to the consumer that sends it.
  virtual void Offer(ExportRequest&& request, ConsumeDone sent, ConsumeDone accepted) = 0;
  // The oldest request, waiting up to `wait` of `clock`'s time (absl::InfiniteDuration():
  // no limit); nullopt on timeout or once closed and empty.
  virtual std::optional<QueuedRequest> Pop(const Clock& clock, absl::Duration wait) = 0;
  virtual void Ack(uint64_t id) = 0;
  virtual uint64_t Size() const = 0;
  virtual uint64_t Capacity() const = 0;
  // Wakes waiting consumers; later Offers fail.
  virtual void Close() = 0;
  // Whether the queue keeps unacknowledged requests across restarts (then a send cut
  // short by shutdown must not be acknowledged: the next run sends it).
  virtual bool persistent() const { return false; }
};

class MemoryQueue : public RequestQueue {
 public:
  // `memory` (the process's limit; may be null) is charged with each request's body
  // while the request is queued or being sent; past it Offer refuses with Unavailable.
  explicit MemoryQueue(uint64_t capacity, MemoryBudget* memory = nullptr)
      : capacity_(capacity), memory_(memory) {}
  void Offer(ExportRequest&& request, ConsumeDone sent, ConsumeDone accepted) override;
  std::optional<QueuedRequest> Pop(const Clock& clock, absl::Duration wait) override;
  void Ack(uint64_t /*id*/) override {}
  uint64_t Size() const override;
  uint64_t Capacity() const override { return capacity_; }
  void Close() override;

 private:
  bool Ready() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !items_.empty() || closed_; }

  const uint64_t capacity_;
  MemoryBudget* const memory_;
  mutable absl::Mutex mu_;
  std::deque<QueuedRequest> items_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace strand::pipeline
