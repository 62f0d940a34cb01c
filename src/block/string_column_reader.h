// StringColumnReader: reads the values of a string page (docs/format/block.md, "String
// pages") in order. The page comes from disk: malformed pages make Init() or a later read
// fail (ok() false) instead of asserting. Views point into the page, which must outlive
// the reader. Not thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "block/byte_reader.h"

namespace strand::block {

class StringColumnReader {
 public:
  static constexpr uint32_t kNoIndex = UINT32_MAX;

  // Parses the page header of a column holding `count` values.
  bool Init(std::string_view page, uint64_t count);

  bool ok() const { return ok_ && lengths_or_ids_.ok() && data_.ok(); }
  bool is_dictionary() const { return dictionary_mode_; }
  const std::vector<std::string_view>& dictionary() const { return dictionary_; }

  // The next value. `*dict_index` gets its dictionary index, or kNoIndex on a plain page.
  std::string_view Next(uint32_t* dict_index);
  void Skip(uint64_t n);
  // True once every value was read and nothing is left over.
  bool Exhausted() const {
    return ok() && read_ == count_ && lengths_or_ids_.empty() && data_.empty();
  }

 private:
  bool Fail() {
    ok_ = false;
    return false;
  }

  bool ok_ = true;
  bool dictionary_mode_ = false;
  uint64_t count_ = 0;
  uint64_t read_ = 0;
  std::vector<std::string_view> dictionary_;
  ByteReader lengths_or_ids_;  // plain: value lengths; dictionary: indexes
  ByteReader data_;            // plain: value bytes; dictionary: empty
};

}  // namespace strand::block
