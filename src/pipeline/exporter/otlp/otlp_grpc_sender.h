// OtlpGrpcSender: sends ExportTraceServiceRequests over OTLP/gRPC (the `otlp` exporter).
// The request bytes go out as they are (a generic call, no protobuf parse). Failures are
// retryable as the OTLP specification says: UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED,
// ABORTED, OUT_OF_RANGE, DATA_LOSS, and RESOURCE_EXHAUSTED only when the server attached
// a RetryInfo (whose delay is then honoured). Thread-safe.
#pragma once

#include <grpcpp/generic/generic_stub.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "auth/authenticator.h"
#include "pipeline/queue/request_sender.h"

namespace strand::pipeline {

struct TlsSettings {
  bool insecure = false;  // plain text (no TLS)
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
  std::string server_name_override;
  std::string min_version;  // "", "1.2" or "1.3" (otlphttp); gRPC offers 1.2 and up
  std::string max_version;  // "", "1.2" (otlphttp) or "1.3"
};

struct OtlpGrpcSenderOptions {
  std::string endpoint;  // host:port (a leading http:// or https:// is dropped)
  TlsSettings tls;
  std::string compression = "gzip";  // gzip | none
  std::map<std::string, std::string> headers;
  // Adds its credentials to every call when set (`auth`; after `headers`, so they win).
  std::shared_ptr<const auth::ClientAuthenticator> auth;
};

class OtlpGrpcSender : public RequestSender {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpGrpcSender>> Create(OtlpGrpcSenderOptions options);
  ~OtlpGrpcSender() override;
  SendResult Send(std::string_view body, int64_t timeout_nanos) override;
  std::string Describe() const override;

 private:
  OtlpGrpcSender() = default;
  OtlpGrpcSenderOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  bool gzip_ = false;
};

}  // namespace strand::pipeline
