#include "pipeline/exporter/otlp/otlp_exporter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "pipeline/exporter/otlp/otlp_grpc_sender.h"
#include "pipeline/exporter/otlp/otlp_http_sender.h"
#include "pipeline/queue/exporter_settings.h"
#include "pipeline/queue/persistent_queue.h"
#include "pipeline/queue/queued_exporter.h"

namespace strand::pipeline {

void ParseTlsSettings(ConfigMap& tls, TlsSettings& out) {
  tls.Read("insecure", out.insecure);
  tls.Read("ca_file", out.ca_file);
  tls.Read("cert_file", out.cert_file);
  tls.Read("key_file", out.key_file);
  tls.Read("insecure_skip_verify", out.insecure_skip_verify);
  tls.Read("server_name_override", out.server_name_override);
  tls.Read("min_version", out.min_version);
  tls.Read("max_version", out.max_version);
  for (const std::string* v : {&out.min_version, &out.max_version}) {
    if (!v->empty() && *v != "1.2" && *v != "1.3") {
      tls.Fail(v == &out.min_version ? "min_version" : "max_version",
               "want \"1.2\" or \"1.3\"");
    }
  }
  for (const char* key : {"ca_pem", "cert_pem", "key_pem", "cipher_suites", "reload_interval",
                          "include_system_ca_certs_pool"}) {
    tls.Unsupported(key, std::string("tls::") + key);
  }
}

// Network tuning the collector offers but Strand does not need (buffer sizes, keepalive,
// connection pools) is accepted and documented as ignored.
void ParseOtlpClientSettings(ConfigMap& map, OtlpClientSettings& s) {
  map.Read("endpoint", s.endpoint);
  ConfigMap tls = map.Sub("tls");
  ParseTlsSettings(tls, s.tls);
  (void)tls.Finish();
  map.Read("compression", s.compression);
  map.Read("headers", s.headers);
  ParseSenderSettings(map, s.sender);
  s.auth = ReadAuthenticator(map, AuthRole::kClient);
  map.Unsupported("proxy_url", "proxies");
  for (const char* key :
       {"read_buffer_size", "write_buffer_size", "keepalive", "balancer_name", "wait_for_ready",
        "max_idle_conns", "max_idle_conns_per_host", "max_conns_per_host", "idle_conn_timeout",
        "disable_keep_alives", "http2_read_idle_timeout", "http2_ping_timeout", "authority"}) {
    map.Ignore(key);
  }
}

absl::Status ResolveAuthenticator(const BuildContext& ctx, OtlpClientSettings& s) {
  auto client = ClientAuthenticatorFor(ctx, s.auth);
  if (!client.ok()) return client.status();
  s.authenticator = *std::move(client);
  return absl::OkStatus();
}

OtlpGrpcSenderOptions GrpcSenderOptions(const OtlpClientSettings& s, const std::string& endpoint) {
  OtlpGrpcSenderOptions o;
  o.endpoint = endpoint;
  o.tls = s.tls;
  o.compression = s.compression;
  o.headers = s.headers;
  o.auth = s.authenticator;
  return o;
}

namespace {

struct OtlpSettings : ComponentSettings, OtlpClientSettings {
  bool http = false;
  std::string traces_endpoint;  // otlphttp: the full URL, overriding endpoint + /v1/traces
  std::string encoding = "proto";
};

absl::StatusOr<std::unique_ptr<RequestQueue>> MakeQueue(const SenderSettings& s,
                                                        const BuildContext& ctx) {
  if (!s.queue.enabled || !s.queue.storage) return std::unique_ptr<RequestQueue>();
  FileStorage* storage = ctx.find_storage ? ctx.find_storage(*s.queue.storage) : nullptr;
  if (storage == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("sending_queue::storage: \"", s.queue.storage->ToString(),
                     "\" is not a file_storage extension listed in service::extensions"));
  }
  auto q = PersistentQueue::Open(*storage, ctx.id, s.queue.queue_size, ctx.metrics);
  if (!q.ok()) return q.status();
  return std::unique_ptr<RequestQueue>(std::move(*q));
}

class OtlpFactory : public ExporterFactory {
 public:
  explicit OtlpFactory(bool http) : http_(http) {}
  std::string_view type() const override { return http_ ? "otlphttp" : "otlp"; }

  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<OtlpSettings>();
    s->http = http_;
    ParseOtlpClientSettings(map, *s);
    if (s->auth) s->authenticators.push_back(*s->auth);
    if (http_) {
      map.Read("traces_endpoint", s->traces_endpoint);
      map.Read("encoding", s->encoding);
      // Strand's pipelines carry traces only; these URLs are never used.
      map.Ignore("metrics_endpoint");
      map.Ignore("logs_endpoint");
    }
    return s;
  }

