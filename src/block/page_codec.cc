#include "block/page_codec.h"

#include <zstd.h>

#include <string>

#include "common/checksum.h"

namespace strand::block {

struct PageCompressor::Context {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string buffer;
  ~Context() { ZSTD_freeCCtx(cctx); }
};

PageCompressor::PageCompressor(int level, bool enabled)
    : context_(std::make_unique<Context>()), level_(level), enabled_(enabled) {}

PageCompressor::~PageCompressor() = default;

PageRef PageCompressor::Append(std::string_view raw, std::string* out) {
  PageRef ref;
  ref.offset = out->size();
  ref.raw_size = raw.size();
  if (enabled_ && raw.size() >= 64) {
    std::string& buf = context_->buffer;
    buf.resize(ZSTD_compressBound(raw.size()));
    const size_t n =
        ZSTD_compressCCtx(context_->cctx, buf.data(), buf.size(), raw.data(), raw.size(), level_);
    if (!ZSTD_isError(n) && n < raw.size() - raw.size() / 32) {
      ref.codec = Codec::kZstd;
      ref.stored_size = n;
      ref.checksum = Checksum32(std::string_view(buf.data(), n));
      out->append(buf.data(), n);
      return ref;
    }
  }
  ref.codec = Codec::kNone;
  ref.stored_size = raw.size();
  ref.checksum = Checksum32(raw);
  out->append(raw);
  return ref;
}

absl::StatusOr<std::string_view> DecodePage(std::string_view stored, const PageRef& ref,
                                            std::string_view path, uint64_t file_offset,
                                            uint64_t max_raw_size, std::string* scratch,
                                            bool verify_checksum) {
  if (stored.size() != ref.stored_size) {
    return Corruption(path, file_offset, "page is truncated");
  }
  if (verify_checksum && Checksum32(stored) != ref.checksum) {
    return Corruption(path, file_offset, "page checksum mismatch");
  }
  switch (ref.codec) {
    case Codec::kNone:
      if (ref.raw_size != ref.stored_size) {
        return Corruption(path, file_offset, "uncompressed page with a different raw size");
      }
      return stored;
    case Codec::kZstd: {
      if (ref.raw_size > max_raw_size) {
        return Corruption(path, file_offset, "page raw size is implausibly large");
      }
      const unsigned long long frame_size = ZSTD_getFrameContentSize(stored.data(), stored.size());
      if (frame_size != ref.raw_size) {
        return Corruption(path, file_offset, "zstd frame size does not match the page's");
      }
      scratch->resize(ref.raw_size);
      const size_t n =
          ZSTD_decompress(scratch->data(), scratch->size(), stored.data(), stored.size());
      if (ZSTD_isError(n) || n != ref.raw_size) {
        return Corruption(path, file_offset, "zstd page does not decompress");
      }
      return std::string_view(*scratch);
    }
  }
  return Corruption(path, file_offset, "unknown page codec");
}

}  // namespace strand::block
