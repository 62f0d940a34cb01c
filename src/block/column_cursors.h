// Cursors over the value pages of a row group's columns (docs/format/block.md, "Value
// layouts"), used by RowGroupDecoder: varints, fixed-width values, string pages, and the
// values of one attribute column. A cursor never reads past its page or its value count;
// it turns not-ok instead, and the decoder reports that as damage. Internal to src/block.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "block/block_format.h"
#include "block/byte_reader.h"
#include "block/row_group_decoder.h"
#include "block/string_column_reader.h"
#include "block/value_codec.h"
#include "common/arena.h"
#include "common/coding.h"

namespace strand::block::internal {

using otlp::ValueType;

inline size_t FixedWidth(ColumnEncoding e) {
  switch (e) {
    case ColumnEncoding::kFixed1:
      return 1;
    case ColumnEncoding::kFixed8:
      return 8;
    case ColumnEncoding::kFixed16:
      return 16;
    default:
      return 0;
  }
}

// `count` varints, read in order.
class VarintCursor {
 public:
  VarintCursor() = default;
  VarintCursor(std::string_view page, uint64_t count) : in_(page), left_(count) {}
  uint64_t Next() {
    if (left_ == 0) {
      in_.Fail();
      return 0;
    }
    --left_;
    return in_.Varint();
  }
  uint32_t Next32() {
    const uint64_t v = Next();
    if (v > UINT32_MAX) in_.Fail();
    return static_cast<uint32_t>(v);
  }
  int32_t NextZigZag32() {
    const int64_t v = ZigZagDecode(Next());
    if (v < INT32_MIN || v > INT32_MAX) in_.Fail();
    return static_cast<int32_t>(v);
  }
  void Skip(uint64_t n) {
    if (n > left_) {
      in_.Fail();
      return;
    }
    left_ -= n;
    in_.SkipVarints(n);
  }
  bool ok() const { return in_.ok(); }
  bool Exhausted() const { return in_.ok() && left_ == 0 && in_.empty(); }

 private:
  ByteReader in_;
  uint64_t left_ = 0;
};

// Fixed-width values; random access by index.
class FixedCursor {
 public:
  FixedCursor() = default;
  FixedCursor(std::string_view page, size_t width, uint64_t count)
      : page_(page), width_(width), count_(count) {}
  std::string_view At(uint64_t i) const { return page_.substr(i * width_, width_); }
  std::string_view Next() {
    if (pos_ >= count_) {
      ok_ = false;
      return std::string_view(kZeros, width_);
    }
    return At(pos_++);
  }
  void Skip(uint64_t n) {
    if (n > count_ - pos_) ok_ = false;
    pos_ += std::min(n, count_ - pos_);
  }
  bool ok() const { return ok_; }
  bool Exhausted() const { return ok_ && pos_ == count_; }

 private:
  static constexpr char kZeros[16] = {};
  std::string_view page_;
  size_t width_ = 1;
  uint64_t count_ = 0;
  uint64_t pos_ = 0;
  bool ok_ = true;
};

// String values, copied into the output arena once per dictionary entry.
class StringCursor {
 public:
  bool Init(std::string_view page, uint64_t count) {
    if (!reader_.Init(page, count)) return false;
    cache_.assign(reader_.dictionary().size(), std::string_view());
    copied_.assign(reader_.dictionary().size(), false);
    return true;
  }
  std::string_view Next(Arena& arena) {
    uint32_t index;
    const std::string_view v = reader_.Next(&index);
    if (index == StringColumnReader::kNoIndex) return arena.Copy(v);
    if (!copied_[index]) {
      cache_[index] = arena.Copy(v);
      copied_[index] = true;
    }
    return cache_[index];
  }
  std::string_view NextRaw() {
    uint32_t index;
    return reader_.Next(&index);
  }
  void Skip(uint64_t n) { reader_.Skip(n); }
  bool ok() const { return reader_.ok(); }
  bool Exhausted() const { return reader_.Exhausted(); }

 private:
  StringColumnReader reader_;
  std::vector<std::string_view> cache_;
  std::vector<bool> copied_;
};

// The values of one attribute column.
class AttrCursor {
 public:
  AttrCursor(ValueType type, ColumnEncoding encoding, std::string_view key, uint64_t count)
      : type_(type), encoding_(encoding), key_(key), left_(count) {}

