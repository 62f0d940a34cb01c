#include "pipeline/otlp_receiver.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "api/tls_settings.h"
#include "pipeline/server_tls.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "receiver/otlp_grpc_receiver.h"
#include "receiver/otlp_http_receiver.h"
#include "receiver/otlp_trace_handler.h"

namespace strand::pipeline {
namespace {

struct OtlpReceiverSettings : ComponentSettings {
  bool grpc = false;
  std::string grpc_endpoint = "localhost:4317";
  uint64_t grpc_max_mib = 4;
  bool grpc_metadata = false;
  bool http = false;
  std::string http_endpoint = "localhost:4318";
  uint64_t http_max_bytes = 20 << 20;
  bool http_metadata = false;
  api::TlsSettings grpc_tls;
  api::TlsSettings http_tls;
  std::optional<AuthenticatorRef> grpc_auth;
  std::optional<AuthenticatorRef> http_auth;
  // keepalive::server_parameters (nanoseconds; 0 keeps Strand's default).
  int64_t keepalive_time = 0;
  int64_t keepalive_timeout = 0;
  int64_t max_connection_idle = 0;
  int64_t max_connection_age = 0;
  int64_t max_connection_age_grace = 0;
};

void ReadKeepalive(ConfigMap& grpc, OtlpReceiverSettings& s) {
  ConfigMap keepalive = grpc.Sub("keepalive");
  ConfigMap server = keepalive.Sub("server_parameters");
  server.ReadDuration("time", s.keepalive_time);
  server.ReadDuration("timeout", s.keepalive_timeout);
  server.ReadDuration("max_connection_idle", s.max_connection_idle);
  server.ReadDuration("max_connection_age", s.max_connection_age);
  server.ReadDuration("max_connection_age_grace", s.max_connection_age_grace);
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
        handler_(next, *ctx.metrics, *ctx.clock) {}

  absl::Status Start() override {
    if (settings_.grpc) {
      receiver::OtlpGrpcOptions o;
      o.address = settings_.grpc_endpoint;
      o.max_request_bytes = settings_.grpc_max_mib << 20;
      o.multitenancy = multitenancy_;
      o.include_metadata = settings_.grpc_metadata;
      o.tls = settings_.grpc_tls;
      o.auth = auth_.grpc;
      o.memory = memory_;
      auto ms = [](int64_t nanos, int64_t fallback) {
        return nanos > 0 ? nanos / 1'000'000 : fallback;
      };
      o.keepalive_time_ms = ms(settings_.keepalive_time, o.keepalive_time_ms);
      o.keepalive_timeout_ms = ms(settings_.keepalive_timeout, o.keepalive_timeout_ms);
      o.max_connection_idle_ms = ms(settings_.max_connection_idle, o.max_connection_idle_ms);
      o.max_connection_age_ms = ms(settings_.max_connection_age, o.max_connection_age_ms);
      o.max_connection_age_grace_ms =
          ms(settings_.max_connection_age_grace, o.max_connection_age_grace_ms);
      auto g = receiver::OtlpGrpcReceiver::Start(o, handler_);
      if (!g.ok()) {
        return absl::Status(g.status().code(), absl::StrCat("receivers::", id_, ": ",
                                                            std::string(g.status().message())));
      }
      grpc_ = std::move(*g);
      LOG_INFO("{}: OTLP/gRPC on {} (port {})", id_, settings_.grpc_endpoint, grpc_->port());
    }
    if (settings_.http) {
      receiver::OtlpHttpOptions o;
      o.address = settings_.http_endpoint;
      o.max_request_bytes = settings_.http_max_bytes;
      o.multitenancy = multitenancy_;
      o.include_metadata = settings_.http_metadata;
      o.tls = settings_.http_tls;
      o.auth = auth_.http;
      o.memory = memory_;
      auto h = receiver::OtlpHttpReceiver::Start(o, handler_);
      if (!h.ok()) {
        return absl::Status(h.status().code(), absl::StrCat("receivers::", id_, ": ",
                                                            std::string(h.status().message())));
      }
      http_ = std::move(*h);
      LOG_INFO("{}: OTLP/HTTP on {} (port {})", id_, settings_.http_endpoint, http_->port());
    }
    return absl::OkStatus();
  }

  void Shutdown() override {
    if (grpc_) grpc_->Stop();
    if (http_) http_->Stop();
  }

  // The gRPC port, then the HTTP port, each when that protocol runs.
  std::vector<int> ListenerPortsForTest() const override {
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
    grpc.Read("endpoint", s->grpc_endpoint);
    grpc.Read("max_recv_msg_size_mib", s->grpc_max_mib);
    grpc.Read("include_metadata", s->grpc_metadata);
    std::string transport = "tcp";
    grpc.Read("transport", transport);
    if (transport != "tcp") grpc.Fail("transport", "not supported: only tcp");
    ReadServerTls(grpc, s->grpc_tls);
    s->grpc_auth = ReadAuthenticator(grpc, AuthRole::kServer);
    ReadKeepalive(grpc, *s);
    // Tuning of Go's gRPC server; Strand's server needs none of it.
    for (const char* key : {"max_concurrent_streams", "read_buffer_size", "write_buffer_size"}) {
      grpc.Ignore(key);
    }
    ConfigMap http = protocols.Sub("http");
    http.Read("endpoint", s->http_endpoint);
    http.Read("max_request_body_size", s->http_max_bytes);
    http.Read("include_metadata", s->http_metadata);
    std::string traces_path = "/v1/traces";
    http.Read("traces_url_path", traces_path);
    if (traces_path != "/v1/traces") {
      http.Fail("traces_url_path", "not supported: Strand serves traces on /v1/traces");
    }
    http.Ignore("metrics_url_path");
    http.Ignore("logs_url_path");
    http.Unsupported("cors", "CORS");
    ReadServerTls(http, s->http_tls);
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
    if (s.grpc_max_mib == 0) {
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

std::unique_ptr<ReceiverFactory> NewOtlpReceiverFactory() {
  return std::make_unique<OtlpReceiverFactory>();
}

}  // namespace strand::pipeline