  absl::Status Validate(const ComponentSettings& settings) const override {
    const auto& s = static_cast<const OtlpSettings&>(settings);
    if (s.endpoint.empty() && s.traces_endpoint.empty()) {
      return absl::InvalidArgumentError("endpoint must be set");
    }
    if (!s.http && (s.tls.min_version == "1.3" || s.tls.max_version == "1.2")) {
      return absl::InvalidArgumentError(
          "tls::min_version 1.3 and tls::max_version 1.2: not supported for gRPC (gRPC here "
          "negotiates TLS 1.2 or 1.3); they are for otlphttp");
    }
    if (s.http) {
      const std::string& url = s.traces_endpoint.empty() ? s.endpoint : s.traces_endpoint;
      if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
        return absl::InvalidArgumentError(
            absl::StrCat("endpoint \"", url, "\" must start with http:// or https://"));
      }
    }
    return ValidateSenderSettings(s.sender);
  }

  absl::StatusOr<std::unique_ptr<Exporter>> Create(const ComponentSettings& settings,
                                                   const BuildContext& ctx) const override {
    OtlpSettings s = static_cast<const OtlpSettings&>(settings);
    if (absl::Status a = ResolveAuthenticator(ctx, s); !a.ok()) return a;
    const std::string& url = s.traces_endpoint.empty() ? s.endpoint : s.traces_endpoint;
    if (s.authenticator != nullptr && (http_ ? absl::StartsWith(url, "http://") : s.tls.insecure)) {
      // The collector refuses this for gRPC; Strand allows it (sidecars, loopback) but says so.
      LOG_WARN("{}: sends the credentials of {} without TLS", ctx.id.ToString(),
               s.auth->id.ToString());
    }
    std::unique_ptr<RequestSender> sender;
    if (http_) {
      OtlpHttpSenderOptions o;
      if (!s.traces_endpoint.empty()) {
        o.url = s.traces_endpoint;
      } else {
        std::string base = s.endpoint;
        while (!base.empty() && base.back() == '/') base.pop_back();
        o.url = base + "/v1/traces";
      }
      o.tls = s.tls;
      o.compression = s.compression;
      o.encoding = s.encoding;
      o.headers = s.headers;
      o.auth = s.authenticator;
      auto h = OtlpHttpSender::Create(std::move(o));
      if (!h.ok()) return h.status();
      sender = std::move(*h);
    } else {
      auto g = OtlpGrpcSender::Create(GrpcSenderOptions(s, s.endpoint));
      if (!g.ok()) return g.status();
      sender = std::move(*g);
    }
    auto queue = MakeQueue(s.sender, ctx);
    if (!queue.ok()) return queue.status();
    return std::make_unique<QueuedExporter>(s.sender, std::move(sender), std::move(*queue), ctx);
  }

 private:
  bool http_;
};

}  // namespace

std::unique_ptr<ExporterFactory> NewOtlpExporterFactory() {
  return std::make_unique<OtlpFactory>(false);
}
std::unique_ptr<ExporterFactory> NewOtlpHttpExporterFactory() {
  return std::make_unique<OtlpFactory>(true);
}

}  // namespace strand::pipeline
