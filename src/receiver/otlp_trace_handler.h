// OtlpTraceHandler: the protocol-independent half of the OTLP receivers. Decodes a
// request body, counts what was received and refused, and passes the batch on to the
// consumer. The gRPC and HTTP receivers only translate between their wire and this.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/memory_budget.h"
#include "common/metrics.h"
#include "overrides/overrides.h"
#include "overrides/rate_limiter.h"
#include "consumer/traces_consumer.h"

namespace strand::receiver {

enum class BodyFormat { kProtobuf, kJson };

struct ExportResult {
  absl::Status status;          // OK, or why the whole request failed
  uint64_t rejected_spans = 0;  // with OK: spans refused individually (partial success)
  std::string rejection_message;
  // With ResourceExhausted from a rate limit: when to retry (HTTP Retry-After, gRPC
  // RetryInfo); 0: no hint.
  int64_t retry_after_seconds = 0;
};

// The grpc-status-details-bin of a refusal the client may retry: a google.rpc.Status
// with `code`, `message` and a google.rpc.RetryInfo of `retry_after_seconds` (OTLP retries
// RESOURCE_EXHAUSTED only with RetryInfo).
std::string EncodeRetryableStatusDetails(absl::StatusCode code, std::string_view message,
                                         int64_t retry_after_seconds);

// The protobuf ExportTraceServiceResponse for `result`: empty on full success, else a
// partial_success with rejected_spans and error_message. Shared by both receivers.
std::string EncodeExportResponse(const ExportResult& result);

class OtlpTraceHandler {
 public:
  // `consumer`, `metrics` and `clock` must outlive the handler; so must `overrides` when
  // set (per-tenant limits: the ingestion rate limit, and partial success for spans the
  // consumer refuses by limit).
  OtlpTraceHandler(TracesConsumer& consumer, MetricsRegistry& metrics, Clock& clock,
                   overrides::Overrides* overrides = nullptr);

  // Decodes `body` and hands the spans on; `done` runs exactly once from any thread.
  // `protocol` labels metrics ("grpc", "http"). `lease` holds the body's memory from the
  // process's budget: it is resized to the decoded batch (refused with Unavailable when
  // the budget cannot give it) and held until the request is answered.
  void Export(const std::string& protocol, RequestContext&& ctx, BodyFormat format,
              std::string&& body, MemoryLease lease, std::function<void(ExportResult)> done);

  // Counts a request refused before decoding (bad method, too large, bad encoding, ...).
  void CountRefusedRequest(const std::string& protocol, const std::string& reason);

 private:
  struct ProtocolMetrics {
    Counter* spans_received;
    Counter* spans_accepted;
    Counter* spans_invalid;
    Histogram* latency;
  };
  ProtocolMetrics& For(const std::string& protocol);
  Counter* Refused(const std::string& protocol, const std::string& reason);

  // Counts spans the consumer refused by limit and adds them to the partial success.
  void AddRefusals(const std::string& protocol, const SpanRefusals& refused,
                   ExportResult& partial);
  // Takes the request's bytes from the tenant's rate limit: OK, or the refusal (its
  // `spans` counted as discarded).
  ExportResult RateLimit(const std::string& protocol, const std::string& tenant, uint64_t bytes,
                         uint64_t spans);

  TracesConsumer& consumer_;
  Clock& clock_;
  overrides::Overrides* const overrides_;  // may be null
  overrides::RateLimiter rate_limiter_;
  Family<Counter>* tenant_bytes_;           // {tenant}
  Family<Counter>* rate_limited_bytes_;     // {tenant}
  Family<Counter>* rate_limited_requests_;  // {tenant}
  Family<Counter>* discarded_spans_;        // {tenant, reason}
  Family<Counter>* received_;
  Family<Counter>* accepted_;
  Family<Counter>* refused_spans_;
  Family<Counter>* refused_requests_;
  Family<Histogram>* latency_;
  ProtocolMetrics grpc_, http_;
};

}  // namespace strand::receiver
