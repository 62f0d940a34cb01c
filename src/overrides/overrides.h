// Overrides: each tenant's limits (limits.h): the defaults from Strand's configuration
// (`strand.overrides.defaults`), replaced per tenant by an optional overrides file in
// Tempo's shape (`strand.overrides.per_tenant_override_config`), which is read again when
// it changes, at most once per `per_tenant_override_period`, without a restart.
//
// A file that does not read or parse at start fails Open (the server does not start); one
// that goes bad later keeps the last good overrides, logs why and counts the failure in
// strand_overrides_reloads_total{result="failure"}.
//
// For() is what the request paths call: a lock, a clock read and a map lookup (the file is
// looked at only when the period has passed). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/reloading_file.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "overrides/limits.h"

namespace strand::overrides {

// strand_discarded_spans_total{tenant,reason}, Tempo's tempo_discarded_spans_total: spans
// refused by a tenant's limits, counted where the limit is enforced (the receiver for the
// rate limit, the store for the trace limits). Registered once per registry.
Family<Counter>* DiscardedSpans(MetricsRegistry& metrics);
inline constexpr char kRateLimited[] = "rate_limited";                 // ingestion rate
inline constexpr char kTraceTooLarge[] = "trace_too_large";            // max_bytes_per_trace
inline constexpr char kLiveTracesExceeded[] = "live_traces_exceeded";  // max_traces_per_user

struct OverridesConfig {
  Limits defaults;
  std::string per_tenant_override_config;  // the file's path; empty: no file
  int64_t per_tenant_override_period_nanos = 10'000'000'000;
};

class Overrides {
 public:
  // Reads the file, if any. `clock` and `metrics` (may be null) must outlive the object.
  static absl::StatusOr<std::unique_ptr<Overrides>> Open(OverridesConfig config,
                                                         const Clock& clock,
                                                         MetricsRegistry* metrics);
  // The defaults for every tenant, no file (tests, and callers without a configuration).
  explicit Overrides(Limits defaults);

  // The tenant's limits now: its entry in the file, else the file's "*", else the defaults.
  Limits For(std::string_view tenant);

  // Reads the file now, whatever the period: OK and the new overrides in effect, or the
  // error (and the previous overrides kept). FailedPrecondition without a file.
  absl::Status Reload();

 private:
  Overrides(OverridesConfig config, const Clock& clock, MetricsRegistry* metrics);
  absl::Status ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Limits defaults_;
  absl::Mutex mu_;
  std::unique_ptr<auth::WatchedFile> file_ ABSL_GUARDED_BY(mu_);  // null: no file
  std::shared_ptr<const TenantLimits> tenants_ ABSL_GUARDED_BY(mu_);
  Counter* reloads_ok_ = nullptr;
  Counter* reloads_failed_ = nullptr;
};

}  // namespace strand::overrides
