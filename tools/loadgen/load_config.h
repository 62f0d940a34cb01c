// LoadConfig: everything a load run needs, as parsed from strand-loadgen's flags.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "testdata/trace_generator.h"

namespace strand::loadgen {

enum class Protocol { kGrpc, kHttp, kHttpJson };

inline const char* ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kHttp:
      return "http";
    case Protocol::kHttpJson:
      return "http-json";
  }
  return "?";
}

struct LoadConfig {
  std::string endpoint = "127.0.0.1:4317";  // host:port
  Protocol protocol = Protocol::kGrpc;
  int workers = 1;
  int inflight = 8;  // per worker
  double rate = 0;   // spans per second over all workers; 0 = as fast as acknowledged
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);  // per request
  testdata::GeneratorOptions generator;
  size_t pool_size = 32;
  uint64_t id_salt = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  bool gzip = false;
  std::string verify_url;  // http://host:3200; empty = no read-back check
  int verify_sample = 0;
  std::string json_out;
  int server_pid = 0;  // when set, the server's CPU time and RSS are reported
  std::chrono::nanoseconds report_interval = std::chrono::seconds(5);  // progress lines; 0 = off
  std::string command_line;  // recorded in the JSON summary
};

}  // namespace strand::loadgen
