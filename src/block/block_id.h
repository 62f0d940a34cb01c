// BlockId: the random 128-bit name of a block, written as 32 lowercase hex digits (the
// block's directory name and its meta.json "block_id"). A value type; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace strand::block {

struct BlockId {
  std::array<uint8_t, 16> bytes{};

  // 128 bits from the operating system's random source.
  static BlockId Random();
  // Parses 32 hex digits (either case); nullopt otherwise.
  static std::optional<BlockId> FromHex(std::string_view hex);
  std::string ToHex() const;

  bool operator==(const BlockId&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const BlockId& id) {
    return H::combine(std::move(h), id.bytes);
  }
  auto operator<=>(const BlockId&) const = default;
};

}  // namespace strand::block
