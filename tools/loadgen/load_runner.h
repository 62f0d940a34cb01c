// LoadRunner: one load run — build the request pool, start the workers, send for the
// configured duration, drain, optionally read a sample of traces back — and the figures
// it produced. Progress lines go to stderr while it runs. Not thread-safe; Run() once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "loadgen/load_config.h"
#include "loadgen/run_stats.h"
#include "loadgen/trace_verifier.h"

namespace strand::loadgen {

// CPU time and memory of a process, from /proc/<pid>/stat and /proc/<pid>/status.
struct ProcessUsage {
  double cpu_seconds = 0;  // user + system
  uint64_t rss_kb = 0;
  uint64_t peak_rss_kb = 0;  // VmHWM
};
absl::StatusOr<ProcessUsage> ReadProcessUsage(int pid);

struct IntervalSample {
  double at_s = 0;  // end of the interval, from the start of sending
  double spans_per_s = 0;
  uint64_t failed_requests = 0;     // during the interval
  double server_cpu_fraction = -1;  // of one core; -1 when not measured
  double server_rss_mb = -1;
};

struct RunReport {
  LoadConfig config;
  RunStats stats;
  uint64_t spans_per_request = 0;
  double setup_s = 0;        // building the request pool
  double elapsed_s = 0;      // first send to last answer
  double loadgen_cpu_s = 0;  // this process, over elapsed_s
  double body_bytes_per_span = 0;
  double wire_bytes_per_span = 0;
  bool wire_bytes_estimated = false;  // gRPC compresses inside the library
  int connect_failures = 0;
  bool server_measured = false;
  ProcessUsage server_delta;  // cpu_seconds over the run; RSS at the end
  std::vector<IntervalSample> intervals;
  bool verified = false;
  VerifyResult verify;
};

class LoadRunner {
 public:
  explicit LoadRunner(LoadConfig config) : config_(std::move(config)) {}

  absl::StatusOr<RunReport> Run();

 private:
  LoadConfig config_;
};

}  // namespace strand::loadgen
