#include "common/arena.h"

#include <cstring>

namespace strand {

char* Arena::Allocate(size_t n) {
  n = (n + 7) & ~size_t{7};
  if (n > remaining_) {
    if (n > kBlockSize / 4) {
      // Large allocations get their own block so the current one keeps its tail.
      blocks_.push_back(std::make_unique<char[]>(n));
      memory_usage_ += n;
      return blocks_.back().get();
    }
    blocks_.push_back(std::make_unique<char[]>(kBlockSize));
    memory_usage_ += kBlockSize;
    ptr_ = blocks_.back().get();
    remaining_ = kBlockSize;
  }
  char* result = ptr_;
  ptr_ += n;
  remaining_ -= n;
  return result;
}

std::string_view Arena::Copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = Allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

}  // namespace strand
