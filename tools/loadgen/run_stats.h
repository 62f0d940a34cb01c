// RunStats: what one worker observed — requests and spans sent, acknowledged, rejected and
// failed, failures by status, latency, bytes — plus a uniform sample of acknowledged
// requests for the read-back check. Workers keep their own and the runner merges them.
// Thread-compatible.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "loadgen/latency_histogram.h"
#include "testdata/rng.h"

namespace strand::loadgen {

// Counters the runner reads while workers run, for progress lines. Thread-safe.
struct LiveCounters {
  std::atomic<uint64_t> spans_acked{0};
  std::atomic<uint64_t> requests_failed{0};
};

struct RunStats {
  uint64_t requests_sent = 0;
  uint64_t requests_ok = 0;  // OK, including partial successes
  uint64_t requests_failed = 0;
  uint64_t spans_sent = 0;
  uint64_t spans_acked = 0;                  // in OK answers, minus partial-success rejections
  uint64_t spans_rejected = 0;               // partial-success rejected_spans
  uint64_t spans_failed = 0;                 // in failed requests
  uint64_t body_bytes = 0;                   // request bodies before compression
  uint64_t wire_bytes = 0;                   // request bodies as sent (after compression)
  std::map<std::string, uint64_t> failures;  // status ("UNAVAILABLE", "http 503") → count
  std::map<std::string, std::string> failure_messages;  // status → first message seen
  LatencyHistogram latency;                             // of every completed request

  // Reservoir sample of acknowledged request sequence numbers.
  std::vector<uint64_t> acked_sample;
  uint64_t acked_seen = 0;

  void RecordFailure(const std::string& status, const std::string& message, uint64_t spans);
  // Adds `sequence` to the reservoir of at most `capacity` entries.
  void SampleAck(uint64_t sequence, size_t capacity, testdata::Rng& rng);
  // Adds `other` in. The merged reservoir stays a fair sample of both.
  void Merge(const RunStats& other, size_t capacity, testdata::Rng& rng);
};

}  // namespace strand::loadgen
