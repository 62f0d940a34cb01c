#include "pipeline/queue/request_queue.h"

namespace strand::pipeline {

void MemoryQueue::Offer(ExportRequest&& request, ConsumeDone sent, ConsumeDone accepted) {
  MemoryLease lease(memory_);
  absl::Status status;
  if (request.body != nullptr) status = lease.TryResize(request.body->capacity(), "export queue");
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      status = absl::UnavailableError("exporter is shutting down; retry later");
    } else if (items_.size() >= capacity_) {
      status = absl::UnavailableError("sending queue is full; retry later");
    } else {
      items_.push_back({next_id_++, std::move(request), std::move(sent), std::move(lease)});
    }
  }
  accepted(std::move(status));
}

std::optional<QueuedRequest> MemoryQueue::Pop(const Clock& clock, absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  clock.AwaitWithTimeout(mu_, absl::Condition(this, &MemoryQueue::Ready),
                         absl::ToInt64Nanoseconds(wait));
  if (items_.empty()) return std::nullopt;
  QueuedRequest r = std::move(items_.front());
  items_.pop_front();
  return r;
}

uint64_t MemoryQueue::Size() const {
  absl::MutexLock lock(&mu_);
  return items_.size();
}

void MemoryQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace strand::pipeline
