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

struct BlockFooter {
  BlockId block_id;
  uint64_t span_count = 0;
  uint64_t trace_count = 0;  // distinct traces
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
