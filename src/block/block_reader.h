// BlockReader: an open block — finds traces by ID, scans row groups, reads statistics and
// verifies checksums.
//
// Open() validates the data file's framing: header magic, checksum and version; trailer
// magic; footer checksum (which also covers the trailer's version); the footer's layout;
// the bloom filter's checksum; and, when opened through its directory, that data file
// and meta.json agree (size, block ID, checksums). Damage is DataLoss naming the file and
// the offset; a format version newer than this build's is FailedPrecondition (a newer
// Strand wrote it: do not quarantine it). No corrupt input crashes the reader.
//
// Memory held while open: the footer (per row group: offsets, counts and the first and
// last trace ID, the first level of the trace index) and the bloom filter — about 1.2
// bytes per trace plus ~100 bytes per row group — or, with bloom_in_memory = false, only
// the footer. Everything else is read per call.
//
// Lookup cost: FindTrace() checks the bloom filter, binary-searches the row groups'
// trace-ID ranges, reads the tables section and each row group whose range holds the ID
// (one, unless the trace was split), and decodes only that trace's rows.
//
// Thread-safe: const methods may run concurrently. The Env must outlive the reader.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "block/block_footer.h"
#include "block/block_meta.h"
#include "block/block_stats.h"
#include "block/block_tables.h"
#include "block/bloom_filter.h"
#include "block/row_group_decoder.h"
#include "common/env.h"
#include "otlp/span_batch.h"

namespace strand::block {

struct BlockReaderOptions {
  // Pages that claim more raw bytes than this are treated as damage.
  uint64_t max_page_bytes = 1ull << 30;
  // false skips checksums, so tests and fuzzers reach the structural checks behind them.
  // Never false in production.
  bool verify_checksums = true;
  // false: the bloom filter is read and checked at Open, then not held; MayContain()
  // probes its k bits in the file (k one-byte reads, page-cache hits once warm). Memory
  // then stays per block, not per trace.
  bool bloom_in_memory = true;
};

// A row group that may hold a trace but was not read: skipped, or found damaged.
struct UnreadRowGroup {
  size_t index = 0;
  absl::Status error;  // why (DataLoss for damage)
};

// The spans of one trace found in a block, and what finding them cost.
struct FoundTrace {
  otlp::SpanBatch spans;  // owns its strings; spans in start-time order
  uint64_t inspected_bytes = 0;
  uint32_t row_groups_read = 0;
  // Row groups whose trace-ID range holds the trace but that were not read (see
  // FindTraceOptions); the trace may have more spans in them. Empty by default.
  std::vector<UnreadRowGroup> unread;
};

struct FindTraceOptions {
  // Asked before reading a row group whose range holds the trace: a non-OK answer skips
  // it (listed in FoundTrace::unread with that error). Null reads every such row group.
  std::function<absl::Status(size_t index)> skip;
  // A row group found damaged (DataLoss) is listed in FoundTrace::unread and the lookup
  // goes on with the others, instead of failing with its error.
  bool continue_past_damage = false;
};

// The decoded spans of one row group.
struct RowGroupData {
  struct Trace {
    otlp::TraceId id{};
    uint32_t begin = 0;  // span index range in `batch`
    uint32_t end = 0;
  };
  otlp::SpanBatch batch;      // spans in row order: by trace ID, then start time
  std::vector<Trace> traces;  // ascending IDs; the first and last may continue in the
                              // neighbouring row groups
};

class BlockReader {
 public:
  // Opens `<block_dir>/meta.json` and `<block_dir>/data` and checks they agree.
  static absl::StatusOr<std::unique_ptr<BlockReader>> Open(Env& env, const std::string& block_dir,
                                                           BlockReaderOptions options = {});
  // Opens a data file without its meta.json (tools, fuzzing).
  static absl::StatusOr<std::unique_ptr<BlockReader>> OpenFile(
      std::unique_ptr<RandomAccessFile> file, BlockReaderOptions options = {});

