#include "api/service_map.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/json_writer.h"

namespace strand::api {

void ServiceMap::Add(const traceql::TraceView& trace) {
  ++traces_;
  std::vector<std::string_view> service(trace.size());
  for (uint32_t i = 0; i < trace.size(); ++i) {
    service[i] = trace.ResourceString(i, "service.name");
    if (service[i].empty()) service[i] = "unknown";
    Node& n = nodes_[std::string(service[i])];
    ++n.spans;
    if (trace.span(i).status_code == static_cast<int32_t>(otlp::StatusCode::kError)) ++n.errors;
  }
  for (uint32_t i = 0; i < trace.size(); ++i) {
    const int32_t p = trace.parent(i);
    if (p < 0 || service[p] == service[i]) continue;
    const otlp::Span& s = trace.span(i);
    Edge& e = edges_[{std::string(service[p]), std::string(service[i])}];
    ++e.calls;
    if (s.status_code == static_cast<int32_t>(otlp::StatusCode::kError)) ++e.errors;
    const double ms = s.end_time_unix_nano > s.start_time_unix_nano
                          ? static_cast<double>(s.end_time_unix_nano - s.start_time_unix_nano) / 1e6
                          : 0.0;
    if (e.latency_ms.size() < kMaxLatencySamples) {
      e.latency_ms.push_back(ms);
    } else {
      // Reservoir sampling: each of the `calls` durations is kept with equal chance.
      std::uniform_int_distribution<uint64_t> pick(0, e.calls - 1);
      const uint64_t slot = pick(rng_);
      if (slot < kMaxLatencySamples) e.latency_ms[slot] = ms;
    }
  }
}

namespace {

double Percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

double Round3(double v) { return std::round(v * 1000) / 1000; }

}  // namespace

std::string ServiceMap::ToJson(double seconds, bool truncated) const {
  JsonWriter w(/*pretty=*/false);
  w.BeginObject().Key("nodes").BeginArray();
  for (const auto& [name, n] : nodes_) {
    w.BeginObject().Field("service", name).Field("spans", n.spans).Field("errors", n.errors);
    w.EndObject();
  }
  w.EndArray().Key("edges").BeginArray();
  for (const auto& [key, e] : edges_) {
    std::vector<double> sorted = e.latency_ms;
    std::sort(sorted.begin(), sorted.end());
    w.BeginObject()
        .Field("client", key.first)
        .Field("server", key.second)
        .Field("calls", e.calls)
        .Field("errors", e.errors)
        .Field("error_rate",
               e.calls ? Round3(static_cast<double>(e.errors) / static_cast<double>(e.calls)) : 0.0)
        .Field("rate_per_second",
               seconds > 0 ? Round3(static_cast<double>(e.calls) / seconds) : 0.0);
    w.Key("latency_ms").BeginObject();
    for (auto [name, q] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9}, std::pair{"p99", 0.99}}) {
      w.Field(name, Round3(Percentile(sorted, q)));
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Field("traces", traces_).Field("truncated", truncated);
  w.EndObject();
  return std::move(w).Finish();
}

}  // namespace strand::api
