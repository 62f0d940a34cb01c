// HttpWorker: OTLP/HTTP (protobuf or JSON) over libcurl's multi interface: one easy
// handle per in-flight slot, each reusing its keep-alive connection, all driven by one
// thread. Paced to its share of the target rate. Not thread-safe: Run() once, from one
// thread.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "loadgen/gzip_compressor.h"
#include "loadgen/load_config.h"
#include "loadgen/request_pool.h"
#include "loadgen/run_stats.h"
#include "testdata/rng.h"

namespace strand::loadgen {

class HttpWorker {
 public:
  using Clock = std::chrono::steady_clock;

  // `config`, `pool`, `sequence` (the run's shared request counter) and `live` must
  // outlive this.
  HttpWorker(const LoadConfig& config, const RequestPool& pool, std::atomic<uint64_t>& sequence,
             LiveCounters& live, int index);
  ~HttpWorker();
  HttpWorker(const HttpWorker&) = delete;
  HttpWorker& operator=(const HttpWorker&) = delete;

  // Sends until `stop`, then waits for the requests in flight and returns what it saw.
  // Fails only if libcurl cannot be set up.
  absl::StatusOr<RunStats> Run(double requests_per_second, Clock::time_point stop);

 private:
  struct Transfer {
    CURL* easy = nullptr;
    std::string body;      // the rendered request
    std::string wire;      // its gzip form, when compressing
    std::string response;  // the answer's body
    Clock::time_point sent_at;
    uint64_t sequence = 0;
    bool busy = false;
    char error[CURL_ERROR_SIZE] = {};
  };

  absl::Status Setup();
  absl::Status Start(Transfer& t);
  void Finish(Transfer& t, CURLcode result);
  static size_t OnData(char* data, size_t size, size_t n, void* user);

  const LoadConfig& config_;
  const RequestPool& pool_;
  std::atomic<uint64_t>& sequence_;
  LiveCounters& live_;
  const bool json_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string url_;
  std::vector<std::unique_ptr<Transfer>> transfers_;
  GzipCompressor gzip_;
  RunStats stats_;
  testdata::Rng rng_;
};

}  // namespace strand::loadgen
