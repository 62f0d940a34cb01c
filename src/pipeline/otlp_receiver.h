// The `otlp` receiver: OTLP/gRPC and OTLP/HTTP listeners (src/receiver) feeding a
// pipeline. Settings as the collector's: `protocols::grpc` (endpoint, default
// localhost:4317; max_recv_msg_size_mib, default 4; include_metadata) and
// `protocols::http` (endpoint, default localhost:4318; max_request_body_size, default
// 20 MiB; include_metadata), `tls` and `auth: {authenticator: <id>}` on either protocol
// (auth_extensions.h). CORS is refused as not supported.
#pragma once

#include <memory>

#include "pipeline/component.h"

namespace strand::pipeline {

std::unique_ptr<ReceiverFactory> NewOtlpReceiverFactory();

}  // namespace strand::pipeline
