// RebuildBlockMeta: the metadata of a block whose data file survived without its
// meta.json (a crash between writing the two, or a lost file), rebuilt from the data file
// alone so that the block can be published again instead of deleted
// (docs/format/block.md, "Recovery at start").
//
// The data file is trusted only after every checksum in it has been checked and every row
// group decoded (BlockReader::Verify), and its block ID matches the directory's name.
// What the data file does not hold gets a safe value: `tenant` comes from the caller (the
// directory the block lives in), `created_unix_nano` is `now_unix_nano` (the recovery),
// `compaction_level` is 0 and `compacted_from` is empty (a recovered compaction output is
// therefore merged again by compaction; its spans are de-duplicated at read meanwhile)
// unless the writer's `meta.json.tmp` survived whole and names this data file (block ID,
// size and both checksums): then both come from it, so the block list deletes the inputs
// of a compaction whose output is recovered,
// and `column_sizes` has one entry per part of the file (`row_group.columns` for all
// column pages together) instead of one per column.
//
// Errors: DataLoss (naming the file and offset) when the data file is damaged or is not
// the block the directory names; FailedPrecondition for a newer format version; I/O errors
// as they come. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "block/block_meta.h"
#include "block/block_reader.h"
#include "common/env.h"

namespace strand::block {

// Verifies `<block_dir>/data` in full and returns the meta.json it implies (nothing is
// written). `options.verify_checksums` is ignored: checksums are always checked.
absl::StatusOr<BlockMeta> RebuildBlockMeta(Env& env, const std::string& block_dir,
                                           const std::string& tenant, int64_t now_unix_nano,
                                           BlockReaderOptions options = {});

}  // namespace strand::block
