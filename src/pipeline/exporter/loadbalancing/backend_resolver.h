// BackendResolver: where the `loadbalancing` exporter learns its backends (host:port
// endpoints). The seam tests fake: a fake resolver announces whatever lists a test wants.
// Implementations: StaticResolver (below, the `static` resolver) and DnsResolver
// (dns_resolver.h).
//
// Start() runs once; it hands `on_change` the first list before it returns when one is
// known by then (always for `static`), and again each time the list changes. Lists are
// sorted and free of duplicates; `on_change` never runs twice at once, and never after
// Shutdown() returned. Thread-safe.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace strand::pipeline {

using BackendsListener = std::function<void(std::vector<std::string> endpoints)>;

class BackendResolver {
 public:
  virtual ~BackendResolver() = default;
  virtual absl::Status Start(BackendsListener on_change) = 0;
  virtual void Shutdown() {}
  // The resolver's name for metrics and logs: "static", "dns".
  virtual std::string Name() const = 0;
};

// Sorts a list of endpoints and drops duplicates (the form every listener receives).
inline std::vector<std::string> NormalizeEndpoints(std::vector<std::string> endpoints) {
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
  return endpoints;
}

// The `static` resolver: a fixed list, announced once at Start.
class StaticResolver : public BackendResolver {
 public:
  explicit StaticResolver(std::vector<std::string> endpoints)
      : endpoints_(NormalizeEndpoints(std::move(endpoints))) {}
  absl::Status Start(BackendsListener on_change) override {
    on_change(endpoints_);
    return absl::OkStatus();
  }
  std::string Name() const override { return "static"; }

 private:
  const std::vector<std::string> endpoints_;
};

}  // namespace strand::pipeline
