// TraceVerifier: reads traces back through the Tempo API (GET <base>/api/traces/<hex>,
// protobuf answer) and checks that each came back whole: the same number of spans and the
// same span IDs as were sent. Thread-compatible; uses libcurl's easy interface.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "loadgen/request_pool.h"

namespace strand::loadgen {

struct VerifyResult {
  int checked = 0;
  int complete = 0;                   // every span back, nothing extra
  int missing = 0;                    // 404
  int incomplete = 0;                 // found, but spans missing or extra
  int errors = 0;                     // other statuses, transport errors, undecodable answers
  std::vector<std::string> problems;  // the first few, for the report
};

class TraceVerifier {
 public:
  // `base_url` like "http://127.0.0.1:3200"; `headers` are sent with every request
  // (X-Scope-OrgID for a multi-tenant server).
  TraceVerifier(std::string base_url, std::vector<std::pair<std::string, std::string>> headers,
                std::chrono::milliseconds timeout);

  VerifyResult Verify(const std::vector<SentTrace>& traces) const;

 private:
  std::string base_url_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::chrono::milliseconds timeout_;
};

}  // namespace strand::loadgen
