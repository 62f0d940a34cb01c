// Limits: what one tenant may ingest, keep and query (Tempo's "overrides"), and the
// readers of their YAML forms: Strand's `strand.overrides.defaults` and the per-tenant
// overrides file, whose shape is Tempo's (a top-level `overrides:` map of tenant ID to
// limits; `"*"` stands for every tenant the file does not name).
//
// Key names are Tempo's, both its grouped form (`ingestion: {rate_limit_bytes, ...}`,
// `global: {max_bytes_per_trace}`, `read: {...}`, `compaction: {block_retention}`) and its
// legacy flat form (`ingestion_rate_limit_bytes`, `max_bytes_per_trace`, ...). Unknown keys
// are errors naming the key. docs/configuration.md lists them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace strand::pipeline {
class ConfigMap;
}

namespace strand::overrides {

// Zero means "no limit" for every field but the retention, where it means "the store-wide
// retention" (strand.store.retention), as in Tempo.
struct Limits {
  // Token bucket on OTLP request bytes: refill rate (bytes/s) and depth (bytes). A burst
  // of 0 with a rate is one second's worth.
  uint64_t ingestion_rate_limit_bytes = 0;
  uint64_t ingestion_burst_size_bytes = 0;
  // Bytes (OTLP protobuf) one live trace may hold; spans past it are refused.
  uint64_t max_bytes_per_trace = 0;
  // Live traces (not yet cut into blocks) a tenant may hold; new traces past it are refused.
  uint64_t max_traces_per_user = 0;
  // The longest start..end range a search may ask for. Tempo's query-frontend default.
  int64_t max_search_duration_nanos = 168ll * 3600 * 1'000'000'000;
  // Bytes of values one tag-values query may return (the rest is left off).
  uint64_t max_bytes_per_tag_values_query = 0;
  // How long the tenant's blocks are kept; 0: the store-wide retention.
  int64_t block_retention_nanos = 0;

  bool operator==(const Limits&) const = default;
};

// Reads the limits set in `map` over `limits` (keys absent keep their value). Errors go to
// `map` (ConfigMap::Finish reports them, with unknown keys).
void ReadLimits(pipeline::ConfigMap& map, Limits& limits);

// The parsed per-tenant overrides file: each named tenant's limits (the defaults with the
// file's settings applied). The entry "*", when present, applies to every other tenant.
struct TenantLimits {
  std::map<std::string, Limits, std::less<>> tenants;
  const Limits& For(std::string_view tenant, const Limits& defaults) const;
};

// Parses an overrides file (YAML, `overrides: {<tenant>: <limits>}`) over `defaults`.
// InvalidArgument naming the tenant and key on any error.
absl::StatusOr<TenantLimits> ParseOverridesFile(std::string_view yaml, const Limits& defaults);

}  // namespace strand::overrides
