#include "loadgen/run_stats.h"

#include <utility>

namespace strand::loadgen {

void RunStats::RecordFailure(const std::string& status, const std::string& message,
                             uint64_t spans) {
  ++requests_failed;
  spans_failed += spans;
  ++failures[status];
  failure_messages.try_emplace(status, message);
}

void RunStats::SampleAck(uint64_t sequence, size_t capacity, testdata::Rng& rng) {
  ++acked_seen;
  if (capacity == 0) return;
  if (acked_sample.size() < capacity) {
    acked_sample.push_back(sequence);
    return;
  }
  const uint64_t slot = rng.Below(acked_seen);
  if (slot < capacity) acked_sample[slot] = sequence;
}

void RunStats::Merge(const RunStats& other, size_t capacity, testdata::Rng& rng) {
  requests_sent += other.requests_sent;
  requests_ok += other.requests_ok;
  requests_failed += other.requests_failed;
  spans_sent += other.spans_sent;
  spans_acked += other.spans_acked;
  spans_rejected += other.spans_rejected;
  spans_failed += other.spans_failed;
  body_bytes += other.body_bytes;
  wire_bytes += other.wire_bytes;
  for (const auto& [status, n] : other.failures) failures[status] += n;
  for (const auto& [status, message] : other.failure_messages) {
    failure_messages.try_emplace(status, message);
  }
  latency.Merge(other.latency);

  // Draw each slot of the merged sample from one side with probability proportional to
  // how many acknowledgements that side saw.
  std::vector<uint64_t> a = std::move(acked_sample), b = other.acked_sample;
  uint64_t seen_a = acked_seen, seen_b = other.acked_seen;
  acked_sample.clear();
  acked_seen = seen_a + seen_b;
  while (acked_sample.size() < capacity && (!a.empty() || !b.empty())) {
    const bool from_a = b.empty() || (!a.empty() && rng.Below(seen_a + seen_b) < seen_a);
    std::vector<uint64_t>& from = from_a ? a : b;
    const size_t pick = rng.Below(from.size());
    acked_sample.push_back(from[pick]);
    from[pick] = from.back();
    from.pop_back();
  }
}

}  // namespace strand::loadgen
