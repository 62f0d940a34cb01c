// BlockTablesBuilder: the block-wide tables of distinct resources and instrumentation
// scopes that spans refer to by index (docs/format/block.md, "Tables section"). A
// resource or scope that appears in many batches is stored once per block: entries are
// deduplicated by their encoded bytes, so equal content gets one index.
//
// Not thread-safe; owned by one BlockWriter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "otlp/span_batch.h"

namespace strand::block {

class BlockTablesBuilder {
 public:
  // The block-wide index of `batch.scopes[scope_index]` (with its resource), adding the
  // scope and the resource if they are new. The batch is not referenced afterwards.
  uint32_t InternScope(const otlp::SpanBatch& batch, uint32_t scope_index);

  size_t num_scopes() const { return scopes_.size(); }
  size_t num_resources() const { return resources_.size(); }
  uint32_t resource_of(uint32_t scope) const { return scopes_[scope].resource; }
  // The resource's "service.name" string attribute, or "" when it has none.
  const std::string& service_name(uint32_t resource) const {
    return resources_[resource].service_name;
  }
  // The resource's attribute keys, in order.
  const std::vector<std::string>& resource_keys(uint32_t resource) const {
    return resources_[resource].keys;
  }

  // Appends the raw (uncompressed) body of the tables section.
  void Encode(std::string* out) const;

 private:
  struct ResourceEntry {
    std::string bytes;
    std::string service_name;
    std::vector<std::string> keys;
  };
  struct ScopeEntry {
    std::string bytes;
    uint32_t resource = 0;
  };

  std::vector<ResourceEntry> resources_;
  std::vector<ScopeEntry> scopes_;
  absl::flat_hash_map<std::string, uint32_t> resource_index_;
  absl::flat_hash_map<std::string, uint32_t> scope_index_;
  std::string scratch_;
};

}  // namespace strand::block
