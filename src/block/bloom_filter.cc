#include "block/bloom_filter.h"

#include <algorithm>
#include <cmath>

#include "common/checksum.h"

namespace strand::block {

uint64_t BloomFilter::HashTraceId(const otlp::TraceId& id) { return Hash64(otlp::IdBytes(id)); }

BloomFilter BloomFilter::Build(const std::vector<uint64_t>& hashes, double false_positive_rate) {
  const double p = std::clamp(false_positive_rate, 1e-6, 0.5);
  const double n = static_cast<double>(std::max<size_t>(hashes.size(), 1));
  // Optimal sizes: m = -n ln p / (ln 2)^2 bits, k = (m / n) ln 2 probes.
  const double ln2 = std::log(2.0);
  const double m = std::ceil(-n * std::log(p) / (ln2 * ln2));
  const uint64_t bytes = std::max<uint64_t>(8, ((static_cast<uint64_t>(m) + 63) / 64) * 8);
  const auto k = static_cast<uint32_t>(
      std::clamp(std::lround(static_cast<double>(bytes * 8) / n * ln2), 1L, 32L));
  BloomFilter filter(k, std::string(bytes, '\0'));
  for (uint64_t h : hashes) filter.Set(h);
  return filter;
}

std::optional<BloomFilter> BloomFilter::Parse(uint32_t num_hashes, std::string bits) {
  if (num_hashes < 1 || num_hashes > 32 || bits.empty() || bits.size() % 8 != 0) {
    return std::nullopt;
  }
  return BloomFilter(num_hashes, std::move(bits));
}

void BloomFilter::Set(uint64_t hash) {
  const uint64_t m = num_bits();
  const uint64_t a = hash & 0xffffffffu;
  const uint64_t b = (hash >> 32) | 1;
  for (uint32_t i = 0; i < num_hashes_; ++i) {
    const uint64_t bit = (a + i * b) % m;
    bits_[bit / 8] = static_cast<char>(static_cast<uint8_t>(bits_[bit / 8]) | (1u << (bit % 8)));
  }
}

bool BloomFilter::MayContainHash(uint64_t hash) const {
  return Probe(hash, num_hashes_, num_bits(), [this](uint64_t bit) {
    return (static_cast<uint8_t>(bits_[bit / 8]) & (1u << (bit % 8))) != 0;
  });
}

}  // namespace strand::block
