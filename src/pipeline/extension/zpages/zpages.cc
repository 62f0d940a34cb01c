#include "pipeline/extension/zpages/zpages.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pipeline/config/server_tls.h"
#include "pipeline/extension/http_extension.h"

namespace strand::pipeline {
namespace {

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

}  // namespace

std::unique_ptr<ExtensionFactory> NewZpagesFactory() { return std::make_unique<ZpagesFactory>(); }

}  // namespace strand::pipeline
