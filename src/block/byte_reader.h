// ByteReader: a bounds-checked cursor over untrusted bytes (pages, footers, tables), and
// the matching append helpers for writers.
//
// Every read checks the remaining length. The first failure makes the reader "failed":
// ok() turns false, the cursor jumps to the end and every later read returns a zero or
// empty value, so a decoder can read a whole structure and check ok() once. Not
// thread-safe; views returned point into the bytes given to the constructor.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/coding.h"

namespace strand::block {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::string_view data)
      : begin_(data.data()), p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return ok_; }
  bool empty() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // Bytes consumed so far (where a failure happened, once failed).
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }

  void Fail() {
    if (ok_) fail_offset_ = offset();
    ok_ = false;
    p_ = end_;
  }
  size_t fail_offset() const { return fail_offset_; }

  uint64_t Varint() {
    uint64_t v = 0;
    if (p_ < end_ && static_cast<unsigned char>(*p_) < 0x80) {
      return static_cast<unsigned char>(*p_++);
    }
    const char* next = GetVarint64Ptr(p_, end_, &v);
    if (next == nullptr) {
      Fail();
      return 0;
    }
    p_ = next;
    return v;
  }
  // A varint that must fit in 32 bits.
  uint32_t Varint32() {
    uint64_t v = Varint();
    if (v > UINT32_MAX) {
      Fail();
      return 0;
    }
    return static_cast<uint32_t>(v);
  }
  int64_t ZigZag() {
    uint64_t v = Varint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  uint8_t U8() {
    if (p_ == end_) {
      Fail();
      return 0;
    }
    return static_cast<uint8_t>(*p_++);
  }
  uint32_t Fixed32() {
    if (remaining() < 4) {
      Fail();
      return 0;
    }
    uint32_t v = DecodeFixed32(p_);
    p_ += 4;
    return v;
  }
  uint64_t Fixed64() {
    if (remaining() < 8) {
      Fail();
      return 0;
    }
    uint64_t v = DecodeFixed64(p_);
    p_ += 8;
    return v;
  }
  double Double() {
    uint64_t bits = Fixed64();
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  std::string_view Bytes(uint64_t n) {
    if (n > remaining()) {
      Fail();
      return {};
    }
    std::string_view out(p_, static_cast<size_t>(n));
    p_ += n;
    return out;
  }
  // A varint length followed by that many bytes.
  std::string_view LengthPrefixed() { return Bytes(Varint()); }
  // Skips `n` varints.
  void SkipVarints(uint64_t n) {
    for (uint64_t i = 0; i < n && ok_; ++i) Varint();
  }

 private:
  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool ok_ = true;
  size_t fail_offset_ = 0;
};

inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}
inline void PutZigZag(std::string* dst, int64_t v) {
  PutVarint64(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline void PutDouble(std::string* dst, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutFixed64(dst, bits);
}

}  // namespace strand::block
