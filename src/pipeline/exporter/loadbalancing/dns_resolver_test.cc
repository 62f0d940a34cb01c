#include "pipeline/exporter/loadbalancing/dns_resolver.h"

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace strand::pipeline {
namespace {

// A scripted name server: answers with whatever the test set, or blocks while held.
class FakeLookup {
 public:
  void Answer(absl::StatusOr<std::vector<std::string>> answer) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
  }
  void Hold(bool held) {
    absl::MutexLock lock(&mu_);
    held_ = held;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  AddressLookup Fn() {
    return [this](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
      absl::MutexLock lock(&mu_);
      EXPECT_EQ(host, "collectors.example");
      ++calls_;
      auto not_held = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_; };
      mu_.Await(absl::Condition(&not_held));
      return answer_;
    };
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<std::vector<std::string>> answer_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// Keeps every list announced.
class Announcements {
 public:
  BackendsListener Listener() {
    return [this](std::vector<std::string> endpoints) {
      absl::MutexLock lock(&mu_);
      lists_.push_back(std::move(endpoints));
    };
  }
  std::vector<std::vector<std::string>> lists() {
    absl::MutexLock lock(&mu_);
    return lists_;
  }
  // Waits (up to 30 s, for a loaded machine) until `n` lists were announced.
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return lists_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> lists_ ABSL_GUARDED_BY(mu_);
};

class DnsResolverTest : public ::testing::Test {
 protected:
  // Options that resolve only by hand (ResolveNowForTest), counting into ok_ / failed_.
  DnsResolverOptions Options() {
    DnsResolverOptions o;
    o.hostname = "collectors.example";
    o.port = 4317;
    o.interval_nanos = 3600'000'000'000;
    o.timeout_nanos = 5'000'000'000;
    o.resolutions_ok = &ok_;
    o.resolutions_failed = &failed_;
    return o;
  }
  // Starts a resolver whose first lookup answers `first`.
  std::unique_ptr<DnsResolver> Start(std::vector<std::string> first, DnsResolverOptions o) {
    dns_.Answer(std::move(first));
    auto resolver = std::make_unique<DnsResolver>(std::move(o), dns_.Fn());
    EXPECT_TRUE(resolver->Start(seen_.Listener()).ok());
    return resolver;
  }
  std::unique_ptr<DnsResolver> Start(std::vector<std::string> first) {
    return Start(std::move(first), Options());
  }

  FakeLookup dns_;
  Announcements seen_;
  Counter ok_, failed_;
};

TEST_F(DnsResolverTest, AnnouncesSortedEndpointsWithPortAndBracketedIpv6) {
  auto resolver = Start({"10.0.0.2", "fd00::1", "10.0.0.1", "10.0.0.2"});
  ASSERT_EQ(seen_.lists().size(), 1u);  // the first list is known when Start returns
  EXPECT_EQ(seen_.lists()[0],
            (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.2:4317", "[fd00::1]:4317"}));
}

TEST_F(DnsResolverTest, AnnouncesOnlyChanges) {
  auto resolver = Start({"10.0.0.1", "10.0.0.2"});
  dns_.Answer(std::vector<std::string>{"10.0.0.2", "10.0.0.1"});  // same set, other order
  ASSERT_TRUE(resolver->ResolveNowForTest().ok());
  EXPECT_EQ(seen_.lists().size(), 1u);
  dns_.Answer(std::vector<std::string>{"10.0.0.3", "10.0.0.1"});
  ASSERT_TRUE(resolver->ResolveNowForTest().ok());
  ASSERT_EQ(seen_.lists().size(), 2u);
  EXPECT_EQ(seen_.lists()[1], (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.3:4317"}));
  EXPECT_EQ(ok_.Value(), 3u);
  EXPECT_EQ(failed_.Value(), 0u);
}

TEST_F(DnsResolverTest, FailedOrEmptyLookupKeepsTheLastGoodList) {
  auto resolver = Start({"10.0.0.1"});
  dns_.Answer(absl::UnavailableError("SERVFAIL"));
  EXPECT_EQ(resolver->ResolveNowForTest().code(), absl::StatusCode::kUnavailable);
  dns_.Answer(std::vector<std::string>{});
  EXPECT_EQ(resolver->ResolveNowForTest().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(seen_.lists().size(), 1u);  // nothing announced: the old list stands
  EXPECT_EQ(failed_.Value(), 2u);
  dns_.Answer(std::vector<std::string>{"10.0.0.9"});
  ASSERT_TRUE(resolver->ResolveNowForTest().ok());
  ASSERT_EQ(seen_.lists().size(), 2u);
  EXPECT_EQ(seen_.lists()[1], std::vector<std::string>{"10.0.0.9:4317"});
}

TEST_F(DnsResolverTest, LookupOverrunningTheTimeoutFailsAndIsNotRepeatedWhileRunning) {
  DnsResolverOptions o = Options();
  o.timeout_nanos = 20'000'000;
  auto resolver = Start({"10.0.0.1"}, o);
  dns_.Hold(true);
  EXPECT_EQ(resolver->ResolveNowForTest().code(), absl::StatusCode::kDeadlineExceeded);
  // The stuck lookup is still running: no second one starts beside it.
  EXPECT_EQ(resolver->ResolveNowForTest().code(), absl::StatusCode::kDeadlineExceeded);
  dns_.Hold(false);
  EXPECT_EQ(seen_.lists().size(), 1u);
  // Once it has finished, lookups resume.
  for (int i = 0; i < 1000 && !resolver->ResolveNowForTest().ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(dns_.calls(), 3);
}

TEST_F(DnsResolverTest, BackgroundThreadResolvesEveryIntervalUntilShutdown) {
  DnsResolverOptions o = Options();
  o.interval_nanos = 5'000'000;
  auto resolver = Start({"10.0.0.1"}, o);
  dns_.Answer(std::vector<std::string>{"10.0.0.2"});
  ASSERT_TRUE(seen_.WaitFor(2));
  resolver->Shutdown();
  const size_t announced = seen_.lists().size();
  dns_.Answer(std::vector<std::string>{"10.0.0.3"});
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(seen_.lists().size(), announced);  // nothing after Shutdown
  EXPECT_EQ(seen_.lists()[1], std::vector<std::string>{"10.0.0.2:4317"});
}

TEST_F(DnsResolverTest, IntervalAndTimeoutRunOnTheInjectedClock) {
  FakeClock clock;
  const int64_t t0 = clock.MonotonicNanos();
  DnsResolverOptions o = Options();
  o.interval_nanos = 30'000'000'000;
  o.timeout_nanos = 5'000'000'000;
  o.clock = &clock;
  auto resolver = Start({"10.0.0.1"}, o);
  // The next lookup comes 30 s of the clock after the first.
  dns_.Answer(std::vector<std::string>{"10.0.0.2"});
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 30'000'000'000));
  EXPECT_EQ(dns_.calls(), 1);
  clock.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(seen_.WaitFor(2));
  EXPECT_EQ(seen_.lists()[1], std::vector<std::string>{"10.0.0.2:4317"});
  // A lookup that hangs is given up 5 s of the clock after it started.
  dns_.Hold(true);
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 60'000'000'000));
  clock.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 65'000'000'000));
  EXPECT_EQ(failed_.Value(), 0u);
  clock.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(clock.AwaitWaiterUntilForTest(t0 + 95'000'000'000));
  EXPECT_EQ(failed_.Value(), 1u);
  EXPECT_EQ(ok_.Value(), 2u);
  // Let the abandoned lookup finish before dns_ goes away.
  dns_.Hold(false);
  for (int i = 0; i < 1000 && !resolver->ResolveNowForTest().ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
}

TEST_F(DnsResolverTest, SystemLookupResolvesNumericAddresses) {
  auto v4 = SystemAddressLookup("127.0.0.1");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(*v4, std::vector<std::string>{"127.0.0.1"});
  auto v6 = SystemAddressLookup("::1");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(*v6, std::vector<std::string>{"::1"});
}

}  // namespace
}  // namespace strand::pipeline
