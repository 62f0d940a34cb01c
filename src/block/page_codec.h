// Page compression and checksums (docs/format/block.md, "Pages"). A page is a run of bytes
// stored with a codec (none or zstd); whoever points at it records its codec, stored
// size, raw size and Checksum32 of the stored bytes.
//
// PageCompressor keeps one zstd context; it is not thread-safe (one per writer).
// DecompressPage is stateless and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "block/block_format.h"

namespace strand::block {

// Where a page sits and how to read it back.
struct PageRef {
  uint64_t offset = 0;       // from the start of the file, or of the row group
  uint64_t stored_size = 0;  // bytes on disk
  uint64_t raw_size = 0;     // bytes after decompression
  Codec codec = Codec::kNone;
  uint32_t checksum = 0;  // Checksum32 of the stored bytes
};

class PageCompressor {
 public:
  // `level` is a zstd compression level; with `enabled` false every page is stored
  // uncompressed (tests and debugging).
  explicit PageCompressor(int level, bool enabled = true);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  // Compresses `raw` with zstd unless that saves less than 1/32 of it, appends the stored
  // bytes to `out`, and returns the page's reference (offset = where it starts in `out`).
  PageRef Append(std::string_view raw, std::string* out);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  int level_;
  bool enabled_;
};

// Checks the stored bytes against `ref` (size, checksum) and returns the raw bytes:
// `stored` itself for uncompressed pages, else a decompression into `scratch`. Damage is
// DataLoss naming `path` and `file_offset` (where the page starts in the file). Raw sizes
// above `max_raw_size` are refused as damage too. `verify_checksum` false skips the
// checksum (only for tests and fuzzing of the structural checks behind it).
absl::StatusOr<std::string_view> DecodePage(std::string_view stored, const PageRef& ref,
                                            std::string_view path, uint64_t file_offset,
                                            uint64_t max_raw_size, std::string* scratch,
                                            bool verify_checksum = true);

}  // namespace strand::block
