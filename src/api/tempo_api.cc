#include "api/tempo_api.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "http/responses.h"
#include "http/status_codes.h"
#include "api/trace_encoding.h"
#include "auth/request_tenant.h"
#include "common/clock.h"
#include "common/hex.h"
#include "common/json_writer.h"
#include "common/tenant.h"

#ifndef STRAND_VERSION
#define STRAND_VERSION "0.0.0"
#endif
#ifndef STRAND_REVISION
#define STRAND_REVISION "unknown"
#endif

namespace strand::api {
namespace {

// The Tempo API level Strand implements; Grafana enables features by this version.
constexpr char kTempoApiVersion[] = "2.6.0";

std::string ProcessMetrics() {
  std::string out;
  long pages_total = 0, pages_resident = 0;
  std::ifstream statm("/proc/self/statm");
  if (statm >> pages_total >> pages_resident) {
    const long page = sysconf(_SC_PAGESIZE);
    absl::StrAppend(&out,
                    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                    "# TYPE process_resident_memory_bytes gauge\n"
                    "process_resident_memory_bytes ",
                    pages_resident * page,
                    "\n# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                    "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes ",
                    pages_total * page, "\n");
  }
  return out;
}

}  // namespace

absl::StatusOr<otlp::TraceId> ParseTraceId(std::string_view hex) {
  if (hex.empty() || hex.size() > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid trace ID \"", std::string(hex), "\": want 1 to 32 hex digits"));
  }
  std::string padded(32 - hex.size(), '0');
  padded.append(hex);
  otlp::TraceId id;
  if (!HexDecode(padded, reinterpret_cast<char*>(id.data()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid trace ID \"", std::string(hex), "\": not hexadecimal"));
  }
  return id;
}

absl::StatusOr<std::pair<int64_t, int64_t>> QueryTimeRange(const HttpRequest& req,
                                                           bool non_negative) {
  int64_t start = 0, end = 0;
  for (auto [name, out] : {std::pair{"start", &start}, std::pair{"end", &end}}) {
    bool found = false;
    std::string_view v = req.Query(name, &found);
    if (found && !v.empty() &&
        (!absl::SimpleAtoi(std::string(v), out) || (non_negative && *out < 0))) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", name, " \"", std::string(v), "\": want unix seconds"));
    }
  }
  if (non_negative) {
    // Unix seconds past year 2262 do not fit in nanoseconds.
    constexpr int64_t kMaxSeconds = INT64_MAX / 1'000'000'000 - 1;
    if (start > kMaxSeconds || end > kMaxSeconds) {
      return absl::InvalidArgumentError("invalid time range: start or end is too large");
    }
  }
  if (start != 0 && end != 0 && start > end) {
    return absl::InvalidArgumentError("invalid time range: start is after end");
  }
  return std::pair{start, end};
}

TempoApi::TempoApi(TempoApiOptions options, store::Store& store, MetricsRegistry& metrics)
    : options_(std::move(options)),
      store_(store),
      storage_(store),
      searcher_(storage_),
      metrics_(metrics) {
  requests_ = metrics.AddCounter("strand_api_requests_total", "API requests by route and code.",
                                 {"route", "code"});
  latency_ =
      metrics.AddHistogram("strand_api_request_duration_seconds", "API request latency by route.",
                           {"route"}, MetricsRegistry::LatencyBuckets());
}

absl::StatusOr<std::unique_ptr<TempoApi>> TempoApi::Start(TempoApiOptions options,
                                                          store::Store& store,
                                                          MetricsRegistry& metrics) {
  std::unique_ptr<TempoApi> api(new TempoApi(std::move(options), store, metrics));
  http::HttpServerOptions so;
  so.address = api->options_.address;
  so.threads = api->options_.threads;
  so.max_body_bytes = 1 << 20;
  so.name = "api";
  so.limits = api->options_.limits;
  so.tls = api->options_.tls;
  so.memory = api->options_.memory;
  auto* self = api.get();
  auto server = HttpServer::Start(so, [self](HttpRequest&& req, Responder respond) {
    const int64_t start = Clock::Real()->MonotonicNanos();
    HttpResponse resp = self->Handle(req);
    std::string route = "other";
    if (absl::StartsWith(req.path, "/api/traces/"))
      route = "trace_by_id_v1";
    else if (absl::StartsWith(req.path, "/api/v2/traces/"))
      route = "trace_by_id_v2";
    else if (req.path == "/api/search")
      route = "search";
    else if (absl::StrContains(req.path, "/search/tags"))
      route = "search_tags";
    else if (absl::StrContains(req.path, "/search/tag/"))
      route = "search_tag_values";
    else if (req.path == "/metrics" || req.path == "/ready" || req.path == "/api/echo" ||
             req.path == "/api/status/buildinfo")
      route = req.path;
    self->requests_->With({route, std::to_string(resp.status)})->Increment();
    self->latency_->With({route})->Observe((Clock::Real()->MonotonicNanos() - start) / 1e9);
    respond(std::move(resp));
  });
  if (!server.ok()) return server.status();
  api->server_ = std::move(*server);
  return api;
}

HttpResponse TempoApi::Handle(const HttpRequest& req) {
  // Probes stay open: Kubernetes and load balancers check /ready without credentials.
  if (options_.auth == nullptr || req.path == "/ready" || req.path == "/api/echo") {
    return Route(req);
  }
  auto identity =
      options_.auth->Authenticate([&req](std::string_view name) { return req.Header(name); });
  if (!identity.ok()) {
    HttpResponse r = http::TextResponse(401, std::string(identity.status().message()));
    r.headers.emplace_back("WWW-Authenticate", options_.auth->Challenge());
    return r;
  }
  if (!options_.multitenancy || identity->tenant.empty()) return Route(req);
  // A bound credential: the handlers read the tenant from X-Scope-OrgID, set to it here.
  auto tenant = auth::RequestTenant(true, &*identity, req.Header(auth::kOrgIdHeader));
  if (!tenant.ok()) return http::TextResponse(403, std::string(tenant.status().message()));
  HttpRequest bound = req;
  std::erase_if(bound.headers, [](const auto& h) { return h.first == auth::kOrgIdHeader; });
  bound.headers.emplace_back(auth::kOrgIdHeader, *tenant);
  return Route(bound);
}

