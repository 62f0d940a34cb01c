// The `otlp` receiver: OTLP/gRPC and OTLP/HTTP listeners (src/receiver) feeding a
// pipeline. Settings as the collector's: `protocols::grpc` (endpoint, default
// localhost:4317; max_recv_msg_size_mib, default 4; include_metadata; keepalive) and
// `protocols::http` (endpoint, default localhost:4318; max_request_body_size, default
// 20 MiB; include_metadata), `tls` and `auth: {authenticator: <id>}` on either protocol
// (auth_extensions.h). CORS is refused as not supported.
//
// Strand's own listeners (`strand.otlp`, used when a file defines no pipelines) are this
// receiver too: cli builds an OtlpReceiverSettings from them and runs the default
// pipeline `otlp` → `strand` (AddDefaultPipeline, builtin_components.h).
#pragma once

#include <memory>
#include <optional>

#include "pipeline/config/component.h"
#include "receiver/otlp_grpc_receiver.h"
#include "receiver/otlp_http_receiver.h"

namespace strand::pipeline {

struct OtlpReceiverSettings : ComponentSettings {
  OtlpReceiverSettings();
  bool grpc = false;  // which protocols run
  bool http = false;
  // The listeners' options as the settings give them; multitenancy, memory and auth are
  // filled from the BuildContext when the receiver is created.
  receiver::OtlpGrpcOptions grpc_options;
  receiver::OtlpHttpOptions http_options;
  std::optional<AuthenticatorRef> grpc_auth;
  std::optional<AuthenticatorRef> http_auth;
};

std::unique_ptr<ReceiverFactory> NewOtlpReceiverFactory();

}  // namespace strand::pipeline
