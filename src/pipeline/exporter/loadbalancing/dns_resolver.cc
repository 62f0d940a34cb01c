#include "pipeline/exporter/loadbalancing/dns_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace strand::pipeline {

absl::StatusOr<std::vector<std::string>> SystemAddressLookup(const std::string& hostname) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(hostname.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    const std::string message = absl::StrCat("resolving \"", hostname, "\": ", gai_strerror(rc));
    if (rc == EAI_NONAME) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  std::vector<std::string> addresses;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = nullptr;
    if (ai->ai_family == AF_INET) {
      addr = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      addr = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (inet_ntop(ai->ai_family, addr, text, sizeof(text)) != nullptr) addresses.push_back(text);
  }
  freeaddrinfo(result);
  return addresses;
}

// Shared by the resolver and the helper thread, which may outlive the resolver when a
// lookup overruns its timeout.
struct DnsResolver::Lookup {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  absl::StatusOr<std::vector<std::string>> result ABSL_GUARDED_BY(mu);
};

DnsResolver::DnsResolver(DnsResolverOptions options, AddressLookup lookup)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : *Clock::Real()),
      lookup_(std::make_shared<const AddressLookup>(std::move(lookup))) {}

DnsResolver::~DnsResolver() { Shutdown(); }

absl::Status DnsResolver::Start(BackendsListener on_change) {
  {
    absl::MutexLock lock(&resolve_mu_);
    on_change_ = std::move(on_change);
  }
  if (absl::Status s = Resolve(); !s.ok()) {
    // Not fatal: the exporter refuses data (retryably) until a lookup succeeds.
    LOG_WARN("loadbalancing: {}; retrying every {}", s.ToString(),
             absl::FormatDuration(absl::Nanoseconds(options_.interval_nanos)));
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void DnsResolver::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&resolve_mu_);  // waits for an announcement under way
  on_change_ = nullptr;
}

void DnsResolver::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (clock_.AwaitWithTimeout(mu_, absl::Condition(&stopping_), options_.interval_nanos)) {
        return;
      }
    }
    if (absl::Status s = Resolve(); !s.ok()) {
      LOG_WARN("loadbalancing: {}; keeping the last {} backends", s.ToString(), [this] {
        absl::MutexLock lock(&resolve_mu_);
        return last_.size();
      }());
    }
  }
}

absl::Status DnsResolver::Resolve() {
  absl::MutexLock lock(&resolve_mu_);
  auto fail = [this](absl::Status s) {
    if (options_.resolutions_failed) options_.resolutions_failed->Increment();
    return s;
  };
  if (in_flight_ != nullptr) {
    absl::MutexLock l(&in_flight_->mu);
    if (!in_flight_->done) {
      return fail(absl::DeadlineExceededError(
          absl::StrCat("the lookup of \"", options_.hostname, "\" is still running")));
    }
  }
  auto call = std::make_shared<Lookup>();
  in_flight_ = call;
  std::thread([call, lookup = lookup_, host = options_.hostname] {
    auto result = (*lookup)(host);
    absl::MutexLock l(&call->mu);
    call->result = std::move(result);
    call->done = true;
  }).detach();

  absl::StatusOr<std::vector<std::string>> result;
  {
    absl::MutexLock l(&call->mu);
    if (!clock_.AwaitWithTimeout(call->mu, absl::Condition(&call->done), options_.timeout_nanos)) {
      return fail(absl::DeadlineExceededError(
          absl::StrCat("resolving \"", options_.hostname, "\" took longer than ",
                       absl::FormatDuration(absl::Nanoseconds(options_.timeout_nanos)))));
    }
    result = std::move(call->result);
  }
  if (!result.ok()) return fail(result.status());
  if (result->empty()) {
    return fail(absl::NotFoundError(absl::StrCat("\"", options_.hostname, "\" has no address")));
  }
  if (options_.resolutions_ok) options_.resolutions_ok->Increment();
  std::vector<std::string> endpoints;
  for (const std::string& address : *result) {
    const bool v6 = address.find(':') != std::string::npos;
    endpoints.push_back(v6 ? absl::StrCat("[", address, "]:", options_.port)
                           : absl::StrCat(address, ":", options_.port));
  }
  endpoints = NormalizeEndpoints(std::move(endpoints));
  if (endpoints == last_) return absl::OkStatus();
  last_ = endpoints;
  LOG_INFO("loadbalancing: \"{}\" resolved to {} backends", options_.hostname, endpoints.size());
  if (on_change_) on_change_(std::move(endpoints));
  return absl::OkStatus();
}

}  // namespace strand::pipeline