  bool Init(std::string_view page) {
    switch (encoding_) {
      case ColumnEncoding::kNone:
        return page.empty();
      case ColumnEncoding::kVarint:
        varints_ = VarintCursor(page, left_);
        return left_ <= page.size();
      case ColumnEncoding::kFixed1:
      case ColumnEncoding::kFixed8:
        fixed_ = FixedCursor(page, FixedWidth(encoding_), left_);
        return page.size() == left_ * FixedWidth(encoding_);
      case ColumnEncoding::kStrings:
        return strings_.Init(page, left_);
      case ColumnEncoding::kFixed16:
        return false;
    }
    return false;
  }

  void Skip(uint64_t n) {
    if (n > left_) {
      ok_ = false;
      return;
    }
    left_ -= n;
    switch (encoding_) {
      case ColumnEncoding::kVarint:
        varints_.Skip(n);
        break;
      case ColumnEncoding::kFixed1:
      case ColumnEncoding::kFixed8:
        fixed_.Skip(n);
        break;
      case ColumnEncoding::kStrings:
        strings_.Skip(n);
        break;
      default:
        break;
    }
  }

  // Reads the next value as a view: strings point into the page; arrays and kvlists only
  // say their type.
  bool NextView(RowGroupDecoder::ColumnValue* v) {
    *v = RowGroupDecoder::ColumnValue();
    v->type = type_;
    if (left_ == 0) return ok_ = false;
    --left_;
    switch (type_) {
      case ValueType::kNone:
        break;
      case ValueType::kString:
      case ValueType::kBytes:
        v->str = strings_.NextRaw();
        break;
      case ValueType::kArray:
      case ValueType::kKvList:
        strings_.NextRaw();
        break;
      case ValueType::kBool: {
        const uint8_t b = static_cast<uint8_t>(fixed_.Next()[0]);
        if (b > 1) ok_ = false;
        v->bool_value = b != 0;
        break;
      }
      case ValueType::kInt:
        v->int_value = ZigZagDecode(varints_.Next());
        break;
      case ValueType::kDouble: {
        const uint64_t bits = DecodeFixed64(fixed_.Next().data());
        std::memcpy(&v->double_value, &bits, 8);
        break;
      }
    }
    return ok();
  }

  // Reads the next value into `kv`, copying strings into `out` (once per dictionary entry)
  // and decoding arrays and kvlists.
  bool Next(otlp::SpanBatch& out, otlp::KeyValue* kv) {
    if (key_copy_.data() == nullptr && !key_.empty()) key_copy_ = out.arena().Copy(key_);
    kv->key = key_copy_;
    otlp::AnyValue& v = kv->value;
    v = otlp::AnyValue();
    v.type = type_;
    switch (type_) {
      case ValueType::kString:
      case ValueType::kBytes:
        if (left_ == 0) return ok_ = false;
        --left_;
        v.str = strings_.Next(out.arena());
        return ok();
      case ValueType::kArray:
      case ValueType::kKvList: {
        if (left_ == 0) return ok_ = false;
        --left_;
        ByteReader body(strings_.NextRaw());
        if (!strings_.ok() || !DecodeValueBody(body, type_, 1, out, &v) || !body.empty()) {
          ok_ = false;
        }
        return ok();
      }
      default: {
        RowGroupDecoder::ColumnValue scalar;
        if (!NextView(&scalar)) return false;
        v.bool_value = scalar.bool_value;
        v.int_value = scalar.int_value;
        v.double_value = scalar.double_value;
        return true;
      }
    }
  }

  bool ok() const { return ok_ && varints_.ok() && fixed_.ok() && strings_.ok(); }
  bool Exhausted() const {
    if (!ok() || left_ != 0) return false;
    switch (encoding_) {
      case ColumnEncoding::kVarint:
        return varints_.Exhausted();
      case ColumnEncoding::kFixed1:
      case ColumnEncoding::kFixed8:
        return fixed_.Exhausted();
      case ColumnEncoding::kStrings:
        return strings_.Exhausted();
      default:
        return true;
    }
  }

 private:
  ValueType type_;
  ColumnEncoding encoding_;
  std::string_view key_;
  std::string_view key_copy_;
  uint64_t left_;
  bool ok_ = true;
  VarintCursor varints_;
  FixedCursor fixed_;
  StringCursor strings_;
};

}  // namespace strand::block::internal
