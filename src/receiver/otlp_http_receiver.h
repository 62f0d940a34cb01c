// OtlpHttpReceiver: OTLP/HTTP on :4318. POST /v1/traces with protobuf or JSON bodies,
// optionally compressed; answers in the request's encoding as the OTLP specification
// says (200 with an optional partial success; 400 with a google.rpc.Status; 405, 413, 415;
// 429/503 with Retry-After when the next stage is overloaded). /v1/metrics and /v1/logs
// answer 404 "not supported". With an authenticator, every request must carry valid
// credentials (401 with WWW-Authenticate otherwise, before anything else is looked at), and
// a credential bound to a tenant refuses X-Scope-OrgID naming another (403). Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "http/http_server.h"
#include "auth/authenticator.h"
#include "receiver/otlp_trace_handler.h"

namespace strand::receiver {

struct OtlpHttpOptions {
  std::string address = "127.0.0.1:4318";
  size_t max_request_bytes = 64 << 20;  // compressed and decompressed
  bool multitenancy = false;
  // Keep the client's metadata (headers) in the RequestContext, for batch metadata_keys.
  bool include_metadata = false;
  int threads = 2;
  http::ConnectionLimits limits;
  http::TlsSettings tls;
  // Checks every request's credentials when set (the `auth` setting; docs/security.md).
  std::shared_ptr<const auth::ServerAuthenticator> auth;
  // The process's memory limit (may be null); see http::HttpServerOptions::memory.
  MemoryBudget* memory = nullptr;
};

class OtlpHttpReceiver {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpHttpReceiver>> Start(OtlpHttpOptions options,
                                                                 OtlpTraceHandler& handler);
  int port() const { return server_->port(); }
  void Stop() { server_->Stop(); }

 private:
  OtlpHttpReceiver(OtlpHttpOptions options, OtlpTraceHandler& handler)
      : options_(std::move(options)), handler_(handler) {}
  void Handle(http::HttpRequest&& req, http::Responder respond);
  // Who the request's credentials prove (nullopt without an authenticator), or why not.
  absl::StatusOr<std::optional<auth::Identity>> Authenticate(const http::HttpRequest& req) const;
  // The 401 answer (counted) for a request that failed Authenticate.
  http::HttpResponse Unauthorized(const absl::Status& why, BodyFormat format) const;

  OtlpHttpOptions options_;
  OtlpTraceHandler& handler_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace strand::receiver
