// Config: Strand's settings, from embedded defaults, an optional YAML file, then flags.
// The file's Strand settings live under a top-level `strand:` key so the same file can
// later also hold OpenTelemetry Collector sections (receivers, processors, exporters,
// extensions, connectors, service). docs/configuration.md lists every key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "http/http_server.h"
#include "overrides/overrides.h"
#include "pipeline/config/collector_config.h"
#include "pipeline/config/env_expand.h"
#include "store/store.h"

namespace strand::cli {

struct Config {
  std::string data_dir = "./data";
  std::string log_level = "info";
  bool multitenancy_enabled = false;
  // Like the Collector's, the listeners bind to localhost unless configured otherwise.
  std::string api_listen = "localhost:3200";
  std::string otlp_grpc_listen = "localhost:4317";
  std::string otlp_http_listen = "localhost:4318";
  // strand.api.tls, strand.otlp.grpc.tls, strand.otlp.http.tls (docs/security.md).
  http::TlsSettings api_tls;
  http::TlsSettings otlp_grpc_tls;
  http::TlsSettings otlp_http_tls;
  // strand.api.auth, strand.otlp.grpc.auth, strand.otlp.http.auth: the authenticator
  // extension (of the same file's `extensions`, listed in service::extensions) that guards
  // the listener; unset: none (docs/security.md).
  std::optional<pipeline::AuthenticatorRef> api_auth;
  std::optional<pipeline::AuthenticatorRef> otlp_grpc_auth;
  std::optional<pipeline::AuthenticatorRef> otlp_http_auth;
  // strand.memory_limit (--memory-limit): the process's memory limit in bytes; 0 means
  // four fifths of the cgroup's (or else the machine's) memory. docs/security.md.
  uint64_t memory_limit = 0;
  uint64_t max_request_bytes = 64ull << 20;
  bool wal_sync = true;
  uint64_t wal_segment_bytes = 128ull << 20;
  uint64_t wal_max_queued_bytes = 256ull << 20;
  int http_threads = 2;
  uint64_t max_live_bytes = 384ull << 20;
  // strand.connections: what one client may hold of the HTTP listeners, and gRPC's
  // connection upkeep.
  http::ConnectionLimits connections;
  int64_t grpc_keepalive_time_nanos = 60'000'000'000;
  int64_t grpc_keepalive_timeout_nanos = 20'000'000'000;
  int64_t grpc_max_connection_idle_nanos = 300'000'000'000;
  int64_t grpc_max_connection_age_nanos = 0;
  // Cutting, compaction and retention (strand.store.*); data_dir, the WAL settings and
  // max_live_bytes above are copied into it by main.
  store::StoreOptions store;
  // Per-tenant limits (strand.overrides): the defaults and the overrides file.
  overrides::OverridesConfig overrides;

  // The file had a `strand:` section.
  bool strand_section = false;
  // The file's OpenTelemetry Collector sections, when it has them (docs/collector.md):
  // pipelines, or only extensions (for the authenticators named above). Shared so that
  // Config stays copyable.
  std::shared_ptr<pipeline::CollectorConfig> collector;
  // Whether the file defines collector pipelines (then they replace Strand's own OTLP
  // listeners).
  bool HasPipelines() const { return collector != nullptr && !collector->pipelines.empty(); }
  // Whether this process runs the store (and the Tempo API): always without pipelines;
  // with them, when the file has a `strand:` section or a pipeline writes to the `strand`
  // exporter.
  bool RunsStore() const;
};

// Parses YAML text into `base` (keys absent from the text keep base's values). The
// strand: section is read by pipeline::ConfigMap, the collector's strict reader, with
// `.` between keys: unknown keys and wrong types are InvalidArgument errors naming the
// key's path and line (`strand.wal.synk (line 3): unknown key`). Environment references
// (${env:VAR}, ${VAR}, ${env:VAR:-default}, $$) in values are expanded through `lookup`
// first (the process environment when null).
absl::StatusOr<Config> ParseConfigYaml(const std::string& yaml, Config base = {},
                                       const pipeline::EnvLookup* lookup = nullptr);

absl::StatusOr<Config> LoadConfigFile(const std::string& path, Config base = {});

}  // namespace strand::cli
