// BlockMeta: a block's metadata, stored as meta.json beside its data file and written
// last, so that its presence publishes the block (docs/format/block.md, "meta.json"). It
// is what a block list holds per block; it is human-readable JSON on purpose.
//
// A value type; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "block/block_footer.h"
#include "block/block_format.h"
#include "block/block_id.h"

namespace strand::block {

struct BlockMeta {
  uint32_t format_version = kFormatVersion;
  BlockId block_id;
  std::string tenant;
  uint64_t min_start_unix_nano = 0;
  uint64_t max_start_unix_nano = 0;
  uint64_t min_end_unix_nano = 0;
  uint64_t max_end_unix_nano = 0;
  uint64_t trace_count = 0;
  uint64_t span_count = 0;
  uint64_t row_group_count = 0;
  uint64_t data_size = 0;        // bytes of the data file
  uint32_t header_checksum = 0;  // the data file header's checksum field
  uint32_t footer_checksum = 0;  // the data file trailer's footer checksum
  uint64_t footer_bytes = 0;     // footer + trailer
  uint64_t bloom_bytes = 0;
  int64_t created_unix_nano = 0;
  uint32_t compaction_level = 0;  // 0 for blocks cut from live traces
  // The blocks this one was compacted from (empty for cut blocks). A block list that
  // finds this block published and one of these still present deletes the input: the
  // compaction finished, only its clean-up was interrupted.
  std::vector<BlockId> compacted_from;
  // Stored bytes per column (summed over row groups) and per section, sorted by name.
  std::vector<std::pair<std::string, uint64_t>> column_sizes;

  // The fields a data file determines: from its footer, its size and the checksums in
  // its header and trailer (block ID, time range, counts, sizes). The rest stays default.
  static BlockMeta FromFooter(const BlockFooter& footer, uint64_t data_size,
                              uint32_t header_checksum, uint32_t footer_checksum);

  std::string ToJson() const;
  // Parses meta.json. Malformed JSON or missing fields are DataLoss naming `path`; a
  // format version newer than this build reads is FailedPrecondition. Unknown fields are
  // ignored.
  static absl::StatusOr<BlockMeta> FromJson(std::string_view json, std::string_view path);

  bool operator==(const BlockMeta&) const = default;
};

}  // namespace strand::block
