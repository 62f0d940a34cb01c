#include "pipeline/receiver/otlp/otlp_receiver.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "http/tls_settings.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "pipeline/config/server_tls.h"
#include "receiver/otlp_grpc_receiver.h"
#include "receiver/otlp_http_receiver.h"
#include "receiver/otlp_trace_handler.h"

namespace strand::pipeline {
namespace {

constexpr uint64_t kDefaultGrpcMaxMib = 4;

// keepalive::server_parameters: durations in the file, milliseconds in the options (an
// absent or zero duration keeps Strand's default).
void ReadKeepalive(ConfigMap& grpc, receiver::OtlpGrpcOptions& o) {
  ConfigMap keepalive = grpc.Sub("keepalive");
  ConfigMap server = keepalive.Sub("server_parameters");
  auto read_ms = [&server](const char* key, int64_t& ms) {
    int64_t nanos = 0;
    server.ReadDuration(key, nanos);
    if (nanos > 0) ms = nanos / 1'000'000;
  };
  read_ms("time", o.keepalive_time_ms);
  read_ms("timeout", o.keepalive_timeout_ms);
  read_ms("max_connection_idle", o.max_connection_idle_ms);
  read_ms("max_connection_age", o.max_connection_age_ms);
  read_ms("max_connection_age_grace", o.max_connection_age_grace_ms);
  (void)server.Finish();
  // How often clients may ping: Strand keeps gRPC's own policy.
  keepalive.Ignore("enforcement_policy");
  (void)keepalive.Finish();
}

// The authenticators a receiver's protocols use (null: none).
struct ReceiverAuth {
  std::shared_ptr<const auth::ServerAuthenticator> grpc;
  std::shared_ptr<const auth::ServerAuthenticator> http;
};

class OtlpReceiver : public Receiver {
 public:
  OtlpReceiver(const OtlpReceiverSettings& s, const BuildContext& ctx, TracesConsumer& next,
               ReceiverAuth auth)
      : settings_(s),
        id_(ctx.id.ToString()),
        multitenancy_(ctx.multitenancy),
        memory_(ctx.memory),
        auth_(std::move(auth)),
        handler_(next, *ctx.metrics, *ctx.clock, ctx.overrides) {}

  absl::Status Start() override {
    if (settings_.grpc) {
      receiver::OtlpGrpcOptions o = settings_.grpc_options;
      o.multitenancy = multitenancy_;
      o.auth = auth_.grpc;
      o.memory = memory_;
      auto g = receiver::OtlpGrpcReceiver::Start(o, handler_);
      if (!g.ok()) {
        return absl::Status(g.status().code(), absl::StrCat("receivers::", id_, ": ",
                                                            std::string(g.status().message())));
      }
      grpc_ = std::move(*g);
      LOG_INFO("{}: OTLP/gRPC on {} (port {})", id_, settings_.grpc_options.address,
               grpc_->port());
    }
    if (settings_.http) {
      receiver::OtlpHttpOptions o = settings_.http_options;
      o.multitenancy = multitenancy_;
      o.auth = auth_.http;
      o.memory = memory_;
      auto h = receiver::OtlpHttpReceiver::Start(o, handler_);
      if (!h.ok()) {
        return absl::Status(h.status().code(), absl::StrCat("receivers::", id_, ": ",
                                                            std::string(h.status().message())));
      }
      http_ = std::move(*h);
      LOG_INFO("{}: OTLP/HTTP on {} (port {})", id_, settings_.http_options.address,
               http_->port());
    }
    return absl::OkStatus();
  }

  void Shutdown() override {
    if (grpc_) grpc_->Stop();
    if (http_) http_->Stop();
  }

  // The gRPC port, then the HTTP port, each when that protocol runs.
  std::vector<int> ListenerPorts() const override {
    std::vector<int> ports;
    if (grpc_) ports.push_back(grpc_->port());
    if (http_) ports.push_back(http_->port());
    return ports;
  }

