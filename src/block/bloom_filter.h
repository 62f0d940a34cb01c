// BloomFilter: the per-block filter over trace IDs (docs/format/block.md, "Bloom filter").
//
// A plain bit array of m bits probed k times with double hashing:
//   h = XXH3-64(trace ID bytes); a = h mod 2^32; b = (h >> 32) | 1
//   probe i (0 <= i < k) = (a + i * b) mod m            (64-bit arithmetic)
// Sized for the number of trace IDs and a target false-positive rate when built. The bytes
// are the serialized form; Parse() validates them. Immutable once built: thread-safe for
// concurrent MayContain().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/span_batch.h"

namespace strand::block {

class BloomFilter {
 public:
  // XXH3-64 of the trace ID, the only input a filter needs from an ID.
  static uint64_t HashTraceId(const otlp::TraceId& id);

  // Builds a filter holding `hashes` (from HashTraceId) with about `false_positive_rate`
  // (clamped to [1e-6, 0.5]) false positives.
  static BloomFilter Build(const std::vector<uint64_t>& hashes, double false_positive_rate);
  // A filter read from disk: `num_hashes` in 1..32 and `bits` whose size is a non-zero
  // multiple of 8 bytes. nullopt if not.
  static std::optional<BloomFilter> Parse(uint32_t num_hashes, std::string bits);

  bool MayContain(const otlp::TraceId& id) const { return MayContainHash(HashTraceId(id)); }
  bool MayContainHash(uint64_t hash) const;

  // The probes of `hash` in a filter of `num_bits` bits and `num_hashes` probes: calls
  // `is_set(bit)` for each until one returns false. True when every probe is set. For
  // readers that probe a filter where it lies (on disk) instead of holding it.
  template <typename IsSet>
  static bool Probe(uint64_t hash, uint32_t num_hashes, uint64_t num_bits, IsSet&& is_set) {
    const uint64_t a = hash & 0xffffffffu;
    const uint64_t b = (hash >> 32) | 1;
    for (uint32_t i = 0; i < num_hashes; ++i) {
      if (!is_set((a + i * b) % num_bits)) return false;
    }
    return true;
  }

  uint32_t num_hashes() const { return num_hashes_; }
  uint64_t num_bits() const { return bits_.size() * 8; }
  const std::string& bits() const { return bits_; }
  size_t MemoryUsage() const { return sizeof(*this) + bits_.capacity(); }

 private:
  BloomFilter(uint32_t num_hashes, std::string bits)
      : num_hashes_(num_hashes), bits_(std::move(bits)) {}
  void Set(uint64_t hash);

  uint32_t num_hashes_;
  std::string bits_;  // bit j is bit (j % 8) of byte j / 8
};

}  // namespace strand::block
