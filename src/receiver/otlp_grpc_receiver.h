// OtlpGrpcReceiver: OTLP/gRPC on :4317, the TraceService/Export method.
//
// Served through gRPC's callback generic service so the request arrives as raw bytes and
// is decoded once by our own decoder (no libprotobuf parse). The call is answered when
// the consumer's `done` runs: OK (with partial_success when spans were refused),
// INVALID_ARGUMENT for malformed requests, UNAVAILABLE when overloaded (retryable),
// RESOURCE_EXHAUSTED for messages over the size limit (not retryable). Other methods
// answer UNIMPLEMENTED. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "receiver/otlp_trace_handler.h"

namespace grpc {
class Server;
}

namespace strand::receiver {

struct OtlpGrpcOptions {
  std::string address = "0.0.0.0:4317";
  size_t max_request_bytes = 64 << 20;
  bool multitenancy = false;
  // Keep the client's metadata (headers) in the RequestContext, for batch metadata_keys.
  bool include_metadata = false;
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
  int port_ = 0;
};

}  // namespace strand::receiver
