// strand: the one binary. With no arguments it runs every part on embedded defaults:
// OTLP/gRPC on :4317, OTLP/HTTP on :4318, the Tempo API on :3200, data under ./data.
// `strand block ls|inspect|verify` are operator commands over stored blocks;
// `strand webhook` and `strand webhook-certs` are the Kubernetes roles (docs/kubernetes.md).
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "api/tempo_api.h"
#include "cli/block_command.h"
#include "cli/config.h"
#include "cli/webhook_command.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/logging.h"
#include "common/memory_budget.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "overrides/overrides.h"
#include "pipeline/builtin_components.h"
#include "pipeline/collector.h"
#include "pipeline/receiver/otlp/otlp_receiver.h"
#include "store/store.h"
#include "store/store_consumer.h"

#ifndef STRAND_VERSION
#define STRAND_VERSION "0.0.0"
#endif

namespace strand::cli {
namespace {

int Fail(const absl::Status& s) {
  LOG_ERROR("{}", std::string(s.message()));
  return 1;
}

// Serves the collector's own metrics when no Tempo API runs (collector-only mode).
absl::StatusOr<std::unique_ptr<http::HttpServer>> StartTelemetry(const std::string& address,
                                                                MetricsRegistry& metrics) {
  http::HttpServerOptions o;
  o.address = address;
  o.threads = 1;
  o.name = "telemetry";
  return http::HttpServer::Start(o, [&metrics](http::HttpRequest&& req, http::Responder respond) {
    http::HttpResponse r;
    if (req.path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics.RenderText();
    } else {
      r.status = 404;
      r.body = "not found: the collector's telemetry endpoint serves /metrics\n";
    }
    respond(std::move(r));
  });
}

// True when `address` (host:port) can only be reached from this machine.
bool IsLocalOnly(const std::string& address) {
  auto hp = http::ParseHostPort(address);
  if (!hp.ok()) return false;
  const std::string& host = hp->first;
  return host == "::1" || host.rfind("127.", 0) == 0;
}

// Warns about listeners reachable from the network without TLS or without authentication
// (docs/security.md).
void WarnAboutExposedListeners(const Config& config) {
  struct Listener {
    const char* key;
    const std::string* address;
    const http::TlsSettings* tls;
    bool authenticated;
  };
  const Listener listeners[] = {
      {"strand.api.listen", &config.api_listen, &config.api_tls, config.api_auth.has_value()},
      {"strand.otlp.grpc.listen", &config.otlp_grpc_listen, &config.otlp_grpc_tls,
       config.otlp_grpc_auth.has_value()},
      {"strand.otlp.http.listen", &config.otlp_http_listen, &config.otlp_http_tls,
       config.otlp_http_auth.has_value()}};
  for (const Listener& l : listeners) {
    if (config.HasPipelines() && l.key != std::string_view("strand.api.listen")) continue;
    if (IsLocalOnly(*l.address) || (l.tls->enabled() && l.authenticated)) continue;
    const char* missing = !l.tls->enabled() && !l.authenticated ? "without TLS or authentication"
                          : l.authenticated ? "without TLS (credentials travel in clear text)"
                                            : "without authentication";
    LOG_WARN("{} is {}: reachable from the network {}{} (docs/security.md)", l.key, *l.address,
             missing, l.authenticated ? "" : "; anyone who can reach it can send or read traces");
  }
}

// The server authenticator one of Strand's own `auth` settings names (null when unset),
// from the extensions the collector runs. The configuration was checked when it was read.
absl::StatusOr<std::shared_ptr<const auth::ServerAuthenticator>> OwnAuthenticator(
    const pipeline::Collector* collector, const std::optional<pipeline::AuthenticatorRef>& ref) {
  if (!ref) return std::shared_ptr<const auth::ServerAuthenticator>();
  auto found = collector != nullptr ? collector->FindServerAuthenticator(ref->id) : nullptr;
  if (found == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(ref->key, ": extension \"", ref->id.ToString(), "\" is not running"));
  }
  return found;
}

// Strand's own OTLP listeners (strand.otlp) as the `otlp` receiver of the default pipeline.
std::unique_ptr<pipeline::OtlpReceiverSettings> OwnReceiverSettings(const Config& config) {
  auto s = std::make_unique<pipeline::OtlpReceiverSettings>();
  s->grpc = true;
  receiver::OtlpGrpcOptions& go = s->grpc_options;
  go.address = config.otlp_grpc_listen;
  go.max_request_bytes = config.max_request_bytes;
  go.keepalive_time_ms = config.grpc_keepalive_time_nanos / 1'000'000;
  go.keepalive_timeout_ms = config.grpc_keepalive_timeout_nanos / 1'000'000;
  go.max_connection_idle_ms = config.grpc_max_connection_idle_nanos / 1'000'000;
  go.max_connection_age_ms = config.grpc_max_connection_age_nanos / 1'000'000;
  go.tls = config.otlp_grpc_tls;
  s->grpc_auth = config.otlp_grpc_auth;
  s->http = true;
  receiver::OtlpHttpOptions& ho = s->http_options;
  ho.address = config.otlp_http_listen;
  ho.max_request_bytes = config.max_request_bytes;
  ho.threads = config.http_threads;
  ho.limits = config.connections;
  ho.tls = config.otlp_http_tls;
  s->http_auth = config.otlp_http_auth;
  return s;
}

// Raises the soft limit on open descriptors to the hard limit, as Go's runtime does: the
// connection caps are sized from it (docs/security.md).
void RaiseDescriptorLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  const rlim_t before = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
    LOG_DEBUG("open file limit raised from {} to {}", before, rl.rlim_cur);
  }
}

