// OtlpGrpcReceiver: OTLP/gRPC on :4317, the TraceService/Export method.
//
// Served through gRPC's callback generic service so the request arrives as raw bytes and
// is decoded once by our own decoder (no libprotobuf parse). The call is answered when
// the consumer's `done` runs: OK (with partial_success when spans were refused),
// INVALID_ARGUMENT for malformed requests, UNAVAILABLE when overloaded (retryable),
// RESOURCE_EXHAUSTED for messages over the size limit (not retryable). Other methods
// answer UNIMPLEMENTED. With an authenticator, a call without valid credentials in its
// metadata is answered UNAUTHENTICATED before its message is read, and a credential bound
// to a tenant refuses x-scope-orgid naming another (PERMISSION_DENIED). Thread-safe.
//
// Hardening (docs/security.md): connections are accepted by Strand's own FdListener and
// handed to gRPC, so running out of descriptors never stops the listener (gRPC's own
// would stop for good) and a connection that would leave fewer than a reserve of
// descriptors is closed at once. gRPC's per-message decompression is off: compressed
// messages (gzip, deflate) are inflated here with the same bound as OTLP/HTTP, so a small
// message that inflates past `max_request_bytes` is refused without inflating the rest.
// Keepalive pings find dead peers; idle connections and connections past their maximum age
// are closed with GOAWAY; a connection must finish its HTTP/2 handshake in time.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/tls_settings.h"
#include "auth/authenticator.h"
#include "receiver/otlp_trace_handler.h"

namespace grpc {
class Server;
namespace experimental {
class ExternalConnectionAcceptor;
}
}  // namespace grpc

namespace strand::http {
class FdListener;
}

namespace strand::receiver {

struct OtlpGrpcOptions {
  std::string address = "127.0.0.1:4317";
  size_t max_request_bytes = 64 << 20;
  bool multitenancy = false;
  // Keep the client's metadata (headers) in the RequestContext, for batch metadata_keys.
  bool include_metadata = false;
  // Connection upkeep (0 disables the age limit).
  int64_t keepalive_time_ms = 60'000;
  int64_t keepalive_timeout_ms = 20'000;
  int64_t max_connection_idle_ms = 300'000;
  int64_t max_connection_age_ms = 0;
  int64_t max_connection_age_grace_ms = 30'000;
  int64_t handshake_timeout_ms = 10'000;
  // Descriptors kept free when accepting (see FdListener).
  size_t reserve_fds = 64;
  // TLS (and mTLS with client_ca_file); the files are watched and reloaded by gRPC.
  // min_version "1.3" is not supported here (gRPC's C++ API of Debian 12 has no setting).
  http::TlsSettings tls;
  // Checks every call's credentials when set (the `auth` setting; docs/security.md).
  std::shared_ptr<const auth::ServerAuthenticator> auth;
  // The process's memory limit (may be null): a call is refused with UNAVAILABLE before
  // its message is read while the budget is full, and a message is taken from it (with
  // its inflated and decoded forms) before it is copied.
  MemoryBudget* memory = nullptr;
};

class OtlpGrpcReceiver {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpGrpcReceiver>> Start(OtlpGrpcOptions options,
                                                                 OtlpTraceHandler& handler);
  ~OtlpGrpcReceiver();
  int port() const { return port_; }
  // Stops accepting calls and waits (up to a grace period) for calls in flight.
  void Stop();

  class Service;

 private:
  OtlpGrpcReceiver() = default;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::unique_ptr<http::FdListener> listener_;
  int port_ = 0;
};

}  // namespace strand::receiver
