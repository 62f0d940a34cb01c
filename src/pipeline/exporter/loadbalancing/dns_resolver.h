// DnsResolver: the loadbalancing exporter's `dns` resolver. Looks up `hostname` (every
// address, IPv4 and IPv6, as getaddrinfo returns them) at Start and then every
// `interval` on a background thread, and announces `address:port` endpoints (IPv6 in
// brackets), sorted, whenever the set changes. A lookup that fails, finds nothing, or
// takes longer than `timeout` keeps the last good list and is logged and counted.
//
// Each lookup runs on a helper thread so that the timeout holds even though getaddrinfo
// cannot be interrupted; a lookup that overruns is abandoned (it finishes on its own)
// and no new one starts until it has. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "pipeline/exporter/loadbalancing/backend_resolver.h"

namespace strand::pipeline {

struct DnsResolverOptions {
  std::string hostname;
  int port = 4317;
  int64_t interval_nanos = 5'000'000'000;
  int64_t timeout_nanos = 1'000'000'000;
  // Counted per lookup; null: not counted.
  Counter* resolutions_ok = nullptr;
  Counter* resolutions_failed = nullptr;
  // Times the interval and the timeout; null: the real clock. Outlives the resolver.
  const Clock* clock = nullptr;
};

// Resolves a host name to numeric addresses ("10.0.0.1", "fd00::1"). May block.
using AddressLookup = std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>;

// The system resolver (getaddrinfo). NotFound when the name has no address.
absl::StatusOr<std::vector<std::string>> SystemAddressLookup(const std::string& hostname);

class DnsResolver : public BackendResolver {
 public:
  explicit DnsResolver(DnsResolverOptions options, AddressLookup lookup = SystemAddressLookup);
  ~DnsResolver() override;

  absl::Status Start(BackendsListener on_change) override;
  void Shutdown() override;
  std::string Name() const override { return "dns"; }

  // Runs one lookup now, as the background thread would (announcing a change).
  absl::Status ResolveNowForTest() { return Resolve(); }

 private:
  struct Lookup;  // one lookup in flight on its helper thread
  absl::Status Resolve() ABSL_LOCKS_EXCLUDED(resolve_mu_);
  void Run();

  const DnsResolverOptions options_;
  const Clock& clock_;
  const std::shared_ptr<const AddressLookup> lookup_;

  absl::Mutex resolve_mu_;  // one Resolve at a time; held while announcing
  BackendsListener on_change_ ABSL_GUARDED_BY(resolve_mu_);
  std::vector<std::string> last_ ABSL_GUARDED_BY(resolve_mu_);
  std::shared_ptr<Lookup> in_flight_ ABSL_GUARDED_BY(resolve_mu_);

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace strand::pipeline
