#include "block/string_column_reader.h"

namespace strand::block {

bool StringColumnReader::Init(std::string_view page, uint64_t count) {
  count_ = count;
  read_ = 0;
  dictionary_.clear();
  if (page.empty()) {
    // A column without values may have an empty page.
    dictionary_mode_ = false;
    lengths_or_ids_ = ByteReader();
    data_ = ByteReader();
    return count == 0 || Fail();
  }
  ByteReader in(page);
  const uint8_t mode = in.U8();
  if (mode == 0) {
    dictionary_mode_ = false;
    const std::string_view lengths = in.LengthPrefixed();
    if (!in.ok()) return Fail();
    // Every value has a length of at least one byte.
    if (count > lengths.size()) return Fail();
    lengths_or_ids_ = ByteReader(lengths);
    data_ = ByteReader(in.Bytes(in.remaining()));
    return true;
  }
  if (mode != 1) return Fail();
  dictionary_mode_ = true;
  const uint64_t size = in.Varint();
  ByteReader lengths(in.LengthPrefixed());
  if (!in.ok() || size > lengths.remaining()) return Fail();
  dictionary_.reserve(size);
  for (uint64_t i = 0; i < size; ++i) {
    dictionary_.push_back(in.Bytes(lengths.Varint()));
  }
  if (!in.ok() || !lengths.ok() || !lengths.empty()) return Fail();
  if (count > in.remaining()) return Fail();  // an index takes at least one byte
  lengths_or_ids_ = ByteReader(in.Bytes(in.remaining()));
  data_ = ByteReader();
  return true;
}

std::string_view StringColumnReader::Next(uint32_t* dict_index) {
  *dict_index = kNoIndex;
  if (!ok() || read_ >= count_) {
    Fail();
    return {};
  }
  ++read_;
  if (dictionary_mode_) {
    const uint64_t id = lengths_or_ids_.Varint();
    if (!lengths_or_ids_.ok() || id >= dictionary_.size()) {
      Fail();
      return {};
    }
    *dict_index = static_cast<uint32_t>(id);
    return dictionary_[id];
  }
  return data_.Bytes(lengths_or_ids_.Varint());
}

void StringColumnReader::Skip(uint64_t n) {
  if (n > count_ - read_) {
    Fail();
    return;
  }
  if (dictionary_mode_) {
    lengths_or_ids_.SkipVarints(n);
  } else {
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < n && lengths_or_ids_.ok(); ++i) bytes += lengths_or_ids_.Varint();
    data_.Bytes(bytes);
  }
  read_ += n;
}

}  // namespace strand::block
