// BlockTables: the resource and scope tables of a block as read from disk (the tables
// section, docs/format/block.md). Parse() checks the structure and the references between
// entries; attribute bodies are decoded when an entry is copied into a batch, and damage
// found then is reported as DataLoss too.
//
// Immutable after Parse(): thread-safe for concurrent use. Owns its bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/span_batch.h"

namespace strand::block {

class BlockTables {
 public:
  // Remembers which block entries were already copied into one output batch.
  struct BatchMap {
    std::vector<int64_t> scope;     // block scope -> batch scope, -1 if not yet copied
    std::vector<int64_t> resource;  // block resource -> batch resource, -1 if not yet copied
  };

  // Parses the raw (decompressed) tables section; `path` and `offset` name it in errors.
  static absl::StatusOr<BlockTables> Parse(std::string raw, std::string_view path, uint64_t offset);

  size_t num_scopes() const { return scopes_.size(); }
  size_t num_resources() const { return resources_.size(); }
  uint32_t resource_of(uint32_t scope) const { return scopes_[scope].resource; }

  BatchMap NewBatchMap() const;
  // The index in `out.scopes` of block scope `scope` (< num_scopes()), copying the scope
  // and its resource into `out` the first time `map` sees them.
  absl::StatusOr<uint32_t> CopyScope(uint32_t scope, otlp::SpanBatch& out, BatchMap& map) const;

  // The attributes of resource `r`, decoded into `out` (for statistics and tools).
  absl::StatusOr<uint32_t> CopyResource(uint32_t r, otlp::SpanBatch& out, BatchMap& map) const;

 private:
  struct ResourceEntry {
    std::string_view attributes;  // kvlist body
    uint32_t dropped = 0;
    std::string_view schema_url;
  };
  struct ScopeEntry {
    uint32_t resource = 0;
    std::string_view name;
    std::string_view version;
    std::string_view attributes;
    uint32_t dropped = 0;
    std::string_view schema_url;
  };

  BlockTables() = default;

  std::unique_ptr<std::string> raw_;  // the views below point into it
  std::string path_;
  uint64_t offset_ = 0;
  std::vector<ResourceEntry> resources_;
  std::vector<ScopeEntry> scopes_;
};

}  // namespace strand::block
