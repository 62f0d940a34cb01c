#include "pipeline/otlp_receiver.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"
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
};

void RefuseSecurity(ConfigMap& m) {
  m.Unsupported("tls", "TLS on receivers (terminate TLS in front of Strand)");
  m.Unsupported("auth", "authenticator extensions");
}

class OtlpReceiver : public Receiver {
 public:
  OtlpReceiver(const OtlpReceiverSettings& s, const BuildContext& ctx, TracesConsumer& next)
      : settings_(s),
        id_(ctx.id.ToString()),
        multitenancy_(ctx.multitenancy),
        handler_(next, *ctx.metrics, *ctx.clock) {}

  absl::Status Start() override {
    if (settings_.grpc) {
      receiver::OtlpGrpcOptions o;
      o.address = settings_.grpc_endpoint;
      o.max_request_bytes = settings_.grpc_max_mib << 20;
      o.multitenancy = multitenancy_;
      o.include_metadata = settings_.grpc_metadata;
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
    RefuseSecurity(grpc);
    // Tuning of Go's gRPC server; Strand's server needs none of it.
    for (const char* key :
         {"max_concurrent_streams", "read_buffer_size", "write_buffer_size", "keepalive"}) {
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
    RefuseSecurity(http);
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
    return std::make_unique<OtlpReceiver>(static_cast<const OtlpReceiverSettings&>(settings), ctx,
                                          next);
  }
};

}  // namespace

std::unique_ptr<ReceiverFactory> NewOtlpReceiverFactory() {
  return std::make_unique<OtlpReceiverFactory>();
}

}  // namespace strand::pipeline
