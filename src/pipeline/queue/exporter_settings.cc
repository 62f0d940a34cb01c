#include "pipeline/queue/exporter_settings.h"

namespace strand::pipeline {

void ParseSenderSettings(ConfigMap& map, SenderSettings& out) {
  map.ReadDuration("timeout", out.timeout_nanos);
  ConfigMap q = map.Sub("sending_queue");
  q.Read("enabled", out.queue.enabled);
  q.Read("num_consumers", out.queue.num_consumers);
  q.Read("queue_size", out.queue.queue_size);
  std::string storage;
  q.Read("storage", storage);
  if (!storage.empty()) {
    auto id = ComponentId::Parse(storage);
    if (!id.ok()) {
      q.Fail("storage", std::string(id.status().message()));
    } else {
      out.queue.storage = *id;
    }
  }
  std::string sizer = "requests";
  q.Read("sizer", sizer);
  if (sizer != "requests") q.Fail("sizer", "not supported: Strand's queues count requests");
  q.Unsupported("batch", "batching in the queue; use the batch processor");
  q.Unsupported("blocking", "a blocking queue; a full queue refuses with a retryable error");
  if (auto s = q.Finish(); !s.ok()) return;

  ConfigMap r = map.Sub("retry_on_failure");
  r.Read("enabled", out.retry.enabled);
  r.ReadDuration("initial_interval", out.retry.initial_interval_nanos);
  r.Read("randomization_factor", out.retry.randomization_factor);
  r.Read("multiplier", out.retry.multiplier);
  r.ReadDuration("max_interval", out.retry.max_interval_nanos);
  r.ReadDuration("max_elapsed_time", out.retry.max_elapsed_time_nanos);
  (void)r.Finish();
}

absl::Status ValidateSenderSettings(const SenderSettings& s) {
  if (s.timeout_nanos < 0) return absl::InvalidArgumentError("timeout must not be negative");
  if (s.queue.enabled) {
    if (s.queue.num_consumers < 1 || s.queue.num_consumers > 1000) {
      return absl::InvalidArgumentError("sending_queue::num_consumers must be 1 to 1000");
    }
    if (s.queue.queue_size == 0) {
      return absl::InvalidArgumentError("sending_queue::queue_size must be positive");
    }
  }
  if (s.retry.enabled) {
    if (s.retry.initial_interval_nanos <= 0) {
      return absl::InvalidArgumentError("retry_on_failure::initial_interval must be positive");
    }
    if (s.retry.multiplier < 1) {
      return absl::InvalidArgumentError("retry_on_failure::multiplier must be at least 1");
    }
    if (s.retry.randomization_factor < 0 || s.retry.randomization_factor > 1) {
      return absl::InvalidArgumentError(
          "retry_on_failure::randomization_factor must be between 0 and 1");
    }
  }
  return absl::OkStatus();
}

}  // namespace strand::pipeline
