// RateLimiter: one token bucket per tenant on ingested bytes (Tempo's ingestion
// rate_limit_bytes / burst_size_bytes). A bucket holds at most `burst` bytes and refills
// at `rate` bytes per second of the injected clock; a request takes its size from the
// bucket or is refused whole. The limits are passed on each call, so an overrides reload
// applies at the next request. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "overrides/limits.h"

namespace strand::overrides {

class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  explicit RateLimiter(const Clock& clock) : clock_(clock) {}

  // Takes `bytes` from the tenant's bucket: OK, or ResourceExhausted naming the limit and
  // the tenant when the bucket holds fewer (nothing is taken then). OK without a rate limit.
  absl::Status Take(std::string_view tenant, uint64_t bytes, const Limits& limits);

  // Seconds until a refused request of `bytes` could pass (at least 1), for Retry-After.
  static int64_t RetryAfterSeconds(uint64_t bytes, const Limits& limits);

 private:
  struct Bucket {
    absl::Mutex mu;
    double tokens ABSL_GUARDED_BY(mu) = -1;  // < 0: not yet filled
    int64_t last_nanos ABSL_GUARDED_BY(mu) = 0;
  };
  Bucket& BucketOf(std::string_view tenant);

  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Bucket>> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand::overrides
