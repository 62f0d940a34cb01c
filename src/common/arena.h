// Arena: a bump allocator for bytes whose lifetime is that of a batch. Strings copied into
// it stay at a fixed address until the arena dies. Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace strand {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  // Returns `n` bytes of uninitialised storage, aligned to 8.
  char* Allocate(size_t n);
  // Copies `s` into the arena and returns a view of the copy.
  std::string_view Copy(std::string_view s);
  // Bytes handed out plus bytes wasted at block ends.
  size_t MemoryUsage() const { return memory_usage_; }

 private:
  static constexpr size_t kBlockSize = 16 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* ptr_ = nullptr;
  size_t remaining_ = 0;
  size_t memory_usage_ = 0;
};

}  // namespace strand
