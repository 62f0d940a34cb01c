// CompactBlocks: merges blocks of one tenant into one new block, keeping each span once.
//
// The inputs' row groups are streamed in trace-ID order (a k-way merge: every input is
// sorted by trace ID, and a trace may continue across row groups of one block and exist
// in several blocks). Each output trace is written with one BlockWriter::Add call holding
// its spans from every input; spans with the same (span ID, kind) are kept once, the
// first copy winning: inputs in the order given, then row order within an input. (The
// kind is part of the key because Zipkin-style shared spans carry one span ID for the
// client and the server side.)
//
// Memory: one decoded row group per input (decoded only when the merge reaches it),
// plus the row groups still holding spans of the trace being merged (a trace that
// continues into an input's next row group keeps the previous one alive until it is
// written), plus the output writer's one row group and every input's resource and scope
// tables. Whole blocks are never loaded; CompactResult reports the peak.
//
// Time range: the output's is the union of the inputs' (their footers'), not the extent
// of the spans' own times, so spans the store placed by their ingest time stay placed so
// (docs/format/block.md, "Time range").
//
// Publication and failure: the output is published atomically by BlockWriter (meta.json
// last), naming its inputs in meta.json's compacted_from (inputs opened with their meta). On any
// error the partial output is abandoned (its files removed, best effort) and the error returned;
// damage in an input is the reader's DataLoss, prefixed with the input block's directory. Inputs
// are only read: the caller swaps the block list and deletes them.
//
// Thread safety: CompactBlocks may run concurrently with readers of the inputs (their
// const methods are thread-safe) and with other compactions writing other blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "block/block_meta.h"
#include "block/block_reader.h"
#include "block/block_writer.h"
#include "common/env.h"

namespace strand::block {

struct CompactOptions {
  // Options of the output block's writer; its compaction_level is replaced by the one
  // below, and an unset time_range becomes the union of the inputs' ranges.
  BlockWriterOptions writer;
  // The output's compaction level; max(input levels) + 1 when unset. An input opened
  // without its meta.json counts as level 0.
  std::optional<uint32_t> compaction_level;
};

struct CompactResult {
  BlockMeta meta;                   // the published output block
  uint64_t input_spans = 0;         // spans read from all inputs
  uint64_t output_spans = 0;        // spans written (meta.span_count)
  uint64_t duplicates_dropped = 0;  // input_spans - output_spans
  // The most decoded input row groups alive at once, and their SpanBatch::MemoryUsage():
  // the compaction's memory beyond the output writer's and the inputs' tables.
  uint64_t peak_row_groups = 0;
  uint64_t peak_decoded_bytes = 0;
};

// Merges `inputs` (non-empty, open readers of blocks of `tenant`; not owned, and they
// must stay open for the call) into one new block under `parent_dir`. InvalidArgument
// when `inputs` is empty or an input's meta.json names another tenant.
absl::StatusOr<CompactResult> CompactBlocks(Env& env, std::span<const BlockReader* const> inputs,
                                            const std::string& parent_dir,
                                            const std::string& tenant, CompactOptions options = {});

}  // namespace strand::block
