// Settings every sending exporter shares (the collector's exporterhelper):
// `timeout`, `sending_queue` and `retry_on_failure`, with otelcol's defaults.
#pragma once

#include <cstdint>
#include <optional>

#include "pipeline/config/component.h"

namespace strand::pipeline {

struct QueueSettings {
  bool enabled = true;
  int num_consumers = 10;
  uint64_t queue_size = 1000;          // requests
  std::optional<ComponentId> storage;  // a file_storage extension: persistent queue
};

struct RetrySettings {
  bool enabled = true;
  int64_t initial_interval_nanos = 5'000'000'000;
  double randomization_factor = 0.5;
  double multiplier = 1.5;
  int64_t max_interval_nanos = 30'000'000'000;
  int64_t max_elapsed_time_nanos = 300'000'000'000;  // 0: retry forever
};

struct SenderSettings {
  int64_t timeout_nanos = 5'000'000'000;
  QueueSettings queue;
  RetrySettings retry;
};

// Reads `timeout`, `sending_queue` and `retry_on_failure` from an exporter's map.
void ParseSenderSettings(ConfigMap& map, SenderSettings& out);
absl::Status ValidateSenderSettings(const SenderSettings& s);

}  // namespace strand::pipeline
