// BlockWriter: writes one immutable block (the spans of one tenant) through an Env.
//
// Layout: `<parent_dir>/<block id>/data` (the columnar data file, docs/format/block.md)
// and `<parent_dir>/<block id>/meta.json` (BlockMeta). Traces are added in strictly
// ascending trace-ID order; each trace's spans are stored sorted by start time. Row
// groups are written to the data file as they fill, so memory stays bounded by one row
// group plus one 8-byte hash per trace and the block's distinct resources and scopes.
//
// Publication (crash safety): the data file is written, fsynced and closed, its directory
// fsynced, and only then meta.json is written to a temporary name, fsynced, renamed into
// place and the directory fsynced again. Readers and block lists consider a block only
// when meta.json exists, so a crash at any moment leaves either no block (a directory
// without meta.json: a block list removes it when its data file is missing or empty, and
// otherwise rebuilds meta.json from the data file if it verifies in full — see
// RebuildBlockMeta) or a whole one. When Finish() returns OK the block is durable.
//
// Errors are sticky: after a failed Add() or Finish() every later call returns the same
// error. A writer destroyed without a successful Finish() removes its files (best effort).
//
// Not thread-safe: one thread drives a writer. The Env must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "block/block_footer.h"
#include "block/block_id.h"
#include "block/block_meta.h"
#include "block/block_stats.h"
#include "block/block_tables_builder.h"
#include "block/page_codec.h"
#include "block/row_group_builder.h"
#include "common/clock.h"
#include "common/env.h"
#include "otlp/proto_encoder.h"

namespace strand::block {

struct BlockWriterOptions {
  // A row group is closed once it holds this many spans (a trace may continue in the
  // next one) or about this many bytes of column data.
  uint32_t spans_per_row_group = 10000;
  uint64_t max_row_group_bytes = 64ull << 20;
  int zstd_level = 9;
  // false stores every page uncompressed (tests and debugging).
  bool compress = true;
  double bloom_false_positive_rate = 0.01;
  // The block's ID; random when unset.
  std::optional<BlockId> block_id;
  // Source of meta.json's created_unix_nano. Not owned; must outlive the writer.
  Clock* clock = Clock::Real();
  uint32_t compaction_level = 0;
  // true promises that every batch passed to Add() stays alive (at the same address)
  // until Finish(): the writer then remembers each (batch, scope) it has interned across
  // calls instead of once per Add(), which saves re-encoding shared resources for every
  // trace. The block cutter keeps its decoded batches for the whole block.
  bool batches_outlive_writer = false;
  // Recorded in meta.json: the blocks a compaction merged into this one.
  std::vector<BlockId> compacted_from;
  // The block's time range (footer and meta.json) when set and not empty; otherwise the
  // extent of its spans' own start and end times. The store passes where it placed the
  // spans (an out-of-range span by its ingest time), compaction the union of its inputs'
  // ranges (docs/format/block.md, "Time range"). The spans are stored unchanged.
  std::optional<TimeRange> time_range;
};

class BlockWriter {
 public:
  // Creates the block directory `<parent_dir>/<block id>` (AlreadyExists if present),
  // makes its entry durable and starts the data file. On failure it removes the
  // directory again if it created it (best effort).
  static absl::StatusOr<std::unique_ptr<BlockWriter>> Create(Env& env, std::string parent_dir,
                                                             std::string tenant,
                                                             BlockWriterOptions options = {});
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // Adds one trace: `spans` are all its spans (from any batches, which need only live
  // for the call), in any order. `id` must be greater than the previous call's, every
  // span must carry it, and `spans` must not be empty (InvalidArgument otherwise).
  absl::Status Add(const otlp::TraceId& id, std::span<const otlp::SpanRef> spans);

  // Writes the sections and footer, syncs, and publishes meta.json. FailedPrecondition
  // if no trace was added (nothing is published then).
  absl::StatusOr<BlockMeta> Finish();

  // Stops and removes what was written (best effort). Idempotent; no-op after Finish().
  void Abandon();

  const BlockId& block_id() const { return block_id_; }
  const std::string& dir() const { return dir_; }
  uint64_t trace_count() const { return trace_count_; }
  uint64_t span_count() const { return span_count_; }

 private:
  BlockWriter(Env& env, std::string parent_dir, std::string tenant, BlockWriterOptions options,
              BlockId id);
  absl::Status Open();
  absl::Status FlushRowGroup();
  absl::Status AppendSection(std::string_view raw, bool compress, PageRef* ref);
  absl::StatusOr<BlockMeta> FinishInternal();
  absl::Status Fail(absl::Status status);

  Env& env_;
  const std::string parent_dir_;
  const std::string tenant_;
  const BlockWriterOptions options_;
  const BlockId block_id_;
  const std::string dir_;
  const std::string data_path_;

  absl::Status status_;
  bool finished_ = false;
  bool abandoned_ = false;
  bool created_dir_ = false;  // Open() created dir_, so Abandon() may remove it
  std::unique_ptr<WritableFile> file_;
  uint64_t offset_ = 0;  // bytes appended to the data file
  std::string header_;

  PageCompressor compressor_;
  BlockTablesBuilder tables_;
  std::unique_ptr<RowGroupBuilder> row_group_;
  BlockFooter footer_;
  BlockStats stats_;
  std::vector<uint64_t> trace_hashes_;
  std::map<std::string, uint64_t> column_sizes_;
  std::optional<otlp::TraceId> last_trace_;
  TimeRange span_times_;  // the extent of the added spans' own times
  // (batch, scope index) -> block scope ID, across Add() calls (batches_outlive_writer).
  absl::flat_hash_map<std::pair<const otlp::SpanBatch*, uint32_t>, uint32_t> stable_scope_ids_;
  uint64_t trace_count_ = 0;
  uint64_t span_count_ = 0;
};

}  // namespace strand::block
