// RequestSender: sends one OTLP ExportTraceServiceRequest to the next hop and says
// whether a failure is worth retrying. Implementations: otlp_grpc_sender.h,
// otlp_http_sender.h. Thread-safe; Send blocks for at most the timeout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace strand::pipeline {

struct SendResult {
  absl::Status status;
  bool retryable = false;
  int64_t retry_after_nanos = 0;  // the server's hint (RetryInfo, Retry-After); 0: none
  uint64_t rejected_spans = 0;    // from a partial success (not retried)
};

class RequestSender {
 public:
  virtual ~RequestSender() = default;
  virtual SendResult Send(std::string_view body, int64_t timeout_nanos) = 0;
  // For logs and zpages: "otlp (gRPC) to collector:4317".
  virtual std::string Describe() const = 0;
};

}  // namespace strand::pipeline
