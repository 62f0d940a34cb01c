// BlockDamage: what is known to be damaged in one open block, so that reads go on with
// the rest of it (docs/format/block.md, "Damage found while serving").
//
// Three parts can be damaged independently:
//   - the tables section (resources and scopes): no row group can be decoded, so nothing
//     of the block is readable; the footer and bloom filter still say which traces it
//     holds, so a lookup can answer "unavailable" instead of "not found";
//   - the statistics section: searches cannot plan the block and skip it; lookups by
//     trace ID are unaffected;
//   - single row groups: reads skip them and go on with the others.
// Damage is recorded when found (at open for the sections, by the first read for row
// groups) and only in memory: the block's files stay where they are, and a restart finds
// the damage again.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace strand::store {

enum class BlockPart { kTables, kStats, kRowGroup };

const char* BlockPartName(BlockPart part);

class BlockDamage {
 public:
  // Records damage; `row_group` is used with kRowGroup only. Returns false when that part
  // was already known damaged (nothing changes then).
  bool Mark(BlockPart part, size_t row_group, const absl::Status& why);

  // The damage that makes row group `index` unreadable (its own, or the tables
  // section's), or OK.
  absl::Status RowGroup(size_t index) const;
  // The tables section's damage (nothing is decodable), or OK.
  absl::Status Tables() const;
  // The statistics section's damage (searches cannot plan the block), or OK.
  absl::Status Stats() const;
  // The damage that keeps a search from reading the block at all (tables or
  // statistics), or OK.
  absl::Status Searchable() const;
  // Whether anything is known damaged.
  bool any() const;
  // Row groups known damaged (not counting those lost to the tables section).
  size_t damaged_row_groups() const;

 private:
  mutable absl::Mutex mu_;
  absl::Status tables_ ABSL_GUARDED_BY(mu_);
  absl::Status stats_ ABSL_GUARDED_BY(mu_);
  std::map<size_t, absl::Status> row_groups_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand::store
