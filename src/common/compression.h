// Decompression of request bodies by their Content-Encoding (and compression of exporter
// bodies). Every decoder stops at `max_output` bytes so a small compressed body cannot
// expand without bound. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/memory_budget.h"

namespace strand {

// Decodes `input` encoded as `encoding` ("gzip", "x-gzip", "deflate", "zstd", "snappy";
// "" or "identity" returns the input). Unknown encodings → InvalidArgument ("unsupported
// Content-Encoding"); corrupt data → InvalidArgument; output over `max_output` →
// ResourceExhausted.
//
// With a `lease`, the output's memory is taken from the lease's budget as it grows (the
// lease is then resized to input plus output); when the budget cannot give it, the
// decoding stops with Unavailable. `input` is consumed: its memory is freed before return.
absl::StatusOr<std::string> Decompress(std::string_view encoding, std::string&& input,
                                       size_t max_output, MemoryLease* lease = nullptr);

// The gzip / deflate level Compress uses when none is given: level 1 is the fastest, and
// on strand-loadgen's OTLP protobuf its output is ~13% larger than level 6's
// (bench/README.md, "Collector").
inline constexpr int kDefaultGzipLevel = 1;

// Compresses with "gzip", "deflate" (zlib-wrapped, as HTTP means it), "snappy" or "zstd".
// `level` (gzip and deflate: 1-12; 0 = kDefaultGzipLevel) trades speed for size.
absl::StatusOr<std::string> Compress(std::string_view encoding, std::string_view input,
                                     int level = 0);

}  // namespace strand
