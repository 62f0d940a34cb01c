#include "loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace strand::loadgen {
namespace {

constexpr int kSubBuckets = 64;
constexpr int kLinear = 2 * kSubBuckets;  // values below this have a bucket each
constexpr int kBuckets = kLinear + 57 * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(uint64_t v) {
  if (v < kLinear) return static_cast<int>(v);
  const int exponent = 63 - std::countl_zero(v);  // >= 7
  const int shift = exponent - 6;                 // v >> shift is in [64, 128)
  return kLinear + (shift - 1) * kSubBuckets + static_cast<int>((v >> shift) - kSubBuckets);
}

uint64_t LatencyHistogram::BucketUpperBound(int bucket) {
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int shift = (bucket - kLinear) / kSubBuckets + 1;
  const uint64_t sub = static_cast<uint64_t>((bucket - kLinear) % kSubBuckets + kSubBuckets);
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(int64_t nanos) {
  nanos = std::max<int64_t>(nanos, 0);
  ++counts_[BucketOf(static_cast<uint64_t>(nanos))];
  min_ = count_ == 0 ? nanos : std::min(min_, nanos);
  max_ = std::max(max_, nanos);
  sum_ += static_cast<double>(nanos);
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  count_ += other.count_;
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const auto upper = static_cast<int64_t>(BucketUpperBound(b));
      return std::clamp(upper, min_, max_);
    }
  }
  return max_;
}

}  // namespace strand::loadgen
