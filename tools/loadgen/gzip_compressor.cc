#include "loadgen/gzip_compressor.h"

namespace strand::loadgen {

GzipCompressor::GzipCompressor(int level) {
  // 15 window bits + 16 selects the gzip wrapper.
  ready_ = deflateInit2(&stream_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipCompressor::~GzipCompressor() {
  if (ready_) deflateEnd(&stream_);
}

absl::Status GzipCompressor::Compress(std::string_view input, std::string& out) {
  if (!ready_) return absl::InternalError("deflateInit2 failed");
  if (deflateReset(&stream_) != Z_OK) return absl::InternalError("deflateReset failed");
  out.resize(deflateBound(&stream_, static_cast<uLong>(input.size())));
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream_.avail_in = static_cast<uInt>(input.size());
  stream_.next_out = reinterpret_cast<Bytef*>(out.data());
  stream_.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream_, Z_FINISH) != Z_STREAM_END) {
    return absl::InternalError("deflate did not finish");
  }
  out.resize(out.size() - stream_.avail_out);
  return absl::OkStatus();
}

}  // namespace strand::loadgen
