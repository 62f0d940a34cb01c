// ServiceMap: services and the calls between them, built from stored traces for the web
// UI's service map (GET /api/strand/service-map).
//
// A call is a span whose parent span belongs to another service (by the resource's
// service.name; spans without one count as "unknown"): an edge from the parent's service
// to the span's, counted once per such span. Its latency is the span's duration and it is
// an error when the span's status is ERROR. Nodes count every span of their service and
// its errors. Latency percentiles come from up to kMaxLatencySamples durations per edge
// (a uniform reservoir sample beyond that). Calls to services that send no spans
// themselves (databases seen only through client spans) do not appear.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "traceql/trace_view.h"

namespace strand::api {

class ServiceMap {
 public:
  static constexpr size_t kMaxLatencySamples = 4096;

  // Adds the spans of one trace (or of the part of it one store location holds).
  void Add(const traceql::TraceView& trace);

  // The JSON answer: {"nodes":[{"service","spans","errors"}], "edges":[{"client","server",
  // "calls","errors","error_rate","rate_per_second","latency_ms":{"p50","p90","p99"}}],
  // "traces":N,"truncated":bool}. `seconds` (> 0) turns calls into a rate.
  std::string ToJson(double seconds, bool truncated) const;

  uint64_t traces() const { return traces_; }

 private:
  struct Node {
    uint64_t spans = 0;
    uint64_t errors = 0;
  };
  struct Edge {
    uint64_t calls = 0;
    uint64_t errors = 0;
    std::vector<double> latency_ms;  // reservoir sample
  };

  std::map<std::string, Node> nodes_;
  std::map<std::pair<std::string, std::string>, Edge> edges_;
  uint64_t traces_ = 0;
  std::mt19937_64 rng_{0x5eed};
};

}  // namespace strand::api
