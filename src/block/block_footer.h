// BlockFooter: the data file's framing — header, footer and trailer (docs/format/block.md,
// "File layout"). The footer locates everything else: the row groups with their trace-ID
// ranges (the first level of the trace index), the tables, statistics and bloom filter
// sections. It is what an open BlockReader keeps in memory, with the bloom filter.
//
// Plain value types and stateless functions; thread-compatible. Decoders validate
// untrusted bytes and return DataLoss naming the file and offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "block/block_id.h"
#include "block/page_codec.h"
#include "otlp/span_batch.h"

namespace strand::block {

struct RowGroupInfo {
  uint64_t offset = 0;  // file offset of the row group's first byte
  uint64_t size = 0;    // bytes: pages, then the directory
  PageRef directory;    // offset relative to `offset`; ends the row group
  uint32_t span_count = 0;
  uint32_t trace_count = 0;  // trace segments (a trace may continue in the next group)
  otlp::TraceId first_trace{};
  otlp::TraceId last_trace{};
};

// A block's time range: the smallest and largest start and end times (unix ns) of what
// it holds (docs/format/block.md, "Time range"). Empty until something is added.
struct TimeRange {
  uint64_t min_start = UINT64_MAX;
  uint64_t max_start = 0;
  uint64_t min_end = UINT64_MAX;
  uint64_t max_end = 0;

  bool empty() const { return min_start == UINT64_MAX && max_start == 0; }
  // Widens the range to cover one span's (or a placement's) start and end.
  void Add(uint64_t start, uint64_t end) {
    min_start = start < min_start ? start : min_start;
    max_start = start > max_start ? start : max_start;
    min_end = end < min_end ? end : min_end;
    max_end = end > max_end ? end : max_end;
  }
  // Widens the range to cover `other` (no-op when `other` is empty).
  void Merge(const TimeRange& other) {
    if (other.empty()) return;
    Add(other.min_start, other.max_end);
    Add(other.max_start, other.min_end);
  }
  bool operator==(const TimeRange&) const = default;
};

struct BlockFooter {
  BlockId block_id;
  uint64_t span_count = 0;
  uint64_t trace_count = 0;  // distinct traces
  // The block's time range (docs/format/block.md, "Time range"): where the block is
  // placed in time, which need not cover every span's own times.
  uint64_t min_start = 0;
  uint64_t max_start = 0;
  uint64_t min_end = 0;
  uint64_t max_end = 0;
  PageRef tables;  // file offsets
  PageRef stats;
  PageRef bloom;  // codec none
  uint32_t bloom_hashes = 0;
  std::vector<RowGroupInfo> row_groups;

  void Encode(std::string* out) const;
  // Parses and validates a footer that sits at `footer_offset` of `path`: every section
  // and row group must lie between the header and the footer, in order.
  static absl::StatusOr<BlockFooter> Decode(std::string_view raw, std::string_view path,
                                            uint64_t footer_offset);
  // Heap bytes held (for memory accounting).
  size_t MemoryUsage() const;
  TimeRange time_range() const { return {min_start, max_start, min_end, max_end}; }
  void set_time_range(const TimeRange& r) {
    min_start = r.min_start;
    max_start = r.max_start;
    min_end = r.min_end;
    max_end = r.max_end;
  }
};

// The 36-byte file header.
std::string EncodeHeader(const BlockId& id);
// Validates magic, checksum and version; returns the block ID. A version newer than
// kFormatVersion is FailedPrecondition (written by a newer Strand), not DataLoss.
absl::StatusOr<BlockId> DecodeHeader(std::string_view bytes, std::string_view path,
                                     bool verify_checksum = true);

struct Trailer {
  uint32_t footer_size = 0;
  uint32_t footer_checksum = 0;  // FooterChecksum(footer, version, flags)
  uint32_t version = kFormatVersion;
  uint32_t flags = 0;
};
// The 24-byte trailer that ends the file. Its layout is the same in every version.
std::string EncodeTrailer(const Trailer& trailer);
// Checks only the trailer's magic (at `offset` + 16): version and flags are trusted only
// once the footer checksum, which covers them, matched.
absl::StatusOr<Trailer> DecodeTrailer(std::string_view bytes, std::string_view path,
                                      uint64_t offset);
// Checksum32 of the footer bytes followed by the trailer's version and flags.
uint32_t FooterChecksum(std::string_view footer, uint32_t version, uint32_t flags);
// OK for version 1..kFormatVersion and flags 0; FailedPrecondition for a newer version
// or unknown flags; DataLoss for version 0.
absl::Status CheckVersion(std::string_view path, uint64_t offset, uint32_t version, uint32_t flags);

}  // namespace strand::block
