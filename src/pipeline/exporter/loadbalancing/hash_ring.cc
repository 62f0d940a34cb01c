#include "pipeline/exporter/loadbalancing/hash_ring.h"

#include <zlib.h>

#include <algorithm>
#include <unordered_set>

namespace strand::pipeline {

namespace {

// CRC-32 (IEEE) of `a` followed by `b`.
uint32_t Crc32(std::string_view a, std::string_view b = {}) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib answers a null buffer with the initial value, whatever `crc` was: skip empties.
  for (std::string_view part : {a, b}) {
    if (part.empty()) continue;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(part.size()));
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

HashRing::HashRing(std::vector<std::string> endpoints) : endpoints_(std::move(endpoints)) {
  std::sort(endpoints_.begin(), endpoints_.end());
  endpoints_.erase(std::unique(endpoints_.begin(), endpoints_.end()), endpoints_.end());
  std::unordered_set<uint32_t> taken;
  for (uint32_t e = 0; e < endpoints_.size(); ++e) {
    for (int i = 0; i < kPointsPerEndpoint; ++i) {
      const char suffix = static_cast<char>(i);
      const uint32_t position = Crc32(endpoints_[e], std::string_view(&suffix, 1)) % kPositions;
      if (taken.insert(position).second) points_.push_back({position, e});
    }
  }
  std::sort(points_.begin(), points_.end(),
            [](const Point& a, const Point& b) { return a.position < b.position; });
}

uint32_t HashRing::PositionOf(std::string_view key) { return Crc32(key) % kPositions; }

const std::string& HashRing::EndpointFor(std::string_view key) const {
  static const std::string* const kNone = new std::string();
  if (points_.empty()) return *kNone;
  const uint32_t position = PositionOf(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), position,
                             [](const Point& p, uint32_t pos) { return p.position < pos; });
  if (it == points_.end()) it = points_.begin();  // past the last point: wrap around
  return endpoints_[it->endpoint];
}

}  // namespace strand::pipeline
