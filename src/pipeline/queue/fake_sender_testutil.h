// Test-only helpers for exporter tests: a RequestSender that records the bodies it is
// given and answers from a script, and small waiting helpers. Thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "otlp/proto_decoder.h"
#include "pipeline/queue/request_sender.h"

namespace strand::pipeline::testutil {

// Waits, with `mu` held, until `pred()` holds (at most 10 s); false on timeout.
template <typename Pred>
bool AwaitWithMutex(absl::Mutex& mu, Pred pred) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
  return mu.AwaitWithTimeout(absl::Condition(&pred), absl::Seconds(10));
}

// What a FakeSender saw and what it answers. Owned by the test, so it outlives the
// exporter that owns the sender.
class SendLog {
 public:
  // Answers the next sends with `results` in order; after them, `fallback`.
  void Script(std::vector<SendResult> results) {
    absl::MutexLock lock(&mu_);
    for (auto& r : results) script_.push_back(std::move(r));
  }
  void SetFallback(SendResult r) {
    absl::MutexLock lock(&mu_);
    fallback_ = std::move(r);
  }
  // The clock whose time times() records (default: the real clock); it outlives the log.
  void UseClock(const Clock& clock) {
    absl::MutexLock lock(&mu_);
    clock_ = &clock;
  }
  // While closed, Send blocks (an unreachable next hop that has not answered yet).
  void SetGate(bool open) {
    absl::MutexLock lock(&mu_);
    gate_open_ = open;
  }

  SendResult Send(std::string_view body) {
    absl::MutexLock lock(&mu_);
    ++attempts_;
    mu_.Await(absl::Condition(&gate_open_));
    SendResult r = fallback_;
    if (!script_.empty()) {
      r = std::move(script_.front());
      script_.pop_front();
    }
    if (r.status.ok()) bodies_.emplace_back(body);
    times_.push_back(absl::FromUnixNanos(clock_->NowUnixNanos()));
    return r;
  }

  // Bodies of the sends that succeeded, in order.
  std::vector<std::string> bodies() {
    absl::MutexLock lock(&mu_);
    return bodies_;
  }
  std::vector<absl::Time> times() {
    absl::MutexLock lock(&mu_);
    return times_;
  }
  int attempts() {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }
  // Waits (up to 10 s) until `n` sends succeeded; false on timeout.
  bool WaitForBodies(size_t n) {
    absl::MutexLock lock(&mu_);
    return AwaitWithMutex(mu_,
                          [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return bodies_.size() >= n; });
  }
  // Waits (up to 10 s) until `n` sends were attempted (including ones still blocked).
  bool WaitForAttempts(int n) {
    absl::MutexLock lock(&mu_);
    return AwaitWithMutex(mu_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return attempts_ >= n; });
  }
  // Spans in each successful body, in order.
  std::vector<size_t> SpansPerBody() {
    std::vector<size_t> out;
    for (const std::string& body : bodies()) {
      auto decoded = otlp::DecodeProtoRequest(std::string(body));
      EXPECT_TRUE(decoded.ok()) << decoded.status();
      out.push_back(decoded.ok() ? decoded->batch.spans.size() : 0);
    }
    return out;
  }
  size_t TotalSpans() {
    size_t n = 0;
    for (size_t s : SpansPerBody()) n += s;
    return n;
  }

 private:
  absl::Mutex mu_;
  std::deque<SendResult> script_ ABSL_GUARDED_BY(mu_);
  SendResult fallback_ ABSL_GUARDED_BY(mu_);
  bool gate_open_ ABSL_GUARDED_BY(mu_) = true;
  const Clock* clock_ ABSL_GUARDED_BY(mu_) = Clock::Real();
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> times_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeSender : public RequestSender {
 public:
  explicit FakeSender(SendLog& log) : log_(log) {}
  SendResult Send(std::string_view body, int64_t /*timeout_nanos*/) override {
    return log_.Send(body);
  }
  std::string Describe() const override { return "fake"; }

 private:
  SendLog& log_;
};

inline SendResult Retryable(const char* why = "try later") {
  return {absl::UnavailableError(why), /*retryable=*/true};
}
inline SendResult Permanent(const char* why = "bad data") {
  return {absl::InvalidArgumentError(why), /*retryable=*/false};
}

// Waits (up to 10 s) until `pred()` holds; false on timeout. For counters that change on
// other threads.
template <typename Pred>
bool Eventually(Pred pred) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace strand::pipeline::testutil
