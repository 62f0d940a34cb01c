// strand: the one binary. With no arguments it runs every part on embedded defaults:
// OTLP/gRPC on :4317, OTLP/HTTP on :4318, the Tempo API on :3200, data under ./data.
// `strand block ls|inspect|verify` are operator commands over stored blocks.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "api/tempo_api.h"
#include "cli/block_command.h"
#include "cli/config.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "pipeline/traces_consumer.h"
#include "receiver/otlp_grpc_receiver.h"
#include "receiver/otlp_http_receiver.h"
#include "store/store.h"

#ifndef STRAND_VERSION
#define STRAND_VERSION "0.0.0"
#endif

namespace strand::cli {
namespace {

// Feeds receivers straight into the embedded store.
class StoreConsumer : public pipeline::TracesConsumer {
 public:
  explicit StoreConsumer(store::Store& store) : store_(store) {}
  absl::Status Admit(const pipeline::RequestContext& /*ctx*/) override {
    return store_.CheckAdmission();
  }
  void Consume(pipeline::RequestContext&& ctx, otlp::SpanBatch&& batch,
               pipeline::ConsumeDone done) override {
    store_.Ingest(ctx.tenant, std::move(batch), std::move(done));
  }

 private:
  store::Store& store_;
};

int Fail(const absl::Status& s) {
  LOG_ERROR("{}", std::string(s.message()));
  return 1;
}

int Run(const Config& config) {
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  MetricsRegistry metrics;
  Clock& clock = *Clock::Real();
  store::StoreOptions so = config.store;
  so.data_dir = config.data_dir;
  so.wal_sync = config.wal_sync;
  so.wal_segment_bytes = config.wal_segment_bytes;
  so.wal_max_queued_bytes = config.wal_max_queued_bytes;
  so.max_live_bytes = config.max_live_bytes;
  if (!config.wal_sync) LOG_WARN("wal.sync is off: acknowledged spans may be lost on a crash");
  auto store = store::Store::Open(*Env::Default(), clock, &metrics, so);
  if (!store.ok()) return Fail(store.status());

  StoreConsumer consumer(**store);
  receiver::OtlpTraceHandler handler(consumer, metrics, clock);

  receiver::OtlpGrpcOptions go;
  go.address = config.otlp_grpc_listen;
  go.max_request_bytes = config.max_request_bytes;
  go.multitenancy = config.multitenancy_enabled;
  auto grpc = receiver::OtlpGrpcReceiver::Start(go, handler);
  if (!grpc.ok()) return Fail(grpc.status());

  receiver::OtlpHttpOptions ho;
  ho.address = config.otlp_http_listen;
  ho.max_request_bytes = config.max_request_bytes;
  ho.multitenancy = config.multitenancy_enabled;
  ho.threads = config.http_threads;
  auto http = receiver::OtlpHttpReceiver::Start(ho, handler);
  if (!http.ok()) return Fail(http.status());

  api::TempoApiOptions ao;
  ao.address = config.api_listen;
  ao.multitenancy = config.multitenancy_enabled;
  auto api = api::TempoApi::Start(ao, **store, metrics);
  if (!api.ok()) return Fail(api.status());

  LOG_INFO("strand {} ready: otlp grpc port {}, otlp http port {}, api port {}, data {}",
           STRAND_VERSION, (*grpc)->port(), (*http)->port(), (*api)->port(), config.data_dir);

  int sig = 0;
  sigwait(&signals, &sig);
  LOG_INFO("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // Receivers first: calls in flight finish (their spans reach the WAL) before it closes.
  (*grpc)->Stop();
  (*http)->Stop();
  (*store)->Close();
  (*api)->Stop();
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
  if (app.count("--multitenancy")) config.multitenancy_enabled = flags.multitenancy_enabled;
  if (app.count("--wal-sync")) config.wal_sync = flags.wal_sync;
  if (app.count("--log-level")) config.log_level = flags.log_level;
  if (block_command.selected()) {
    return block_command.Run(*strand::Env::Default(), config.data_dir, std::cout, std::cerr);
  }
  strand::InitLogging(config.log_level);
  return strand::cli::Run(config);
}
