// OtlpHttpSender: sends ExportTraceServiceRequests over OTLP/HTTP (the `otlphttp`
// exporter) with libcurl: POST to the traces URL, protobuf or JSON, optionally
// compressed. 429, 502, 503 and 504 are retryable (honouring Retry-After); other statuses
// are permanent; connection failures are retryable. Connections are kept alive and reused
// across sends. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "pipeline/exporter/otlp/otlp_grpc_sender.h"
#include "pipeline/queue/request_sender.h"

namespace strand::pipeline {

struct OtlpHttpSenderOptions {
  std::string url;  // the full traces URL
  TlsSettings tls;
  std::string compression = "gzip";  // gzip | zstd | deflate | snappy | none
  std::string encoding = "proto";    // proto | json
  std::map<std::string, std::string> headers;
  // Adds its credentials to every request when set (`auth`; they replace a header of the
  // same name from `headers`).
  std::shared_ptr<const auth::ClientAuthenticator> auth;
};

class OtlpHttpSender : public RequestSender {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpHttpSender>> Create(OtlpHttpSenderOptions options);
  ~OtlpHttpSender() override;
  SendResult Send(std::string_view body, int64_t timeout_nanos) override;
  std::string Describe() const override;

 private:
  OtlpHttpSender() = default;
  void* TakeHandle();
  void ReturnHandle(void* handle);

  OtlpHttpSenderOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // CURL* kept for connection reuse
};

}  // namespace strand::pipeline