int Run(const Config& config) {
  RaiseDescriptorLimit();
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  MetricsRegistry metrics;
  Clock& clock = *Clock::Real();
  // One memory limit for the process: request bodies, inflated and decoded batches, live
  // traces, export queues and lookups take from it (docs/security.md).
  MemoryBudget memory(config.memory_limit > 0 ? config.memory_limit : MemoryBudget::DefaultLimit());
  memory.RegisterMetrics(metrics);
  memory.StartSampler();
  LOG_INFO("memory limit {} MiB ({} MiB for request memory)", memory.limit() >> 20,
           memory.tracked_limit() >> 20);
  // Per-tenant limits (strand.overrides); a bad overrides file stops the start.
  auto overrides = overrides::Overrides::Open(config.overrides, clock, &metrics);
  if (!overrides.ok()) return Fail(overrides.status());
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::StoreConsumer> store_consumer;
  if (config.RunsStore()) {
    store::StoreOptions so = config.store;
    so.overrides = overrides->get();
    so.data_dir = config.data_dir;
    so.wal_sync = config.wal_sync;
    so.wal_segment_bytes = config.wal_segment_bytes;
    so.wal_max_queued_bytes = config.wal_max_queued_bytes;
    so.max_live_bytes = config.max_live_bytes;
    so.memory = &memory;
    for (const std::string& fitted : store::FitToMemoryLimit(so, memory.tracked_limit())) {
      LOG_INFO("store: {} to fit the memory limit", fitted);
    }
    if (!config.wal_sync) LOG_WARN("wal.sync is off: acknowledged spans may be lost on a crash");
    auto opened = store::Store::Open(*Env::Default(), clock, &metrics, so);
    if (!opened.ok()) return Fail(opened.status());
    store = std::move(*opened);
    store_consumer = std::make_unique<store::StoreConsumer>(*store);
  }

  // Every OTLP listener is a collector receiver: without pipelines in the file, Strand's
  // own listeners are the default pipeline `otlp` → `strand`. The collector starts before
  // the API, whose `auth` names one of its extensions.
  std::shared_ptr<pipeline::CollectorConfig> collector_config = config.collector;
  if (!config.HasPipelines()) {
    if (collector_config == nullptr) collector_config = std::make_shared<pipeline::CollectorConfig>();
    pipeline::AddDefaultPipeline(*collector_config, OwnReceiverSettings(config));
  }
  pipeline::CollectorOptions co;
  co.metrics = &metrics;
  co.clock = &clock;
  co.env = Env::Default();
  co.store = store_consumer.get();
  co.overrides = store != nullptr ? overrides->get() : nullptr;
  co.multitenancy = config.multitenancy_enabled;
  co.memory = &memory;
  auto started = pipeline::Collector::Start(collector_config, co);
  if (!started.ok()) return Fail(started.status());
  std::unique_ptr<pipeline::Collector> collector = std::move(*started);

  std::unique_ptr<api::TempoApi> api;
  if (store != nullptr) {
    api::TempoApiOptions ao;
    ao.address = config.api_listen;
    ao.multitenancy = config.multitenancy_enabled;
    ao.limits = config.connections;
    ao.tls = config.api_tls;
    ao.memory = &memory;
    ao.overrides = overrides->get();
    auto auth = OwnAuthenticator(collector.get(), config.api_auth);
    if (!auth.ok()) return Fail(auth.status());
    ao.auth = std::move(*auth);
    auto a = api::TempoApi::Start(ao, *store, metrics);
    if (!a.ok()) return Fail(a.status());
    api = std::move(*a);
  }
  std::unique_ptr<http::HttpServer> telemetry;
  if (config.HasPipelines() && api == nullptr &&
      !config.collector->telemetry.metrics_address.empty()) {
    auto t = StartTelemetry(config.collector->telemetry.metrics_address, metrics);
    if (!t.ok()) return Fail(t.status());
    telemetry = std::move(*t);
  }

  WarnAboutExposedListeners(config);
  if (!config.HasPipelines()) {
    const std::vector<int> ports = collector->ListenerPorts("otlp");  // gRPC, then HTTP
    LOG_INFO("strand {} ready: otlp grpc port {}, otlp http port {}, api port {}, data {}",
             STRAND_VERSION, ports.at(0), ports.at(1), api->port(), config.data_dir);
  } else if (api != nullptr) {
    LOG_INFO("strand {} ready: collector pipelines and store; api port {}, data {}", STRAND_VERSION,
             api->port(), config.data_dir);
  } else {
    LOG_INFO("strand {} ready: collector pipelines only (no store){}", STRAND_VERSION,
             telemetry ? fmt::format("; metrics on port {}", telemetry->port()) : "");
  }

  int sig = 0;
  sigwait(&signals, &sig);
  LOG_INFO("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // The collector stops its receivers first: calls in flight finish (their spans reach the
  // WAL or a queue) before what is downstream closes.
  collector->Shutdown();
  if (store) store->Close();
  if (api) api->Stop();
  if (telemetry) telemetry->Stop();
  LOG_INFO("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace strand::cli

int main(int argc, char** argv) {
  using strand::cli::Config;
  CLI::App app{
      "Strand: an OpenTelemetry trace collector and store, compatible with the "
      "OpenTelemetry Collector and Grafana Tempo."};
  Config flags;
  std::string config_file;
  bool version = false;
  app.add_option("--config", config_file, "YAML configuration file (see docs/configuration.md)");
  app.add_option("--data-dir", flags.data_dir, "Directory for the WAL and blocks")
      ->capture_default_str();
  app.add_option("--otlp-grpc-listen", flags.otlp_grpc_listen, "OTLP/gRPC listen address")
      ->capture_default_str();
  app.add_option("--otlp-http-listen", flags.otlp_http_listen, "OTLP/HTTP listen address")
      ->capture_default_str();
  app.add_option("--api-listen", flags.api_listen, "Tempo API, /metrics and UI listen address")
      ->capture_default_str();
  app.add_option("--memory-limit", flags.memory_limit,
                 "Memory limit of the process in bytes; past it requests get retryable refusals "
                 "(0: four fifths of the cgroup's or machine's memory)")
      ->capture_default_str();
  app.add_option("--max-request-bytes", flags.max_request_bytes,
                 "Largest OTLP request accepted (compressed or not)")
      ->capture_default_str();
  app.add_flag("--multitenancy", flags.multitenancy_enabled,
               "Require X-Scope-OrgID on every request and keep tenants apart");
  app.add_option("--wal-sync", flags.wal_sync,
                 "fsync the WAL before acknowledging (false relaxes durability)")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
      ->capture_default_str();
  app.add_flag("--version", version, "Print the version and exit");
  strand::cli::BlockCommand block_command(app);
  strand::cli::WebhookCommand webhook_command(app);
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::printf("strand %s (Tempo API %s)\n", STRAND_VERSION, "2.6.0");
    return 0;
  }
  Config config;
  if (!config_file.empty()) {
    auto loaded = strand::cli::LoadConfigFile(config_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "strand: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
    config = *loaded;
  }
  // Flags given on the command line override the file.
  if (app.count("--data-dir")) config.data_dir = flags.data_dir;
  if (app.count("--otlp-grpc-listen")) config.otlp_grpc_listen = flags.otlp_grpc_listen;
  if (app.count("--otlp-http-listen")) config.otlp_http_listen = flags.otlp_http_listen;
  if (app.count("--api-listen")) config.api_listen = flags.api_listen;
  if (app.count("--max-request-bytes")) config.max_request_bytes = flags.max_request_bytes;
  if (app.count("--memory-limit")) config.memory_limit = flags.memory_limit;
  if (app.count("--multitenancy")) config.multitenancy_enabled = flags.multitenancy_enabled;
  if (app.count("--wal-sync")) config.wal_sync = flags.wal_sync;
  if (app.count("--log-level")) config.log_level = flags.log_level;
  if (block_command.selected()) {
    return block_command.Run(*strand::Env::Default(), config.data_dir, std::cout, std::cerr);
  }
  if (webhook_command.selected()) {
    strand::InitLogging(config.log_level);
    return webhook_command.Run();
  }
  if (config.collector != nullptr && !config.collector->telemetry.log_level.empty() &&
      !app.count("--log-level")) {
    config.log_level = config.collector->telemetry.log_level;
  }
  strand::InitLogging(config.log_level);
  return strand::cli::Run(config);
}
