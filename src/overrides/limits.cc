#include "overrides/limits.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "pipeline/config/config_map.h"

namespace strand::overrides {
namespace {

// Tempo's per-ingester and cluster-wide live trace limits are one limit in one process:
// the smaller of the two that are set.
void ReadTraceLimits(pipeline::ConfigMap& map, const std::string& local_key,
                     const std::string& global_key, Limits& limits) {
  uint64_t global = 0;
  map.Read(local_key, limits.max_traces_per_user);
  map.Read(global_key, global);
  if (global != 0 && (limits.max_traces_per_user == 0 || global < limits.max_traces_per_user)) {
    limits.max_traces_per_user = global;
  }
}

void ReadGrouped(pipeline::ConfigMap& map, Limits& limits) {
  if (map.Has("ingestion")) {
    pipeline::ConfigMap m = map.Sub("ingestion");
    m.Read("rate_limit_bytes", limits.ingestion_rate_limit_bytes);
    m.Read("burst_size_bytes", limits.ingestion_burst_size_bytes);
    ReadTraceLimits(m, "max_traces_per_user", "max_global_traces_per_user", limits);
    // One process: Tempo's local and global strategies are the same thing.
    m.Ignore("rate_strategy");
    m.Finish().IgnoreError();  // errors are shared with `map`
  }
  if (map.Has("global")) {
    pipeline::ConfigMap m = map.Sub("global");
    m.Read("max_bytes_per_trace", limits.max_bytes_per_trace);
    m.Finish().IgnoreError();  // errors are shared with `map`
  }
  if (map.Has("read")) {
    pipeline::ConfigMap m = map.Sub("read");
    m.ReadDuration("max_search_duration", limits.max_search_duration_nanos);
    m.Read("max_bytes_per_tag_values_query", limits.max_bytes_per_tag_values_query);
    m.Finish().IgnoreError();  // errors are shared with `map`
  }
  if (map.Has("compaction")) {
    pipeline::ConfigMap m = map.Sub("compaction");
    m.ReadDuration("block_retention", limits.block_retention_nanos);
    m.Finish().IgnoreError();  // errors are shared with `map`
  }
}

// Tempo's legacy flat names (before the grouped form of Tempo 2.3).
void ReadLegacy(pipeline::ConfigMap& map, Limits& limits) {
  map.Read("ingestion_rate_limit_bytes", limits.ingestion_rate_limit_bytes);
  map.Read("ingestion_burst_size_bytes", limits.ingestion_burst_size_bytes);
  ReadTraceLimits(map, "max_traces_per_user", "max_global_traces_per_user", limits);
  map.Read("max_bytes_per_trace", limits.max_bytes_per_trace);
  map.ReadDuration("max_search_duration", limits.max_search_duration_nanos);
  map.Read("max_bytes_per_tag_values_query", limits.max_bytes_per_tag_values_query);
  map.ReadDuration("block_retention", limits.block_retention_nanos);
  map.Ignore("ingestion_rate_strategy");
}

}  // namespace

void ReadLimits(pipeline::ConfigMap& map, Limits& limits) {
  ReadGrouped(map, limits);
  ReadLegacy(map, limits);
  if (limits.ingestion_burst_size_bytes != 0 && limits.ingestion_rate_limit_bytes == 0) {
    map.Fail("", "ingestion burst_size_bytes is set without rate_limit_bytes");
  }
}

const Limits& TenantLimits::For(std::string_view tenant, const Limits& defaults) const {
  if (auto it = tenants.find(tenant); it != tenants.end()) return it->second;
  if (auto it = tenants.find("*"); it != tenants.end()) return it->second;
  return defaults;
}

absl::StatusOr<TenantLimits> ParseOverridesFile(std::string_view yaml, const Limits& defaults) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
  TenantLimits out;
  if (root.IsNull()) return out;  // an empty file: every tenant gets the defaults
  if (!root.IsMap()) return absl::InvalidArgumentError("must be a YAML map with `overrides:`");
  for (const auto& kv : root) {
    if (kv.first.as<std::string>() != "overrides") {
      return absl::InvalidArgumentError(absl::StrCat("unknown key ", kv.first.as<std::string>(),
                                                     " (line ", kv.first.Mark().line + 1,
                                                     "); the file holds `overrides:`"));
    }
  }
  const YAML::Node node = root["overrides"];
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) return absl::InvalidArgumentError("overrides: must be a map of tenant IDs");
  pipeline::ConfigMap tenants(node, "overrides");
  for (const auto& kv : node) {
    const std::string tenant = kv.first.as<std::string>();
    pipeline::ConfigMap m = tenants.Sub(tenant);
    Limits limits = defaults;
    ReadLimits(m, limits);
    if (auto s = m.Finish(); !s.ok()) return s;
    out.tenants.emplace(tenant, limits);
  }
  return out;
}

}  // namespace strand::overrides
