// strand-loadgen: drives OTLP trace load at a server and reports what came back.
// See tools/README.md for usage.
#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "loadgen/load_config.h"
#include "loadgen/load_runner.h"
#include "loadgen/report.h"
#include "otlp/json_encoder.h"
#include "testdata/trace_generator.h"

namespace {

using strand::loadgen::LoadConfig;
using strand::loadgen::Protocol;

// "30s", "2m", "1h30m", "500ms", or a bare number of seconds.
bool ParseDurationFlag(const std::string& text, std::chrono::nanoseconds& out) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    out = std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
    return seconds >= 0;
  }
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) return false;
  out = absl::ToChronoNanoseconds(d);
  return true;
}

int Main(int argc, char** argv) {
  LoadConfig config;
  std::string endpoint, protocol = "grpc", duration = "10s", timeout = "10s", compression = "none",
                        report_interval = "5s";
  std::vector<std::string> headers;
  uint64_t id_salt = 0;

  CLI::App app{
      "strand-loadgen: sends realistic OTLP trace load to a collector or Strand and "
      "reports throughput, latency and whether the traces come back whole."};
  app.add_option("--endpoint", endpoint,
                 "host:port of the OTLP receiver (default 127.0.0.1:4317 for grpc, "
                 "127.0.0.1:4318 for http and http-json)");
  app.add_option("--protocol", protocol, "grpc, http (protobuf) or http-json")
      ->check(CLI::IsMember({"grpc", "http", "http-json"}))
      ->capture_default_str();
  app.add_option("--workers", config.workers, "connections, each with its own thread")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--inflight", config.inflight, "requests in flight per worker")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--rate", config.rate, "target spans per second over all workers; 0 = unthrottled")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--duration", duration, "how long to send, e.g. 30s, 2m")->capture_default_str();
  app.add_option("--timeout", timeout, "deadline of each request")->capture_default_str();
  app.add_option("--traces-per-request", config.generator.traces_per_request,
                 "traces in each request")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--spans-per-trace", config.generator.spans_per_trace, "spans in each trace")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--services", config.generator.services,
                 "distinct service.name values (8 make the built-in shop; more add leaf "
                 "services, fewer drop the later ones)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--error-rate", config.generator.error_rate, "fraction of traces that fail")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--seed", config.generator.seed, "seed of the generated data")
      ->capture_default_str();
  app.add_option("--pool-size", config.pool_size,
                 "distinct pre-encoded requests to cycle through (IDs and times are rewritten "
                 "on every send)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--id-salt", id_salt,
                 "makes the trace IDs of a run; default: from the clock, so runs never collide");
  app.add_option("--header", headers,
                 "extra request header or gRPC metadata K=V (repeatable), "
                 "e.g. X-Scope-OrgID=tenant-1");
  app.add_option("--compression", compression, "none or gzip")
      ->check(CLI::IsMember({"none", "gzip"}))
      ->capture_default_str();
  app.add_option("--verify-url", config.verify_url,
                 "Tempo API base URL (http://host:3200): after sending, read sampled traces "
                 "back and check each is whole");
  app.add_option("--verify-sample", config.verify_sample, "how many traces to read back")
      ->check(CLI::Range(0, 100000));
  app.add_option("--json-out", config.json_out, "write a JSON summary to this file");
  app.add_option("--server-pid", config.server_pid,
                 "PID of the server: report its CPU seconds, spans per CPU-second and RSS");
  app.add_option("--report-interval", report_interval, "progress line interval on stderr; 0 = off")
      ->capture_default_str();
  bool print_sample = false;
  app.add_flag("--print-sample", print_sample,
               "print the first generated request as OTLP/JSON, and its size, then exit");
  CLI11_PARSE(app, argc, argv);
  if (print_sample) {
    const auto request = strand::testdata::TraceGenerator(config.generator).Generate(0);
    std::fputs(strand::otlp::WriteOtlpJson(request, nullptr).c_str(), stdout);
    std::fprintf(stderr, "\n%zu bytes in protobuf for %d spans: %.1f bytes per span\n",
                 request.ByteSizeLong(),
                 config.generator.traces_per_request * config.generator.spans_per_trace,
                 static_cast<double>(request.ByteSizeLong()) /
                     (config.generator.traces_per_request * config.generator.spans_per_trace));
    return 0;
  }

  config.protocol = protocol == "grpc"   ? Protocol::kGrpc
                    : protocol == "http" ? Protocol::kHttp
                                         : Protocol::kHttpJson;
  config.endpoint = !endpoint.empty()                    ? endpoint
                    : config.protocol == Protocol::kGrpc ? "127.0.0.1:4317"
                                                         : "127.0.0.1:4318";
  if (absl::StartsWith(config.endpoint, "http://")) config.endpoint = config.endpoint.substr(7);
  config.gzip = compression == "gzip";
  for (auto [text, out, name] :
       {std::tuple{&duration, &config.duration, "--duration"},
        std::tuple{&timeout, &config.timeout, "--timeout"},
        std::tuple{&report_interval, &config.report_interval, "--report-interval"}}) {
    if (!ParseDurationFlag(*text, *out)) {
      std::fprintf(stderr, "%s: cannot parse \"%s\" as a duration (like 30s or 2m)\n", name,
                   text->c_str());
      return 1;
    }
  }
  for (const std::string& h : headers) {
    const size_t eq = h.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "--header: want K=V, got \"%s\"\n", h.c_str());
      return 1;
    }
    config.headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }
  if (!config.verify_url.empty() && config.verify_sample == 0) config.verify_sample = 20;
  config.id_salt =
      id_salt != 0
          ? id_salt
          : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  // Generate data an hour in the past; every send moves it to the moment it is sent.
  config.generator.base_time_unix_nano =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()) -
      3600ULL * 1'000'000'000ULL;
  std::vector<std::string> args(argv, argv + argc);
  config.command_line = absl::StrJoin(args, " ");

  curl_global_init(CURL_GLOBAL_DEFAULT);
  strand::loadgen::LoadRunner runner(config);
  auto report = runner.Run();
  if (!report.ok()) {
    std::fprintf(stderr, "strand-loadgen: %s\n", std::string(report.status().message()).c_str());
    curl_global_cleanup();
    return 1;
  }
  std::fputs(strand::loadgen::FormatTable(*report).c_str(), stdout);
  int rc = 0;
  if (!config.json_out.empty()) {
    std::ofstream out(config.json_out);
    out << strand::loadgen::FormatJson(*report);
    if (!out) {
      std::fprintf(stderr, "strand-loadgen: cannot write %s\n", config.json_out.c_str());
      rc = 1;
    }
  }
  if (report->verified && report->verify.complete != report->verify.checked) rc = 2;
  if (report->stats.requests_sent > 0 && report->stats.spans_acked == 0) rc = 3;
  curl_global_cleanup();
  return rc;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
