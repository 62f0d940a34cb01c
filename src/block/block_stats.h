// BlockStats: per-row-group statistics that let a search skip row groups without reading
// them (docs/format/block.md, "Statistics section"). Stored compressed in the data file
// and read only on demand: an open BlockReader does not hold them.
//
// Plain value types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "block/block_format.h"
#include "otlp/span_batch.h"

namespace strand::block {

// Distinct-value lists hold at most this many entries; past it they are marked
// incomplete (and left empty for attribute values).
inline constexpr size_t kMaxStatsDistinct = 1000;
inline constexpr size_t kMaxStatsAttributeValues = 32;

// A list of distinct strings; when `complete` is false it may be missing values.
struct DistinctStrings {
  bool complete = true;
  std::vector<std::string> values;  // sorted
};

struct AttributeColumnStats {
  Owner owner = Owner::kSpan;
  otlp::ValueType type = otlp::ValueType::kNone;
  std::string key;
  uint64_t value_count = 0;
  // Min and max of an int or double column (NaNs ignored); has_range is false when
  // there is no such value.
  bool has_range = false;
  int64_t min_int = 0;
  int64_t max_int = 0;
  double min_double = 0;
  double max_double = 0;
  // Distinct values of a string column, when there are at most kMaxStatsAttributeValues.
  DistinctStrings values{false, {}};
};

struct RowGroupStats {
  uint64_t span_count = 0;
  uint64_t trace_count = 0;  // trace segments
  uint64_t min_start = 0;
  uint64_t max_start = 0;
  uint64_t min_end = 0;
  uint64_t max_end = 0;
  uint64_t min_duration = 0;  // end - start, 0 when end < start
  uint64_t max_duration = 0;
  DistinctStrings service_names;  // resource "service.name"
  DistinctStrings span_names;
  DistinctStrings resource_keys;
  std::vector<int32_t> kinds;                 // sorted distinct
  std::vector<int32_t> status_codes;          // sorted distinct
  std::vector<AttributeColumnStats> columns;  // span, event and link attribute columns
};

struct BlockStats {
  std::vector<RowGroupStats> row_groups;

  // Appends the raw (uncompressed) section body.
  void Encode(std::string* out) const;
  // Parses a raw section body; damage is DataLoss naming `path` and `offset`.
  static absl::StatusOr<BlockStats> Decode(std::string_view raw, std::string_view path,
                                           uint64_t offset);
};

}  // namespace strand::block
