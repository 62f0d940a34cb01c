#include "block/block_id.h"

#include <random>

#include "common/hex.h"

namespace strand::block {

BlockId BlockId::Random() {
  std::random_device rd;
  BlockId id;
  for (size_t i = 0; i < id.bytes.size(); i += 4) {
    const uint32_t v = rd();
    for (size_t j = 0; j < 4; ++j) id.bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return id;
}

std::optional<BlockId> BlockId::FromHex(std::string_view hex) {
  BlockId id;
  if (hex.size() != 2 * id.bytes.size() ||
      !HexDecode(hex, reinterpret_cast<char*>(id.bytes.data()))) {
    return std::nullopt;
  }
  return id;
}

std::string BlockId::ToHex() const {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace strand::block
