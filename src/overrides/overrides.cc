#include "overrides/overrides.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace strand::overrides {

Family<Counter>* DiscardedSpans(MetricsRegistry& metrics) {
  return metrics.AddCounter(
      "strand_discarded_spans_total",
      "Spans refused by a tenant's limits (strand.overrides), by tenant and reason: "
      "rate_limited (ingestion rate_limit_bytes), trace_too_large (max_bytes_per_trace), "
      "live_traces_exceeded (max_traces_per_user).",
      {"tenant", "reason"});
}

Overrides::Overrides(Limits defaults)
    : defaults_(defaults), tenants_(std::make_shared<const TenantLimits>()) {}

Overrides::Overrides(OverridesConfig config, const Clock& clock, MetricsRegistry* metrics)
    : Overrides(config.defaults) {
  if (!config.per_tenant_override_config.empty()) {
    absl::MutexLock lock(&mu_);
    file_ = std::make_unique<auth::WatchedFile>(
        config.per_tenant_override_config, clock,
        std::chrono::nanoseconds(config.per_tenant_override_period_nanos));
  }
  if (metrics != nullptr) {
    Family<Counter>* reloads = metrics->AddCounter(
        "strand_overrides_reloads_total",
        "Reads of the per-tenant overrides file (strand.overrides.per_tenant_override_config) "
        "after it changed; result=failure kept the previous overrides.",
        {"result"});
    reloads_ok_ = reloads->With({"success"});
    reloads_failed_ = reloads->With({"failure"});
  }
}

absl::StatusOr<std::unique_ptr<Overrides>> Overrides::Open(OverridesConfig config,
                                                           const Clock& clock,
                                                           MetricsRegistry* metrics) {
  std::unique_ptr<Overrides> o(new Overrides(std::move(config), clock, metrics));
  absl::MutexLock lock(&o->mu_);
  if (o->file_ != nullptr) {
    if (absl::Status s = o->ReloadLocked(); !s.ok()) return s;
  }
  return o;
}

absl::Status Overrides::ReloadLocked() {
  auto contents = file_->Read();
  absl::StatusOr<TenantLimits> parsed =
      contents.ok() ? ParseOverridesFile(*contents, defaults_) : contents.status();
  if (!parsed.ok()) {
    if (reloads_failed_ != nullptr) reloads_failed_->Increment();
    return absl::InvalidArgumentError(absl::StrCat(
        "per-tenant overrides file ", file_->path(), ": ", parsed.status().message()));
  }
  if (reloads_ok_ != nullptr) reloads_ok_->Increment();
  tenants_ = std::make_shared<const TenantLimits>(*std::move(parsed));
  return absl::OkStatus();
}

absl::Status Overrides::Reload() {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) return absl::FailedPreconditionError("no per-tenant overrides file");
  return ReloadLocked();
}

Limits Overrides::For(std::string_view tenant) {
  std::shared_ptr<const TenantLimits> tenants;
  {
    absl::MutexLock lock(&mu_);
    if (file_ != nullptr && file_->DueAndChanged()) {
      if (absl::Status s = ReloadLocked(); s.ok()) {
        LOG_INFO("per-tenant overrides reloaded from {} ({} tenants)", file_->path(),
                 tenants_->tenants.size());
      } else {
        auth::LogKeptPrevious(file_->path(), s);
      }
    }
    tenants = tenants_;
  }
  return tenants->For(tenant, defaults_);
}

}  // namespace strand::overrides
