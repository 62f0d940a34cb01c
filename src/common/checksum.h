// Checksums for on-disk formats: the low 32 bits of XXH3-64 over the bytes.
#pragma once

#include <cstdint>
#include <string_view>

namespace strand {

uint32_t Checksum32(std::string_view data);
uint64_t Hash64(std::string_view data);

}  // namespace strand
