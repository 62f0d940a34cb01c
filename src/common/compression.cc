#include "common/compression.h"

#include <libdeflate.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace strand {
namespace {

absl::Status TooLarge(size_t max_output) {
  return absl::ResourceExhaustedError(
      absl::StrCat("decompressed body exceeds the limit of ", max_output, " bytes"));
}

// Grows `out` to `size` bytes, first taking the memory a reallocation would need (the
// input is held meanwhile) from `lease`, when there is one.
absl::Status GrowOutput(std::string& out, size_t size, size_t input_bytes, MemoryLease* lease) {
  if (size > out.capacity()) {
    const size_t capacity = std::max(size, 2 * out.capacity());
    if (lease != nullptr) {
      RETURN_IF_ERROR(lease->TryResize(input_bytes + capacity, "inflated request body"));
    }
    out.reserve(capacity);
  }
  out.resize(size);
  return absl::OkStatus();
}

// window_bits: 16+15 gzip, 15 zlib, -15 raw deflate, 32+15 auto-detect gzip/zlib.
absl::StatusOr<std::string> Inflate(std::string_view input, int window_bits, size_t max_output,
                                    std::string_view name, MemoryLease* lease) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  std::string out;
  size_t chunk = std::max<size_t>(input.size() * 4, 16 * 1024);
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() >= max_output) return TooLarge(max_output);
    size_t old = out.size();
    size_t grow = std::min(chunk, max_output - old + 1);
    RETURN_IF_ERROR(GrowOutput(out, old + grow, input.size(), lease));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    zs.avail_out = static_cast<uInt>(grow);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old + grow - zs.avail_out);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", std::string(name), " body: ", zs.msg ? zs.msg : "corrupt data"));
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", std::string(name), " body: truncated"));
    }
    chunk *= 2;
  }
  if (out.size() > max_output) return TooLarge(max_output);
  return out;
}

absl::StatusOr<std::string> Zstd(std::string_view input, size_t max_output, MemoryLease* lease) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  std::string out;
  size_t chunk = std::max<size_t>(input.size() * 4, 64 * 1024);
  size_t ret = 1;
  while (true) {
    if (out.size() > max_output) return TooLarge(max_output);
    size_t old = out.size();
    size_t grow = std::min(chunk, max_output - old + 1);
    RETURN_IF_ERROR(GrowOutput(out, old + grow, input.size(), lease));
    ZSTD_outBuffer ob{out.data() + old, grow, 0};
    ret = ZSTD_decompressStream(ctx.get(), &ob, &in);
    out.resize(old + ob.pos);
    if (ZSTD_isError(ret)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid zstd body: ", ZSTD_getErrorName(ret)));
    }
    if (ret == 0 && in.pos == in.size) break;  // frame complete, input consumed
    if (in.pos == in.size && ob.pos < grow) {
      if (ret != 0) return absl::InvalidArgumentError("invalid zstd body: truncated");
      break;
    }
    chunk *= 2;
  }
  if (out.size() > max_output) return TooLarge(max_output);
  return out;
}

absl::StatusOr<std::string> DecompressInput(std::string_view encoding, std::string& input,
                                            size_t max_output, MemoryLease* lease) {
  std::string enc = absl::AsciiStrToLower(absl::StripAsciiWhitespace(std::string(encoding)));
  if (enc.empty() || enc == "identity") {
    if (input.size() > max_output) return TooLarge(max_output);
    return std::move(input);
  }
  if (enc == "gzip" || enc == "x-gzip") {
    return Inflate(input, 16 + MAX_WBITS, max_output, "gzip", lease);
  }
  if (enc == "deflate") {
    // HTTP "deflate" is zlib-wrapped, but raw deflate is common in the wild: accept both.
    auto zlib = Inflate(input, MAX_WBITS, max_output, "deflate", lease);
    if (zlib.ok() || zlib.status().code() == absl::StatusCode::kResourceExhausted) return zlib;
    return Inflate(input, -MAX_WBITS, max_output, "deflate", lease);
  }
  if (enc == "zstd") return Zstd(input, max_output, lease);
  if (enc == "snappy") {
    size_t len = 0;
    if (!snappy::GetUncompressedLength(input.data(), input.size(), &len)) {
      return absl::InvalidArgumentError("invalid snappy body");
    }
    if (len > max_output) return TooLarge(max_output);
    if (lease != nullptr) {
      RETURN_IF_ERROR(lease->TryResize(input.size() + len, "inflated request body"));
    }
    std::string out;
    if (!snappy::Uncompress(input.data(), input.size(), &out)) {
      return absl::InvalidArgumentError("invalid snappy body");
    }
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported Content-Encoding \"",
                                                 std::string(encoding),
                                                 "\" (supported: gzip, deflate, zstd, snappy)"));
}

}  // namespace

absl::StatusOr<std::string> Decompress(std::string_view encoding, std::string&& input,
                                       size_t max_output, MemoryLease* lease) {
  auto out = DecompressInput(encoding, input, max_output, lease);
  std::string().swap(input);  // consumed (moved from when it was the output)
  if (lease != nullptr && out.ok()) lease->Resize(out->capacity());
  return out;
}

absl::StatusOr<std::string> Compress(std::string_view encoding, std::string_view input, int level) {
  if (encoding == "gzip" || encoding == "deflate") {
    // libdeflate: whole-buffer DEFLATE, several times faster than zlib at equal levels.
    const int lvl = level > 0 ? std::min(level, 12) : kDefaultGzipLevel;
    std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> c(
        libdeflate_alloc_compressor(lvl), libdeflate_free_compressor);
    if (c == nullptr) return absl::InternalError("libdeflate_alloc_compressor failed");
    const bool gzip = encoding == "gzip";
    std::string out(gzip ? libdeflate_gzip_compress_bound(c.get(), input.size())
                         : libdeflate_zlib_compress_bound(c.get(), input.size()),
                    '\0');
    const size_t n =
        gzip
            ? libdeflate_gzip_compress(c.get(), input.data(), input.size(), out.data(), out.size())
            : libdeflate_zlib_compress(c.get(), input.data(), input.size(), out.data(), out.size());
    if (n == 0) return absl::InternalError("gzip compression failed");
    out.resize(n);
    return out;
  }
  if (encoding == "snappy") {
    std::string out;
    snappy::Compress(input.data(), input.size(), &out);
    return out;
  }
  if (encoding == "zstd") {
    std::string out(ZSTD_compressBound(input.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 1);
    if (ZSTD_isError(n)) return absl::InternalError(ZSTD_getErrorName(n));
    out.resize(n);
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported compression \"", std::string(encoding), "\""));
}

}  // namespace strand
