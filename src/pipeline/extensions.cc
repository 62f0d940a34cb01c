#include "pipeline/extensions.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "http/http_server.h"
#include "common/logging.h"
#include "pipeline/server_tls.h"

namespace strand::pipeline {
namespace {

struct HttpExtensionSettings : ComponentSettings {
  std::string endpoint;
  std::string path = "/";
  http::TlsSettings tls;  // off unless cert_file and key_file are set
};

// An extension that serves a few pages on its own listener.
class HttpExtension : public Extension {
 public:
  HttpExtension(std::string id, const HttpExtensionSettings& settings, http::HttpHandler handler)
      : id_(std::move(id)),
        endpoint_(settings.endpoint),
        tls_(settings.tls),
        handler_(std::move(handler)) {}
  absl::Status Start() override {
    http::HttpServerOptions o;
    o.address = endpoint_;
    o.tls = tls_;
    o.threads = 1;
    o.max_body_bytes = 1 << 16;
    o.name = id_;
    auto server = http::HttpServer::Start(o, handler_);
    if (!server.ok()) {
      return absl::Status(
          server.status().code(),
          absl::StrCat("extensions::", id_, ": ", std::string(server.status().message())));
    }
    server_ = std::move(*server);
    LOG_INFO("{}: serving on {} (port {})", id_, endpoint_, server_->port());
    return absl::OkStatus();
  }
  void Shutdown() override {
    if (server_) server_->Stop();
  }
  std::vector<int> ListenerPorts() const override {
    if (!server_) return {};
    return {server_->port()};
  }

 private:
  std::string id_;
  std::string endpoint_;
  http::TlsSettings tls_;
  http::HttpHandler handler_;
  std::unique_ptr<http::HttpServer> server_;
};

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

class HealthCheckFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "health_check"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<HttpExtensionSettings>();
    s->endpoint = "localhost:13133";
    map.Read("endpoint", s->endpoint);
    map.Read("path", s->path);
    // Deprecated upstream, and without effect there too.
    map.Ignore("check_collector_pipeline");
    ReadServerTls(map, s->tls);
    map.Unsupported("response_body", "custom health check bodies");
    return s;
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx) const override {
    const auto& s = static_cast<const HttpExtensionSettings&>(settings);
    const absl::Time since = absl::Now();
    auto ready = ctx.pipelines_ready;
    std::string path = s.path;
    auto handler = [ready, path, since](http::HttpRequest&& req, http::Responder respond) {
      http::HttpResponse r;
      r.content_type = "application/json";
      if (req.path != path) {
        r.status = 404;
        r.body = R"({"status":"not found"})";
      } else if (ready && ready()) {
        r.body =
            absl::StrCat(R"({"status":"Server available","upSince":")", Rfc3339(since),
                         R"(","uptime":")", absl::FormatDuration(absl::Now() - since), R"("})");
      } else {
        r.status = 503;
        r.body = absl::StrCat(R"({"status":"Server not available","upSince":")", Rfc3339(since),
                              R"("})");
      }
      respond(std::move(r));
    };
    return std::make_unique<HttpExtension>(ctx.id.ToString(), s, std::move(handler));
  }
};

class ZpagesFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "zpages"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<HttpExtensionSettings>();
    s->endpoint = "localhost:55679";
    map.Read("endpoint", s->endpoint);
    ReadServerTls(map, s->tls);
    map.Ignore("expvar");  // Go runtime variables; there is no Go runtime here
    return s;
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx) const override {
    const auto& s = static_cast<const HttpExtensionSettings&>(settings);
    auto describe = ctx.describe_pipelines;
    const absl::Time since = absl::Now();
    auto handler = [describe, since](http::HttpRequest&& req, http::Responder respond) {
      http::HttpResponse r;
      r.content_type = "text/html; charset=utf-8";
      const std::string head =
          "<!doctype html><html><head><meta charset=utf-8><title>Strand zPages</title>"
          "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head><body>"
          "<p><a href=/debug/servicez>servicez</a> · <a href=/debug/pipelinez>pipelinez</a> · "
          "<a href=/debug/extensionz>extensionz</a></p>";
      if (req.path == "/debug/pipelinez" || req.path == "/debug/extensionz") {
        r.body = head + (describe ? describe() : std::string()) + "</body></html>";
      } else if (req.path == "/debug/servicez") {
        r.body = absl::StrCat(head, "<h1>Service</h1><table><tr><th>Start time</th><td>",
                              Rfc3339(since), "</td></tr><tr><th>Uptime</th><td>",
                              absl::FormatDuration(absl::Now() - since),
                              "</td></tr></table></body></html>");
      } else {
        r.status = 404;
        r.content_type = "text/plain; charset=utf-8";
        r.body =
            "not supported: this zPage (Strand serves /debug/servicez, /debug/pipelinez "
            "and /debug/extensionz)\n";
      }
      respond(std::move(r));
    };
    return std::make_unique<HttpExtension>(ctx.id.ToString(), s, std::move(handler));
  }
};

struct BallastSettings : ComponentSettings {};

class MemoryBallast : public Extension {
 public:
  explicit MemoryBallast(std::string id) : id_(std::move(id)) {}
  absl::Status Start() override {
    LOG_WARN(
        "{}: the memory_ballast extension is deprecated and removed from the "
        "OpenTelemetry Collector; Strand accepts it and does nothing (remove it, and "
        "size the memory_limiter instead)",
        id_);
    return absl::OkStatus();
  }

 private:
  std::string id_;
};

class MemoryBallastFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "memory_ballast"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    map.Ignore("size_mib");
    map.Ignore("size_in_percentage");
    return std::make_unique<BallastSettings>();
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& /*settings*/,
                                                    const BuildContext& ctx) const override {
    return std::make_unique<MemoryBallast>(ctx.id.ToString());
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewHealthCheckFactory() {
  return std::make_unique<HealthCheckFactory>();
}
std::unique_ptr<ExtensionFactory> NewZpagesFactory() { return std::make_unique<ZpagesFactory>(); }
std::unique_ptr<ExtensionFactory> NewMemoryBallastFactory() {
  return std::make_unique<MemoryBallastFactory>();
}

}  // namespace strand::pipeline
