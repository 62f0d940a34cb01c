// The web UI's side of the API: its embedded files (with the single-page app's routes
// answered by index.html) and the service map.
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "http/responses.h"
#include "api/service_map.h"
#include "api/tempo_api.h"
#include "api/web_assets.h"
#include "common/clock.h"

namespace strand::api {

namespace {

constexpr int64_t kDefaultMapSeconds = 3600;
constexpr uint64_t kDefaultMapTraces = 20000;
constexpr uint64_t kMaxMapTraces = 200000;

HttpResponse Asset(const WebAsset& a, bool immutable) {
  HttpResponse r;
  r.content_type = std::string(ContentTypeOf(a.path));
  r.body.assign(reinterpret_cast<const char*>(a.data), a.size);
  // Hashed asset names never change content; index.html must be revalidated.
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

}  // namespace

std::optional<HttpResponse> TempoApi::WebUi(const HttpRequest& req) const {
  const std::string& path = req.path;
  if (absl::StartsWith(path, "/api/")) return std::nullopt;
  if (const WebAsset* a = FindWebAsset(path); a != nullptr && path != "/index.html") {
    return Asset(*a, absl::StartsWith(path, "/assets/"));
  }
  // The app's own routes (and /) get index.html; files that do not exist are 404s.
  const bool app_route = path == "/" || path == "/index.html" || path == "/search" ||
                         path == "/map" || absl::StartsWith(path, "/trace/");
  if (!app_route) return std::nullopt;
  const WebAsset* index = FindWebAsset("/index.html");
  if (index == nullptr) {
    HttpResponse r;
    r.body =
        "Strand: OTLP on :4317 (gRPC) and :4318 (HTTP), Tempo API on this port. The web UI "
        "was not built into this binary (build with `make`, which runs npm in web/).\n";
    return r;
  }
  return Asset(*index, false);
}

HttpResponse TempoApi::ServiceMapHandler(const HttpRequest& req) {
  auto tenant = TenantOf(req);
  if (!tenant.ok()) return http::TextResponse(400, std::string(tenant.status().message()));
  auto range = QueryTimeRange(req, /*non_negative=*/true);
  if (!range.ok()) return http::TextResponse(400, std::string(range.status().message()));
  int64_t end = range->second;
  int64_t start = range->first;
  if (end == 0) end = Clock::Real()->NowUnixNanos() / 1'000'000'000 + 1;
  if (start == 0) start = end - kDefaultMapSeconds;
  if (start >= end) return http::TextResponse(400, "invalid time range: start must be before end");
  uint64_t limit = kDefaultMapTraces;
  if (std::string_view l = req.Query("limit"); !l.empty()) {
    if (!absl::SimpleAtoi(std::string(l), &limit) || limit == 0 || limit > kMaxMapTraces) {
      return http::TextResponse(400, absl::StrCat("invalid limit \"", std::string(l), "\": want 1 to ",
                                            kMaxMapTraces, " traces"));
    }
  }
  ServiceMap map;
  bool truncated = false;
  auto status = searcher_.ScanTraces(
      *tenant, static_cast<uint64_t>(start) * 1'000'000'000,
      static_cast<uint64_t>(end) * 1'000'000'000,
      [&](const traceql::TraceView& view) {
        if (map.traces() >= limit) {
          truncated = true;
          return;
        }
        map.Add(view);
      },
      [&] { return map.traces() >= limit; });
  if (!status.ok()) return http::TextResponse(500, std::string(status.message()));
  truncated |= map.traces() >= limit;
  return http::JsonResponse(map.ToJson(static_cast<double>(end - start), truncated));
}

}  // namespace strand::api
