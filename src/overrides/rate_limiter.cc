#include "overrides/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace strand::overrides {
namespace {

uint64_t BurstOf(const Limits& limits) {
  return limits.ingestion_burst_size_bytes != 0 ? limits.ingestion_burst_size_bytes
                                                : limits.ingestion_rate_limit_bytes;
}

}  // namespace

RateLimiter::Bucket& RateLimiter::BucketOf(std::string_view tenant) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(std::string(tenant));
  if (inserted) it->second = std::make_unique<Bucket>();
  return *it->second;  // buckets are never removed: the reference stays valid
}

absl::Status RateLimiter::Take(std::string_view tenant, uint64_t bytes, const Limits& limits) {
  const uint64_t rate = limits.ingestion_rate_limit_bytes;
  if (rate == 0) return absl::OkStatus();
  const double burst = static_cast<double>(BurstOf(limits));
  Bucket& b = BucketOf(tenant);
  const int64_t now = clock_.MonotonicNanos();
  {
    absl::MutexLock lock(&b.mu);
    if (b.tokens < 0) {
      b.tokens = burst;
    } else if (now > b.last_nanos) {
      b.tokens += static_cast<double>(now - b.last_nanos) * 1e-9 * static_cast<double>(rate);
    }
    // A lowered burst (a reload) applies at once.
    b.tokens = std::min(b.tokens, burst);
    b.last_nanos = std::max(b.last_nanos, now);
    if (static_cast<double>(bytes) <= b.tokens) {
      b.tokens -= static_cast<double>(bytes);
      return absl::OkStatus();
    }
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "RATE_LIMITED: ingestion rate limit (rate_limit_bytes=", rate,
      " burst_size_bytes=", static_cast<uint64_t>(burst), ") exceeded for tenant ", std::string(tenant),
      " while adding ", bytes, " bytes",
      bytes > static_cast<uint64_t>(burst) ? " (a request larger than the burst never passes)"
                                           : "; retry later"));
}

int64_t RateLimiter::RetryAfterSeconds(uint64_t bytes, const Limits& limits) {
  if (limits.ingestion_rate_limit_bytes == 0) return 1;
  const double seconds = std::ceil(static_cast<double>(std::min(bytes, BurstOf(limits))) /
                                   static_cast<double>(limits.ingestion_rate_limit_bytes));
  return std::clamp<int64_t>(static_cast<int64_t>(seconds), 1, 3600);
}

}  // namespace strand::overrides
