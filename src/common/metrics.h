// Metrics: a small Prometheus registry for Strand's own counters, gauges and histograms,
// rendered in the Prometheus text exposition format (version 0.0.4).
//
// Families are created once at start-up and live as long as the registry; the returned
// pointers stay valid. Updating a metric is lock-free (atomics); creating a labelled child
// takes a mutex, so hot paths should look children up once and keep the pointer.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace strand {

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t v) { value_.fetch_add(v, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A histogram with fixed upper bounds (seconds, bytes, ...). Observe() is lock-free.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound, then +Inf; and the sum.
  std::vector<uint64_t> CumulativeCounts() const;
  double Sum() const;
  uint64_t Count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<uint64_t> sum_micro_{0};               // sum in millionths
};

enum class MetricType { kCounter, kGauge, kHistogram };

// A named metric with a fixed set of label names; children are keyed by label values.
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // Returns the child for these label values (one per label name), creating it once.
  T* With(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  template <typename Fn>
  void ForEach(Fn fn) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_ ABSL_GUARDED_BY(mu_);
};

class MetricsRegistry {
 public:
  // Adding a family whose name is already registered returns that family (the label
  // names must be the same), so a component built several times shares its metrics.
  Family<Counter>* AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>* AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>* AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds);

  // A metric whose value is read from `fn` at each render (for counters kept elsewhere,
  // such as the WAL writer's). `fn` must be thread-safe and outlive the registry's use.
  void AddCallback(std::string name, std::string help, MetricType type, std::function<double()> fn);

  // Renders every family in the text exposition format.
  std::string RenderText() const;

  // Default latency buckets in seconds, 0.5 ms to 10 s.
  static std::vector<double> LatencyBuckets();

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_ ABSL_GUARDED_BY(mu_);
  struct CallbackMetric {
    std::string name, help;
    MetricType type;
    std::function<double()> fn;
  };
  std::vector<CallbackMetric> callbacks_ ABSL_GUARDED_BY(mu_);
};

template <typename T>
T* Family<T>::With(const std::vector<std::string>& values) {
  absl::MutexLock lock(&mu_);
  auto& slot = children_[values];
  if (!slot) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<Histogram>(bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return slot.get();
}

}  // namespace strand
