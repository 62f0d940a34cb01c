#include "cli/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/duration.h"
#include "common/status_macros.h"
#include "pipeline/builtin_components.h"
#include "pipeline/config/config_map.h"

namespace strand::cli {
namespace {

// yaml-cpp reports errors by exception; they are caught here and turned into Status.
template <typename T>
absl::Status Get(const YAML::Node& node, const std::string& key, T& out) {
  try {
    out = node.as<T>();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key ", key, ": wrong type (line ", node.Mark().line + 1, ")"));
  }
  return absl::OkStatus();
}

absl::Status UnknownKey(const std::string& path, const YAML::Node& key) {
  return absl::InvalidArgumentError(absl::StrCat("unknown config key ", path, key.as<std::string>(),
                                                 " (line ", key.Mark().line + 1, ")"));
}

absl::Status GetDuration(const YAML::Node& node, const std::string& key, int64_t& out) {
  std::string text;
  if (auto s = Get(node, key, text); !s.ok()) return s;
  auto nanos = ParseDurationNanos(text, key);
  if (!nanos.ok()) return nanos.status();
  out = *nanos;
  return absl::OkStatus();
}

absl::Status ParseCompaction(const YAML::Node& node, store::StoreOptions& o) {
  const std::string path = "strand.store.compaction";
  if (!node.IsMap()) return absl::InvalidArgumentError(path + " must be a map");
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    const std::string full = path + "." + key;
    absl::Status s;
    if (key == "enabled") {
      s = Get(kv.second, full, o.compaction_enabled);
    } else if (key == "window") {
      s = GetDuration(kv.second, full, o.compaction_window_nanos);
      if (s.ok() && o.compaction_window_nanos <= 0) {
        s = absl::InvalidArgumentError(full + " must be positive");
      }
    } else if (key == "min_inputs") {
      s = Get(kv.second, full, o.compaction_min_inputs);
      if (s.ok() && o.compaction_min_inputs < 2) {
        s = absl::InvalidArgumentError(full + " must be at least 2");
      }
    } else if (key == "max_inputs") {
      s = Get(kv.second, full, o.compaction_max_inputs);
    } else if (key == "max_block_spans") {
      s = Get(kv.second, full, o.compaction_max_block_spans);
    } else if (key == "interval") {
      s = GetDuration(kv.second, full, o.maintenance_interval_nanos);
    } else {
      return UnknownKey(path + ".", kv.first);
    }
    if (!s.ok()) return s;
  }
  if (o.compaction_max_inputs < o.compaction_min_inputs) {
    return absl::InvalidArgumentError(path + ".max_inputs must be at least min_inputs");
  }
  return absl::OkStatus();
}

absl::Status ParseStore(const YAML::Node& node, Config& c) {
  const std::string path = "strand.store";
  if (!node.IsMap()) return absl::InvalidArgumentError(path + " must be a map");
  store::StoreOptions& o = c.store;
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    const std::string full = path + "." + key;
    absl::Status s;
    if (key == "max_live_bytes") {
      s = Get(kv.second, full, c.max_live_bytes);
    } else if (key == "trace_idle_period") {
      s = GetDuration(kv.second, full, o.trace_idle_nanos);
    } else if (key == "max_trace_live") {
      s = GetDuration(kv.second, full, o.max_trace_live_nanos);
    } else if (key == "max_head_bytes") {
      s = Get(kv.second, full, o.max_head_bytes);
    } else if (key == "cut_interval") {
      s = GetDuration(kv.second, full, o.cut_interval_nanos);
      if (s.ok() && o.cut_interval_nanos <= 0) {
        s = absl::InvalidArgumentError(full + " must be positive");
      }
    } else if (key == "retention") {
      s = GetDuration(kv.second, full, o.retention_nanos);
    } else if (key == "ingestion_time_range_slack") {
      s = GetDuration(kv.second, full, o.ingestion_time_range_slack_nanos);
    } else if (key == "bloom_filters_in_memory") {
      s = Get(kv.second, full, o.bloom_filters_in_memory);
    } else if (key == "compaction") {
      s = ParseCompaction(kv.second, o);
    } else {
      return UnknownKey(path + ".", kv.first);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status GetMillis(const YAML::Node& node, const std::string& key,
                       std::chrono::milliseconds& out) {
  int64_t nanos = 0;
  RETURN_IF_ERROR(GetDuration(node, key, nanos));
  if (nanos <= 0) return absl::InvalidArgumentError(key + " must be positive");
  out = std::chrono::milliseconds(std::max<int64_t>(1, nanos / 1'000'000));
  return absl::OkStatus();
}

absl::Status ParseConnections(const YAML::Node& node, Config& c) {
  const std::string path = "strand.connections";
  if (!node.IsMap()) return absl::InvalidArgumentError(path + " must be a map");
  http::ConnectionLimits& l = c.connections;
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    const std::string full = path + "." + key;
    absl::Status s;
    if (key == "max_per_listener") {
      s = Get(kv.second, full, l.max_connections);
    } else if (key == "max_header_bytes") {
      s = Get(kv.second, full, l.max_header_bytes);
      if (s.ok() && l.max_header_bytes < 1024) s = absl::InvalidArgumentError(full + " must be at least 1024");
    } else if (key == "idle_timeout") {
      s = GetMillis(kv.second, full, l.idle_timeout);
    } else if (key == "read_header_timeout") {
      s = GetMillis(kv.second, full, l.read_header_timeout);
    } else if (key == "body_read_timeout") {
      s = GetMillis(kv.second, full, l.body_read_timeout);
    } else if (key == "grpc_keepalive_time") {
      s = GetDuration(kv.second, full, c.grpc_keepalive_time_nanos);
    } else if (key == "grpc_keepalive_timeout") {
      s = GetDuration(kv.second, full, c.grpc_keepalive_timeout_nanos);
    } else if (key == "grpc_max_connection_idle") {
      s = GetDuration(kv.second, full, c.grpc_max_connection_idle_nanos);
    } else if (key == "grpc_max_connection_age") {
      s = GetDuration(kv.second, full, c.grpc_max_connection_age_nanos);
    } else {
      return UnknownKey(path + ".", kv.first);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// A listener's tls: section (docs/security.md), in the Collector's configtls names.
absl::Status ParseTls(const YAML::Node& node, const std::string& path, http::TlsSettings& tls) {
  if (!node.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, " must be a map"));
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    const std::string full = path + "." + key;
    absl::Status s;
    if (key == "cert_file") {
      s = Get(kv.second, full, tls.cert_file);
    } else if (key == "key_file") {
      s = Get(kv.second, full, tls.key_file);
    } else if (key == "client_ca_file") {
      s = Get(kv.second, full, tls.client_ca_file);
    } else if (key == "min_version") {
      s = Get(kv.second, full, tls.min_version);
    } else if (key == "reload_interval") {
      s = GetMillis(kv.second, full, tls.reload_interval);
    } else {
      return UnknownKey(path + ".", kv.first);
    }
    if (!s.ok()) return s;
  }
  return http::ValidateTlsSettings(tls, path);
}

// A listener's auth: section, as a receiver's in a collector file: {authenticator: <id>}.
absl::Status ParseAuth(const YAML::Node& node, const std::string& path,
                       std::optional<pipeline::AuthenticatorRef>& out) {
  if (!node.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, " must be a map"));
  std::string id;
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (key != "authenticator") return UnknownKey(path + ".", kv.first);
    RETURN_IF_ERROR(Get(kv.second, path + ".authenticator", id));
  }
  const std::string key = path + ".authenticator";
  if (id.empty()) return absl::InvalidArgumentError(key + " must name an extension");
  auto parsed = pipeline::ComponentId::Parse(id);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", parsed.status().message()));
  }
  out = pipeline::AuthenticatorRef{key, *parsed, pipeline::AuthRole::kServer};
  return absl::OkStatus();
}

