#include "common/checksum.h"

#include <xxhash.h>

namespace strand {

uint32_t Checksum32(std::string_view data) {
  return static_cast<uint32_t>(XXH3_64bits(data.data(), data.size()));
}

uint64_t Hash64(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

}  // namespace strand
