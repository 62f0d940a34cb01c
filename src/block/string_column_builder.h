// StringColumnBuilder: collects the values of one string column of a row group (span
// names, attribute values, encoded arrays...) and encodes them as a string page, choosing
// dictionary encoding when it is smaller than plain (docs/format/block.md, "String pages").
//
// The dictionary is kept sorted, so dictionary pages double as the column's set of
// distinct values for search statistics. Values are copied: callers' views need not
// outlive Add(). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/arena.h"
#include "common/checksum.h"

namespace strand::block {

// A hash for std::string_view keys (this Abseil does not hash std::string_view itself).
struct StringViewHash {
  size_t operator()(std::string_view s) const { return static_cast<size_t>(Hash64(s)); }
};
template <typename V>
using StringViewMap = absl::flat_hash_map<std::string_view, V, StringViewHash, std::equal_to<>>;

class StringColumnBuilder {
 public:
  StringColumnBuilder() = default;
  StringColumnBuilder(StringColumnBuilder&&) = default;
  StringColumnBuilder& operator=(StringColumnBuilder&&) = default;

  void Add(std::string_view value);

  uint64_t count() const { return ids_.size(); }
  size_t distinct() const { return values_.size(); }
  // Bytes of all values added (the plain size without lengths).
  uint64_t total_bytes() const { return total_bytes_; }
  // Distinct values, sorted, when there are at most `max` of them; empty otherwise.
  std::vector<std::string_view> SortedDistinct(size_t max) const;

  // Appends the page body for the values added so far.
  void Encode(std::string* out) const;

 private:
  Arena arena_;
  StringViewMap<uint32_t> index_;         // value -> position in values_
  std::vector<std::string_view> values_;  // distinct values, first-appearance order
  std::vector<uint32_t> ids_;             // per value added: position in values_
  uint64_t total_bytes_ = 0;
};

}  // namespace strand::block
