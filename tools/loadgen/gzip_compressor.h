// GzipCompressor: gzip for request bodies, reusing one zlib stream so that compressing
// each request costs no setup. Level 1 by default: the load generator must stay cheap.
// Not thread-safe: one per worker.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace strand::loadgen {

class GzipCompressor {
 public:
  explicit GzipCompressor(int level = 1);
  ~GzipCompressor();
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  // Replaces `out` with the gzip form of `input`.
  absl::Status Compress(std::string_view input, std::string& out);

 private:
  z_stream stream_{};
  bool ready_ = false;
};

}  // namespace strand::loadgen
