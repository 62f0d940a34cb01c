// TempoApi: Grafana Tempo's HTTP API on :3200 (the parts built so far), plus /metrics,
// /ready and the build info. Routes:
//   GET /api/traces/<id>, /api/v2/traces/<id>   trace by ID (JSON, or protobuf by Accept)
//   GET /api/search                             TraceQL (q) or tag (tags) search
//   GET /api/search/tags, /api/v2/search/tags   tag names (v2: by scope)
//   GET /api/search/tag/<t>/values, /api/v2/search/tag/<t>/values
//   GET /api/echo, /ready, /api/status/buildinfo, /metrics
//   GET /api/strand/service-map                 services and calls (the web UI's map)
//   GET /, /search, /map, /trace/<id>, /assets/* the web UI
// TraceQL metrics (/api/metrics/...) answer 501 "not supported" until they are built.
//
// With an authenticator (`strand.api.auth`), every route but the probes (/ready,
// /api/echo) needs valid credentials: 401 with WWW-Authenticate otherwise (the UI's pages
// too, so a browser asks for Basic credentials). With multi-tenancy, a credential bound to a
// tenant reads that tenant's data whatever X-Scope-OrgID says, and a header naming another
// tenant is refused with 403.
// Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "http/http_server.h"
#include "auth/authenticator.h"
#include "common/metrics.h"
#include "overrides/overrides.h"
#include "query/local_storage.h"
#include "store/store.h"
#include "traceql/searcher.h"

namespace strand::api {

// The HTTP vocabulary the handlers speak (src/http).
using http::ConnectionLimits;
using http::HttpRequest;
using http::HttpResponse;
using http::HttpServer;
using http::Responder;
using http::TlsSettings;

struct TempoApiOptions {
  std::string address = "127.0.0.1:3200";
  bool multitenancy = false;
  int threads = 2;
  ConnectionLimits limits;
  TlsSettings tls;
  // Checks every request's credentials when set (docs/security.md).
  std::shared_ptr<const auth::ServerAuthenticator> auth;
  // The process's memory limit (may be null): request bodies and trace lookups' results
  // are taken from it; a lookup it cannot hold is answered 503 with Retry-After.
  MemoryBudget* memory = nullptr;
  // Per-tenant read limits (max_search_duration, max_bytes_per_tag_values_query); null:
  // Tempo's defaults (168h, no byte limit). Must outlive the API.
  overrides::Overrides* overrides = nullptr;
};

class TempoApi {
 public:
  // `store` and `metrics` must outlive the API.
  static absl::StatusOr<std::unique_ptr<TempoApi>> Start(TempoApiOptions options,
                                                         store::Store& store,
                                                         MetricsRegistry& metrics);
  int port() const { return server_->port(); }
  void Stop() { server_->Stop(); }

  // Handles one request synchronously (exposed for tests): authentication, then Route.
  HttpResponse Handle(const HttpRequest& req);

 private:
  TempoApi(TempoApiOptions options, store::Store& store, MetricsRegistry& metrics);
  HttpResponse Route(const HttpRequest& req);
  HttpResponse TraceById(const HttpRequest& req, std::string_view id, bool v2);
  // tempo_api_ui.cc: the web UI's files and routes (nullopt: not a UI path), and the
  // service map.
  std::optional<HttpResponse> WebUi(const HttpRequest& req) const;
  HttpResponse ServiceMapHandler(const HttpRequest& req);
  // tempo_api_search.cc
  HttpResponse Search(const HttpRequest& req);
  HttpResponse SearchTags(const HttpRequest& req, bool v2);
  HttpResponse SearchTagValues(const HttpRequest& req, std::string_view tag, bool v2);
  // The request's tenant (X-Scope-OrgID when multi-tenancy is on), or InvalidArgument.
  absl::StatusOr<std::string> TenantOf(const HttpRequest& req) const;
  // `start` and `end` (unix seconds) as unix nanoseconds (0 = open); with
  // `limited_tenant`, ranges over that tenant's max_search_duration are refused.
  absl::StatusOr<std::pair<uint64_t, uint64_t>> TimeRange(
      const HttpRequest& req, const std::string* limited_tenant = nullptr) const;
  // The tenant's limits (the defaults without overrides).
  overrides::Limits LimitsOf(const std::string& tenant) const;

  TempoApiOptions options_;
  store::Store& store_;
  query::LocalStorage storage_;  // the store through the TraceQL storage seam
  traceql::Searcher searcher_;
  MetricsRegistry& metrics_;
  Family<Counter>* requests_;
  Family<Histogram>* latency_;
  std::unique_ptr<HttpServer> server_;
};

// The `start` and `end` query parameters (unix seconds, 0 when absent), with start <= end;
// `non_negative` also refuses negative values and values too large for nanoseconds.
absl::StatusOr<std::pair<int64_t, int64_t>> QueryTimeRange(const HttpRequest& req,
                                                           bool non_negative);

// Parses a trace ID of 1 to 32 hex digits, left-padding with zeros.
absl::StatusOr<otlp::TraceId> ParseTraceId(std::string_view hex);

}  // namespace strand::api