absl::Status ParseListen(const YAML::Node& node, const std::string& path, std::string& out,
                         http::TlsSettings& tls, std::optional<pipeline::AuthenticatorRef>& auth) {
  if (!node.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, " must be a map"));
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    absl::Status s;
    if (key == "listen") {
      s = Get(kv.second, path + ".listen", out);
    } else if (key == "tls") {
      s = ParseTls(kv.second, path + ".tls", tls);
    } else if (key == "auth") {
      s = ParseAuth(kv.second, path + ".auth", auth);
    } else {
      return UnknownKey(path + ".", kv.first);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// strand.overrides: the default limits of every tenant (Tempo's key names) and the
// per-tenant overrides file.
absl::Status ParseOverrides(const YAML::Node& node, Config& c) {
  if (!node.IsMap()) return absl::InvalidArgumentError("strand.overrides must be a map");
  pipeline::ConfigMap map(node, "strand.overrides");
  pipeline::ConfigMap defaults = map.Sub("defaults");
  overrides::ReadLimits(defaults, c.overrides.defaults);
  defaults.Finish().IgnoreError();  // errors are shared with `map`
  map.Read("per_tenant_override_config", c.overrides.per_tenant_override_config);
  map.ReadDuration("per_tenant_override_period", c.overrides.per_tenant_override_period_nanos);
  if (c.overrides.per_tenant_override_period_nanos <= 0) {
    map.Fail("per_tenant_override_period", "must be positive");
  }
  return map.Finish();
}

absl::Status ParseStrand(const YAML::Node& node, Config& c) {
  if (!node.IsMap()) return absl::InvalidArgumentError("strand: must be a map");
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    absl::Status s;
    if (key == "data_dir") {
      s = Get(v, "strand.data_dir", c.data_dir);
    } else if (key == "log_level") {
      s = Get(v, "strand.log_level", c.log_level);
    } else if (key == "multitenancy_enabled") {
      s = Get(v, "strand.multitenancy_enabled", c.multitenancy_enabled);
    } else if (key == "api") {
      s = ParseListen(v, "strand.api", c.api_listen, c.api_tls, c.api_auth);
    } else if (key == "otlp") {
      if (!v.IsMap()) return absl::InvalidArgumentError("strand.otlp must be a map");
      for (const auto& o : v) {
        const auto ok = o.first.as<std::string>();
        if (ok == "grpc") {
          s = ParseListen(o.second, "strand.otlp.grpc", c.otlp_grpc_listen, c.otlp_grpc_tls,
                          c.otlp_grpc_auth);
        } else if (ok == "http") {
          s = ParseListen(o.second, "strand.otlp.http", c.otlp_http_listen, c.otlp_http_tls,
                          c.otlp_http_auth);
        } else if (ok == "max_request_bytes") {
          s = Get(o.second, "strand.otlp.max_request_bytes", c.max_request_bytes);
        } else {
          return UnknownKey("strand.otlp.", o.first);
        }
        if (!s.ok()) return s;
      }
    } else if (key == "wal") {
      if (!v.IsMap()) return absl::InvalidArgumentError("strand.wal must be a map");
      for (const auto& w : v) {
        const auto wk = w.first.as<std::string>();
        if (wk == "sync") {
          s = Get(w.second, "strand.wal.sync", c.wal_sync);
        } else if (wk == "segment_bytes") {
          s = Get(w.second, "strand.wal.segment_bytes", c.wal_segment_bytes);
        } else if (wk == "max_queued_bytes") {
          s = Get(w.second, "strand.wal.max_queued_bytes", c.wal_max_queued_bytes);
        } else {
          return UnknownKey("strand.wal.", w.first);
        }
        if (!s.ok()) return s;
      }
    } else if (key == "store") {
      s = ParseStore(v, c);
    } else if (key == "connections") {
      s = ParseConnections(v, c);
    } else if (key == "overrides") {
      s = ParseOverrides(v, c);
    } else if (key == "http_threads") {
      s = Get(v, "strand.http_threads", c.http_threads);
    } else if (key == "memory_limit") {
      s = Get(v, "strand.memory_limit", c.memory_limit);
    } else {
      return UnknownKey("strand.", kv.first);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
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

absl::StatusOr<int64_t> ParseDurationNanos(const std::string& text, const std::string& key) {
  auto nanos = ParseDuration(text, DurationSyntax{.sign = true, .days = true, .saturate = true});
  if (!nanos.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key ", key, ": ", nanos.status().message()));
  }
  return nanos;
}

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
  bool collector = false;
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    if (key == "strand") {
      base.strand_section = true;
      if (auto s = ParseStrand(kv.second, base); !s.ok()) return s;
    } else if (pipeline::IsCollectorSection(key)) {
      collector = true;
    } else {
      return UnknownKey("", kv.first);
    }
  }
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
