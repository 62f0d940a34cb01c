// TempoApi: Grafana Tempo's HTTP API on :3200 (the parts built so far), plus /metrics,
// /ready and the build info. Routes:
//   GET /api/traces/<id>, /api/v2/traces/<id>   trace by ID (JSON, or protobuf by Accept)
//   GET /api/echo, /ready, /api/status/buildinfo, /metrics
// Search, tags and TraceQL metrics answer 501 "not supported" until they are built.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "api/http_server.h"
#include "common/metrics.h"
#include "store/store.h"

namespace strand::api {

struct TempoApiOptions {
  std::string address = "0.0.0.0:3200";
  bool multitenancy = false;
  int threads = 2;
};

class TempoApi {
 public:
  // `store` and `metrics` must outlive the API.
  static absl::StatusOr<std::unique_ptr<TempoApi>> Start(TempoApiOptions options,
                                                        store::Store& store,
                                                        MetricsRegistry& metrics);
  int port() const { return server_->port(); }
  void Stop() { server_->Stop(); }

  // Handles one request synchronously (exposed for tests).
  HttpResponse Handle(const HttpRequest& req);

 private:
  TempoApi(TempoApiOptions options, store::Store& store, MetricsRegistry& metrics);
  HttpResponse TraceById(const HttpRequest& req, std::string_view id, bool v2);

  TempoApiOptions options_;
  store::Store& store_;
  MetricsRegistry& metrics_;
  Family<Counter>* requests_;
  Family<Histogram>* latency_;
  std::unique_ptr<HttpServer> server_;
};

// Parses a trace ID of 1 to 32 hex digits, left-padding with zeros.
absl::StatusOr<otlp::TraceId> ParseTraceId(std::string_view hex);

}  // namespace strand::api
