// Decompression of request bodies by their Content-Encoding (and compression of exporter
// bodies). Every decoder stops at `max_output` bytes so a small compressed body cannot
// expand without bound. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace strand {

// Decodes `input` encoded as `encoding` ("gzip", "x-gzip", "deflate", "zstd", "snappy";
// "" or "identity" returns the input). Unknown encodings → InvalidArgument ("unsupported
// Content-Encoding"); corrupt data → InvalidArgument; output over `max_output` →
// ResourceExhausted.
absl::StatusOr<std::string> Decompress(std::string_view encoding, std::string&& input,
                                       size_t max_output);

// Compresses with "gzip" or "zstd".
absl::StatusOr<std::string> Compress(std::string_view encoding, std::string_view input);

}  // namespace strand
