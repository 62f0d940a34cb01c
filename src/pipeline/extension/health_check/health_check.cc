#include "pipeline/extension/health_check/health_check.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/config/server_tls.h"
#include "pipeline/extension/http_extension.h"

namespace strand::pipeline {
namespace {

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

}  // namespace

std::unique_ptr<ExtensionFactory> NewHealthCheckFactory() {
  return std::make_unique<HealthCheckFactory>();
}

}  // namespace strand::pipeline