HttpResponse TempoApi::Route(const HttpRequest& req) {
  const std::string& path = req.path;
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = http::TextResponse(405, absl::StrCat("method ", req.method, " not allowed"));
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  if (path == "/ready") return http::TextResponse(200, "ready");
  if (path == "/api/echo") return http::TextResponse(200, "echo");
  if (path == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.RenderText() + ProcessMetrics();
    return r;
  }
  if (path == "/api/status/buildinfo") {
    std::string b = "{\"version\":";
    AppendJsonString(b, kTempoApiVersion);
    absl::StrAppend(&b, ",\"revision\":", JsonString(STRAND_REVISION),
                    ",\"branch\":", JsonString(absl::StrCat("strand-", STRAND_VERSION)),
                    ",\"buildDate\":", JsonString(__DATE__ " " __TIME__),
                    ",\"buildUser\":\"strand\",\"goVersion\":\"n/a (Strand is C++20)\"}");
    return http::JsonResponse(std::move(b));
  }
  if (absl::StartsWith(path, "/api/traces/")) {
    return TraceById(req, std::string_view(path).substr(strlen("/api/traces/")), false);
  }
  if (absl::StartsWith(path, "/api/v2/traces/")) {
    return TraceById(req, std::string_view(path).substr(strlen("/api/v2/traces/")), true);
  }
  if (path == "/api/search") return Search(req);
  if (path == "/api/search/tags") return SearchTags(req, false);
  if (path == "/api/v2/search/tags") return SearchTags(req, true);
  for (auto [prefix, v2] : {std::pair{std::string_view("/api/search/tag/"), false},
                            std::pair{std::string_view("/api/v2/search/tag/"), true}}) {
    std::string_view p = path;
    if (p.starts_with(prefix) && p.ends_with("/values") &&
        p.size() > prefix.size() + strlen("/values")) {
      p.remove_prefix(prefix.size());
      p.remove_suffix(strlen("/values"));
      return SearchTagValues(req, p, v2);
    }
  }
  if (absl::StartsWith(path, "/api/metrics")) {
    return http::TextResponse(501, absl::StrCat("not supported: ", path,
                                          " (TraceQL metrics) is not built "
                                          "yet in this version of Strand; search is"));
  }
  if (path == "/api/strand/service-map") return ServiceMapHandler(req);
  if (auto ui = WebUi(req)) return std::move(*ui);
  return http::TextResponse(404, absl::StrCat("unknown path ", path));
}

HttpResponse TempoApi::TraceById(const HttpRequest& req, std::string_view id_hex, bool v2) {
  auto tenant_or = TenantOf(req);
  if (!tenant_or.ok()) return http::TextResponse(400, std::string(tenant_or.status().message()));
  const std::string& tenant = *tenant_or;
  auto id = ParseTraceId(id_hex);
  if (!id.ok()) return http::TextResponse(400, std::string(id.status().message()));
  auto range = QueryTimeRange(req, /*non_negative=*/false);
  if (!range.ok()) return http::TextResponse(400, std::string(range.status().message()));
  if (auto refused = http::RefuseUnderMemoryPressure(options_.memory, "trace lookup")) return *refused;
  auto result = store_.FindTraceById(tenant, *id, range->first, range->second);
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kNotFound) {
      return http::TextResponse(404, "trace not found");
    }
    // DataLoss ("data unavailable: block ... is damaged ...") is a 500 with the store's
    // message, never a 404 that would say the trace does not exist; Unavailable a 503.
    return http::StatusTextResponse(result.status());
  }
  // The answer (about as large as the trace's share of the batches found) is taken from
  // the memory budget before it is encoded.
  MemoryLease held(options_.memory);
  uint64_t answer_bytes = 0;
  for (const otlp::SpanRef& ref : result->spans) {
    answer_bytes += ref.batch->MemoryUsage() / std::max<size_t>(ref.batch->spans.size(), 1);
  }
  if (absl::Status s = held.TryResize(answer_bytes, "trace lookup"); !s.ok()) {
    return http::MemoryRefusal(s);
  }
  const auto version = v2 ? TraceApiVersion::kV2 : TraceApiVersion::kV1;
  std::string accept = absl::AsciiStrToLower(std::string(req.Header("accept")));
  HttpResponse r;
  if (absl::StrContains(accept, "application/protobuf") ||
      absl::StrContains(accept, "application/x-protobuf")) {
    r.content_type = "application/protobuf";
    r.body = TraceToProto(result->spans, version, result->inspected_bytes, result->partial);
  } else {
    auto json = TraceToJson(result->spans, version, result->inspected_bytes, result->partial);
    if (!json.ok()) return http::TextResponse(500, std::string(json.status().message()));
    r = http::JsonResponse(std::move(*json));
  }
  // v2 carries it in the body (status PARTIAL); v1 has only this header.
  if (!result->partial.empty()) {
    std::string header = result->partial;
    for (char& c : header) c = (c >= 0x20 && c != 0x7f) ? c : ' ';
    r.headers.emplace_back("X-Strand-Partial", std::move(header));
  }
  return r;
}

}  // namespace strand::api
