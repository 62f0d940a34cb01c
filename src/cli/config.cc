#include "cli/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/duration.h"
#include "common/status_macros.h"
#include "pipeline/builtin_components.h"
#include "pipeline/config/config_map.h"

namespace strand::cli {
namespace {

using pipeline::ConfigMap;

// strand.* durations: the collector's syntax plus days ("14d"). The limits of
// strand.overrides keep the collector's syntax, the one the per-tenant file uses.
constexpr DurationSyntax kStrandDuration{.sign = true, .days = true, .saturate = true};

void ReadDuration(ConfigMap& m, const std::string& key, int64_t& nanos) {
  m.ReadDuration(key, nanos, kStrandDuration);
}

// A duration that must be positive (`nanos` holds a positive default).
void ReadPositiveDuration(ConfigMap& m, const std::string& key, int64_t& nanos) {
  ReadDuration(m, key, nanos);
  if (nanos <= 0) m.Fail(key, "must be positive");
}

// A positive duration in whole milliseconds (at least 1), for the HTTP server's timeouts.
void ReadMillis(ConfigMap& m, const std::string& key, std::chrono::milliseconds& out) {
  int64_t nanos = out.count() * 1'000'000;
  ReadPositiveDuration(m, key, nanos);
  if (nanos > 0) out = std::chrono::milliseconds(std::max<int64_t>(1, nanos / 1'000'000));
}

// strand.store.compaction.
void ReadCompaction(ConfigMap m, store::StoreOptions& o) {
  m.Read("enabled", o.compaction_enabled);
  ReadPositiveDuration(m, "window", o.compaction_window_nanos);
  m.Read("min_inputs", o.compaction_min_inputs);
  if (o.compaction_min_inputs < 2) m.Fail("min_inputs", "must be at least 2");
  m.Read("max_inputs", o.compaction_max_inputs);
  if (o.compaction_max_inputs < o.compaction_min_inputs) {
    m.Fail("max_inputs", "must be at least min_inputs");
  }
  m.Read("max_block_spans", o.compaction_max_block_spans);
  ReadDuration(m, "interval", o.maintenance_interval_nanos);
  (void)m.Finish();
}

// strand.store: cutting, compaction and retention.
void ReadStore(ConfigMap m, Config& c) {
  store::StoreOptions& o = c.store;
  m.Read("max_live_bytes", c.max_live_bytes);
  ReadDuration(m, "trace_idle_period", o.trace_idle_nanos);
  ReadDuration(m, "max_trace_live", o.max_trace_live_nanos);
  m.Read("max_head_bytes", o.max_head_bytes);
  ReadPositiveDuration(m, "cut_interval", o.cut_interval_nanos);
  ReadDuration(m, "retention", o.retention_nanos);
  ReadDuration(m, "ingestion_time_range_slack", o.ingestion_time_range_slack_nanos);
  m.Read("bloom_filters_in_memory", o.bloom_filters_in_memory);
  ReadCompaction(m.Sub("compaction"), o);
  (void)m.Finish();
}

// strand.connections: what one client may hold of the HTTP listeners, gRPC's upkeep.
void ReadConnections(ConfigMap m, Config& c) {
  http::ConnectionLimits& l = c.connections;
  m.Read("max_per_listener", l.max_connections);
  m.Read("max_header_bytes", l.max_header_bytes);
  if (l.max_header_bytes < 1024) m.Fail("max_header_bytes", "must be at least 1024");
  ReadMillis(m, "idle_timeout", l.idle_timeout);
  ReadMillis(m, "read_header_timeout", l.read_header_timeout);
  ReadMillis(m, "body_read_timeout", l.body_read_timeout);
  ReadDuration(m, "grpc_keepalive_time", c.grpc_keepalive_time_nanos);
  ReadDuration(m, "grpc_keepalive_timeout", c.grpc_keepalive_timeout_nanos);
  ReadDuration(m, "grpc_max_connection_idle", c.grpc_max_connection_idle_nanos);
  ReadDuration(m, "grpc_max_connection_age", c.grpc_max_connection_age_nanos);
  (void)m.Finish();
}

// A listener's tls: section (docs/security.md), in the Collector's configtls names; the
// files must be readable.
void ReadTls(ConfigMap m, http::TlsSettings& tls) {
  m.Read("cert_file", tls.cert_file);
  m.Read("key_file", tls.key_file);
  m.Read("client_ca_file", tls.client_ca_file);
  m.Read("min_version", tls.min_version);
  ReadMillis(m, "reload_interval", tls.reload_interval);
  if (m.Finish().ok()) m.Record(http::ValidateTlsSettings(tls, m.path()));
}

// strand.api, strand.otlp.grpc, strand.otlp.http: the address, tls: and auth: (the
// authenticator extension of the same file that guards the listener).
void ReadListener(ConfigMap m, std::string& listen, http::TlsSettings& tls,
                  std::optional<pipeline::AuthenticatorRef>& auth) {
  m.Read("listen", listen);
  if (m.Has("tls")) {
    ReadTls(m.Sub("tls"), tls);
  } else {
    m.Ignore("tls");
  }
  if (auto ref = pipeline::ReadAuthenticator(m, pipeline::AuthRole::kServer)) auth = ref;
  (void)m.Finish();
}

// strand.overrides: the default limits of every tenant (Tempo's key names) and the
// per-tenant overrides file.
void ReadOverrides(ConfigMap m, Config& c) {
  ConfigMap defaults = m.Sub("defaults");
  overrides::ReadLimits(defaults, c.overrides.defaults);
  (void)defaults.Finish();
  m.Read("per_tenant_override_config", c.overrides.per_tenant_override_config);
  m.ReadDuration("per_tenant_override_period", c.overrides.per_tenant_override_period_nanos);
  if (c.overrides.per_tenant_override_period_nanos <= 0) {
    m.Fail("per_tenant_override_period", "must be positive");
  }
  (void)m.Finish();
}

// The strand: section.
void ReadStrand(ConfigMap m, Config& c) {
  m.Read("data_dir", c.data_dir);
  m.Read("log_level", c.log_level);
  m.Read("multitenancy_enabled", c.multitenancy_enabled);
  ReadListener(m.Sub("api"), c.api_listen, c.api_tls, c.api_auth);
  ConfigMap otlp = m.Sub("otlp");
  ReadListener(otlp.Sub("grpc"), c.otlp_grpc_listen, c.otlp_grpc_tls, c.otlp_grpc_auth);
  ReadListener(otlp.Sub("http"), c.otlp_http_listen, c.otlp_http_tls, c.otlp_http_auth);
  otlp.Read("max_request_bytes", c.max_request_bytes);
  (void)otlp.Finish();
  ConfigMap wal = m.Sub("wal");
  wal.Read("sync", c.wal_sync);
  wal.Read("segment_bytes", c.wal_segment_bytes);
  wal.Read("max_queued_bytes", c.wal_max_queued_bytes);
  (void)wal.Finish();
  ReadStore(m.Sub("store"), c);
  ReadConnections(m.Sub("connections"), c);
  ReadOverrides(m.Sub("overrides"), c);
  m.Read("http_threads", c.http_threads);
  m.Read("memory_limit", c.memory_limit);
  (void)m.Finish();
}

// Whether the collector sections of `root` are extensions alone (and `service` with no
// pipelines): extensions for Strand's own listeners, not a collector.
bool ExtensionsOnly(const YAML::Node& root) {
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    if (pipeline::IsCollectorSection(key) && key != "extensions" && key != "service") {
      return false;
    }
  }
  const YAML::Node service = root["service"];
  return !service || !service.IsMap() || !service["pipelines"];
}

// Each of Strand's own auth settings must name a running server authenticator extension.
absl::Status CheckOwnAuthenticators(const Config& c) {
  for (const auto* ref : {&c.api_auth, &c.otlp_grpc_auth, &c.otlp_http_auth}) {
    if (!*ref) continue;
    if (c.collector == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat((*ref)->key, ": references extension \"", (*ref)->id.ToString(),
                       "\", which is not configured under extensions"));
    }
    RETURN_IF_ERROR(pipeline::CheckAuthenticatorRef(*c.collector, **ref));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfigYaml(const std::string& yaml, Config base,
                                       const pipeline::EnvLookup* lookup) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config is not valid YAML: ", e.what()));
  }
  if (root.IsNull()) return base;
  if (!root.IsMap()) return absl::InvalidArgumentError("config must be a YAML map");
  const pipeline::EnvLookup env = lookup != nullptr ? *lookup : pipeline::ProcessEnv();
  if (auto s = pipeline::ExpandEnvRefsInTree(root, env); !s.ok()) return s;
  // The file: Strand's section and the collector's (read by ParseCollectorConfig).
  ConfigMap file(root, "", ".");
  bool collector = false;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (!pipeline::IsCollectorSection(key)) continue;
    collector = true;
    file.Ignore(key);
  }
  base.strand_section = base.strand_section || file.Has("strand");
  ReadStrand(file.Sub("strand"), base);
  RETURN_IF_ERROR(file.Finish());
  if (collector) {
    const bool extensions_only = ExtensionsOnly(root);
    if (!extensions_only && root["strand"] && root["strand"]["otlp"]) {
      return absl::InvalidArgumentError(
          "strand.otlp does not apply when the file defines collector pipelines: set the "
          "endpoints of the otlp receiver instead");
    }
    auto c = pipeline::ParseCollectorConfig(root, pipeline::BuiltinComponents(),
                                            /*pipelines_required=*/!extensions_only);
    if (!c.ok()) return c.status();
    base.collector = std::make_shared<pipeline::CollectorConfig>(std::move(*c));
  }
  RETURN_IF_ERROR(CheckOwnAuthenticators(base));
  return base;
}

bool Config::RunsStore() const {
  if (!HasPipelines() || strand_section) return true;
  for (const auto& p : collector->pipelines) {
    for (const auto& id : p.exporters) {
      if (id.type == "strand") return true;
    }
  }
  return false;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, Config base) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseConfigYaml(ss.str(), std::move(base));
  if (!c.ok()) {
    return absl::Status(c.status().code(),
                        absl::StrCat(path, ": ", std::string(c.status().message())));
  }
  return c;
}

}  // namespace strand::cli
