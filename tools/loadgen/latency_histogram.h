// LatencyHistogram: a count of durations in log-linear buckets, HdrHistogram's layout with
// 64 sub-buckets per power of two, so any reported percentile is within 1.6% of a recorded
// value; min, max and mean are exact. Fixed size (about 30 KB); mergeable.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

namespace strand::loadgen {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(int64_t nanos);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_); }
  // The smallest recorded bucket's upper bound below which a fraction `q` (0..1] of the
  // values lie, clamped to [min, max]. 0 when empty.
  int64_t Percentile(double q) const;

  // Exposed for tests: the bucket of a value and the largest value in a bucket.
  static int BucketOf(uint64_t v);
  static uint64_t BucketUpperBound(int bucket);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace strand::loadgen