 private:
  OtlpReceiverSettings settings_;
  std::string id_;
  bool multitenancy_;
  MemoryBudget* memory_;
  ReceiverAuth auth_;
  receiver::OtlpTraceHandler handler_;
  std::unique_ptr<receiver::OtlpGrpcReceiver> grpc_;
  std::unique_ptr<receiver::OtlpHttpReceiver> http_;
};

class OtlpReceiverFactory : public ReceiverFactory {
 public:
  std::string_view type() const override { return "otlp"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<OtlpReceiverSettings>();
    ConfigMap protocols = map.Sub("protocols");
    s->grpc = protocols.Has("grpc");
    s->http = protocols.Has("http");
    ConfigMap grpc = protocols.Sub("grpc");
    grpc.Read("endpoint", s->grpc_options.address);
    uint64_t max_mib = kDefaultGrpcMaxMib;
    grpc.Read("max_recv_msg_size_mib", max_mib);
    s->grpc_options.max_request_bytes = max_mib << 20;
    grpc.Read("include_metadata", s->grpc_options.include_metadata);
    std::string transport = "tcp";
    grpc.Read("transport", transport);
    if (transport != "tcp") grpc.Fail("transport", "not supported: only tcp");
    ReadServerTls(grpc, s->grpc_options.tls);
    s->grpc_auth = ReadAuthenticator(grpc, AuthRole::kServer);
    ReadKeepalive(grpc, s->grpc_options);
    // Tuning of Go's gRPC server; Strand's server needs none of it.
    for (const char* key : {"max_concurrent_streams", "read_buffer_size", "write_buffer_size"}) {
      grpc.Ignore(key);
    }
    ConfigMap http = protocols.Sub("http");
    http.Read("endpoint", s->http_options.address);
    http.Read("max_request_body_size", s->http_options.max_request_bytes);
    http.Read("include_metadata", s->http_options.include_metadata);
    std::string traces_path = "/v1/traces";
    http.Read("traces_url_path", traces_path);
    if (traces_path != "/v1/traces") {
      http.Fail("traces_url_path", "not supported: Strand serves traces on /v1/traces");
    }
    http.Ignore("metrics_url_path");
    http.Ignore("logs_url_path");
    http.Unsupported("cors", "CORS");
    ReadServerTls(http, s->http_options.tls);
    s->http_auth = ReadAuthenticator(http, AuthRole::kServer);
    for (const auto* ref : {&s->grpc_auth, &s->http_auth}) {
      if (*ref) s->authenticators.push_back(**ref);
    }
    (void)grpc.Finish();
    (void)http.Finish();
    (void)protocols.Finish();
    return s;
  }
  absl::Status Validate(const ComponentSettings& settings) const override {
    const auto& s = static_cast<const OtlpReceiverSettings&>(settings);
    if (!s.grpc && !s.http) {
      return absl::InvalidArgumentError(
          "must specify at least one protocol under protocols (grpc, http)");
    }
    if (s.grpc && s.grpc_options.max_request_bytes == 0) {
      return absl::InvalidArgumentError("protocols::grpc::max_recv_msg_size_mib must be positive");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Receiver>> Create(const ComponentSettings& settings,
                                                   const BuildContext& ctx,
                                                   TracesConsumer& next) const override {
    const auto& s = static_cast<const OtlpReceiverSettings&>(settings);
    ReceiverAuth auth;
    ASSIGN_OR_RETURN(auth.grpc, ServerAuthenticatorFor(ctx, s.grpc_auth));
    ASSIGN_OR_RETURN(auth.http, ServerAuthenticatorFor(ctx, s.http_auth));
    return std::make_unique<OtlpReceiver>(s, ctx, next, std::move(auth));
  }
};

}  // namespace

OtlpReceiverSettings::OtlpReceiverSettings() {
  grpc_options.address = "localhost:4317";
  grpc_options.max_request_bytes = kDefaultGrpcMaxMib << 20;
  http_options.address = "localhost:4318";
  http_options.max_request_bytes = 20 << 20;
}

std::unique_ptr<ReceiverFactory> NewOtlpReceiverFactory() {
  return std::make_unique<OtlpReceiverFactory>();
}

}  // namespace strand::pipeline
