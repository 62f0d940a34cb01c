#include "common/metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace strand {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!out.empty()) out += ",";
    absl::StrAppend(&out, names[i], "=\"", EscapeLabel(values[i]), "\"");
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ",";
    out += extra;
  }
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

std::string FormatDouble(double v) { return absl::StrFormat("%.9g", v); }

std::string FormatValue(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrFormat("%.17g", v);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<uint64_t>(std::max(0.0, v) * 1e6), std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

double Histogram::Sum() const { return sum_micro_.load(std::memory_order_relaxed) / 1e6; }

uint64_t Histogram::Count() const { return CumulativeCounts().back(); }

namespace {

// A family already registered under `name` (components built several times, such as one
// receiver per pipeline, share it). Its labels must be the same.
template <typename T>
Family<T>* FindFamily(const std::vector<std::unique_ptr<Family<T>>>& families,
                      const std::string& name, const std::vector<std::string>& labels) {
  for (const auto& f : families) {
    if (f->name() == name) {
      if (f->label_names() != labels) {
        std::fprintf(stderr, "metric %s registered twice with different labels\n", name.c_str());
        std::abort();
      }
      return f.get();
    }
  }
  return nullptr;
}

}  // namespace

Family<Counter>* MetricsRegistry::AddCounter(std::string name, std::string help,
                                             std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  if (auto* f = FindFamily(counters_, name, labels)) return f;
  counters_.push_back(
      std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels)));
  return counters_.back().get();
}

Family<Gauge>* MetricsRegistry::AddGauge(std::string name, std::string help,
                                         std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  if (auto* f = FindFamily(gauges_, name, labels)) return f;
  gauges_.push_back(
      std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels)));
  return gauges_.back().get();
}

Family<Histogram>* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                 std::vector<std::string> labels,
                                                 std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  if (auto* f = FindFamily(histograms_, name, labels)) return f;
  histograms_.push_back(std::make_unique<Family<Histogram>>(std::move(name), std::move(help),
                                                            std::move(labels), std::move(bounds)));
  return histograms_.back().get();
}

void MetricsRegistry::AddCallback(std::string name, std::string help, MetricType type,
                                  std::function<double()> fn) {
  absl::MutexLock lock(&mu_);
  callbacks_.push_back({std::move(name), std::move(help), type, std::move(fn)});
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string MetricsRegistry::RenderText() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& f : counters_) {
    absl::StrAppend(&out, "# HELP ", f->name(), " ", f->help(), "\n# TYPE ", f->name(),
                    " counter\n");
    f->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
      absl::StrAppend(&out, f->name(), Labels(f->label_names(), values), " ", c.Value(), "\n");
    });
  }
  for (const auto& f : gauges_) {
    absl::StrAppend(&out, "# HELP ", f->name(), " ", f->help(), "\n# TYPE ", f->name(), " gauge\n");
    f->ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
      absl::StrAppend(&out, f->name(), Labels(f->label_names(), values), " ", g.Value(), "\n");
    });
  }
  for (const auto& c : callbacks_) {
    absl::StrAppend(&out, "# HELP ", c.name, " ", c.help, "\n# TYPE ", c.name, " ",
                    c.type == MetricType::kCounter ? "counter" : "gauge", "\n", c.name, " ",
                    FormatValue(c.fn()), "\n");
  }
  for (const auto& f : histograms_) {
    absl::StrAppend(&out, "# HELP ", f->name(), " ", f->help(), "\n# TYPE ", f->name(),
                    " histogram\n");
    f->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
      auto counts = h.CumulativeCounts();
      for (size_t i = 0; i < h.bounds().size(); ++i) {
        absl::StrAppend(&out, f->name(), "_bucket",
                        Labels(f->label_names(), values,
                               absl::StrCat("le=\"", FormatDouble(h.bounds()[i]), "\"")),
                        " ", counts[i], "\n");
      }
      absl::StrAppend(&out, f->name(), "_bucket", Labels(f->label_names(), values, "le=\"+Inf\""),
                      " ", counts.back(), "\n");
      absl::StrAppend(&out, f->name(), "_sum", Labels(f->label_names(), values), " ",
                      FormatDouble(h.Sum()), "\n");
      absl::StrAppend(&out, f->name(), "_count", Labels(f->label_names(), values), " ",
                      counts.back(), "\n");
    });
  }
  return out;
}

}  // namespace strand