  const std::string& path() const { return file_->path(); }
  const BlockFooter& footer() const { return footer_; }
  // Set when opened through the block directory.
  const std::optional<BlockMeta>& meta() const { return meta_; }
  size_t num_row_groups() const { return footer_.row_groups.size(); }

  // False means the trace is certainly not in the block.
  bool MayContain(const otlp::TraceId& id) const;

  // The trace's spans in this block, or nullopt if it has none (and no row group that
  // may hold it went unread). Damage in the tables section fails the lookup (DataLoss);
  // in a row group, too, unless `options` say to go on past it.
  absl::StatusOr<std::optional<FoundTrace>> FindTrace(const otlp::TraceId& id,
                                                      const FindTraceOptions& options = {}) const;

  // The resource and scope tables (needed to decode row groups).
  absl::StatusOr<BlockTables> ReadTables() const;
  // Decodes row group `index` (< num_row_groups()), checking it fully.
  absl::StatusOr<RowGroupData> ReadRowGroup(size_t index, const BlockTables& tables) const;
  // Opens row group `index`, reading its directory and (with `load_traces`) its trace
  // segments now and every other page only when used: for searches that look at a few
  // columns before deciding to decode, and decode only the columns they need. Without
  // `load_traces`, only the column accessors (SpanVarints, SpanStrings, ForEachSpanAttribute) may
  // be used.
  absl::StatusOr<std::unique_ptr<RowGroupDecoder>> OpenRowGroup(size_t index,
                                                                bool load_traces = true) const;
  // Decodes every trace of an opened row group (pages it already decompressed are reused).
  static absl::StatusOr<RowGroupData> DecodeRowGroup(RowGroupDecoder& decoder,
                                                     const BlockTables& tables);
  // Calls `fn` with every row group in order; stops at the first error (its or ours).
  absl::Status Scan(absl::FunctionRef<absl::Status(RowGroupData&&)> fn) const;

  // The statistics section, checked against the footer (row group count, and each row
  // group's span and trace segment counts): DataLoss when it does not agree.
  absl::StatusOr<BlockStats> ReadStats() const;

  // Checks every checksum (header, footer, every page and section) and decodes every row
  // group. OK means the block is intact.
  absl::Status Verify() const;
  // Checks row group `index` alone: its page checksums, and that it decodes in full.
  absl::Status VerifyRowGroup(size_t index, const BlockTables& tables) const;

  // Bytes held while open (footer and bloom filter).
  size_t MemoryUsage() const;

 private:
  BlockReader(std::unique_ptr<RandomAccessFile> file, BlockReaderOptions options,
              BlockFooter footer, std::optional<BloomFilter> bloom)
      : file_(std::move(file)),
        options_(options),
        footer_(std::move(footer)),
        bloom_(std::move(bloom)) {}

  // Reads exactly `size` bytes at `offset`.
  absl::StatusOr<std::string> ReadExactly(uint64_t offset, uint64_t size) const;
  absl::StatusOr<std::string> ReadSection(const PageRef& ref) const;
  // Reads row group `index` whole and opens it (its directory checked; pages not yet).
  absl::StatusOr<std::unique_ptr<RowGroupDecoder>> ReadWholeRowGroup(size_t index) const;
  // Adds the trace's segment in row group `index` (if any) to `found`. With
  // `all_or_nothing`, a failure leaves `found.spans` and `map` as they were.
  absl::Status FindInRowGroup(const otlp::TraceId& id, size_t index, const BlockTables& tables,
                              BlockTables::BatchMap& map, bool all_or_nothing,
                              FoundTrace& found) const;

  std::unique_ptr<RandomAccessFile> file_;
  BlockReaderOptions options_;
  BlockFooter footer_;
  std::optional<BloomFilter> bloom_;  // unset when probed on disk (below)
  uint64_t bloom_bits_offset_ = 0;    // file offset of the filter's bits
  uint64_t bloom_num_bits_ = 0;
  uint32_t bloom_hashes_ = 0;
  std::optional<BlockMeta> meta_;
};

}  // namespace strand::block
