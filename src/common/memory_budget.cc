#include "common/memory_budget.h"

#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics.h"

namespace strand {
namespace {

uint64_t ReadFirstNumber(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return 0;
  uint64_t v = 0;
  if (!absl::SimpleAtoi(text, &v)) return 0;  // "max": no limit
  return v;
}

}  // namespace

uint64_t AvailableMemoryBytes() {
  uint64_t total = 0;
  {
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    uint64_t kb = 0;
    while (in >> key >> kb >> unit) {
      if (key == "MemTotal:") {
        total = kb * 1024;
        break;
      }
    }
  }
  for (const char* path :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const uint64_t limit = ReadFirstNumber(path);
    if (limit > 0 && (total == 0 || limit < total)) return limit;
  }
  return total;
}

uint64_t ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

MemoryBudget::MemoryBudget(uint64_t limit, std::function<uint64_t()> resident)
    : limit_(limit),
      tracked_limit_(limit / 5 * 4),
      resident_(resident ? std::move(resident) : std::function<uint64_t()>(ResidentBytes)) {}

MemoryBudget::~MemoryBudget() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (sampler_.joinable()) sampler_.join();
}

uint64_t MemoryBudget::DefaultLimit() { return AvailableMemoryBytes() / 5 * 4; }

namespace {
// "123 bytes", "45 KiB", "300 MiB": exact enough for a log line at any limit.
std::string Size(uint64_t bytes) {
  if (bytes >= (10u << 20)) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes >= (10u << 10)) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " bytes");
}
}  // namespace

absl::Status MemoryBudget::Refusal(uint64_t bytes, std::string_view what) const {
  if (refusals_ != nullptr) refusals_->With({std::string(what)})->Increment();
  if (over_resident()) {
    return absl::UnavailableError(absl::StrCat(
        "memory limit reached: the process holds ", Size(last_resident_.load()),
        ", at or over strand.memory_limit (", Size(limit_), "); ", std::string(what),
        " refused, retry later"));
  }
  return absl::UnavailableError(absl::StrCat(
      "memory limit reached: ", std::string(what), " needs ", Size(bytes), ", ", Size(used()),
      " of ", Size(tracked_limit_), " of request memory are in use (strand.memory_limit ",
      Size(limit_), "); retry later"));
}

absl::Status MemoryBudget::CheckAdmission(uint64_t bytes, std::string_view what) const {
  if (over_resident() || used() + bytes > tracked_limit_) return Refusal(bytes, what);
  return absl::OkStatus();
}

absl::Status MemoryBudget::TryTake(uint64_t bytes, std::string_view what) {
  if (over_resident()) return Refusal(bytes, what);
  uint64_t cur = used_.load(std::memory_order_relaxed);
  do {
    if (cur + bytes > tracked_limit_) return Refusal(bytes, what);
  } while (!used_.compare_exchange_weak(cur, cur + bytes, std::memory_order_relaxed));
  return absl::OkStatus();
}

void MemoryBudget::Take(uint64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }

void MemoryBudget::Give(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

void MemoryBudget::Sample() {
  uint64_t rss = resident_();
  if (rss >= limit_) {
    // Heap the allocator merely caches counts as resident: hand it back before deciding.
    malloc_trim(0);
    rss = resident_();
  }
  last_resident_.store(rss, std::memory_order_relaxed);
  over_resident_.store(rss >= limit_, std::memory_order_relaxed);
}

void MemoryBudget::StartSampler(std::chrono::milliseconds interval, const Clock* clock) {
  if (clock == nullptr) clock = Clock::Real();
  const int64_t interval_nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
  sampler_ = std::thread([this, interval_nanos, clock] {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    for (;;) {
      Sample();
      absl::MutexLock lock(&mu_);
      if (clock->AwaitWithTimeout(mu_, absl::Condition(&stop_), interval_nanos)) return;
    }
  });
}

void MemoryBudget::RegisterMetrics(MetricsRegistry& metrics) {
  metrics.AddCallback("strand_memory_limit_bytes", "The process's memory limit (strand.memory_limit).",
                      MetricType::kGauge, [this] { return static_cast<double>(limit_); });
  metrics.AddCallback("strand_memory_tracked_bytes",
                      "Request memory held now: bodies, inflated buffers, decoded batches, live "
                      "traces, export queues, lookup results.",
                      MetricType::kGauge, [this] { return static_cast<double>(used()); });
  metrics.AddCallback("strand_memory_tracked_limit_bytes",
                      "The share of the memory limit that request memory may hold.",
                      MetricType::kGauge, [this] { return static_cast<double>(tracked_limit_); });
  metrics.AddCallback("strand_memory_resident_bytes", "The process's resident set at the last sample.",
                      MetricType::kGauge, [this] { return static_cast<double>(last_resident_.load()); });
  refusals_ = metrics.AddCounter("strand_memory_refusals_total",
                                 "Work refused because the memory limit was reached, by what.",
                                 {"what"});
}

MemoryLease& MemoryLease::operator=(MemoryLease&& other) noexcept {
  if (this != &other) {
    Reset();
    budget_ = other.budget_;
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

absl::Status MemoryLease::TryResize(uint64_t bytes, std::string_view what) {
  if (budget_ == nullptr) {
    bytes_ = bytes;
    return absl::OkStatus();
  }
  if (bytes > bytes_) {
    if (absl::Status s = budget_->TryTake(bytes - bytes_, what); !s.ok()) return s;
  } else if (bytes < bytes_) {
    budget_->Give(bytes_ - bytes);
  }
  bytes_ = bytes;
  return absl::OkStatus();
}

void MemoryLease::Resize(uint64_t bytes) {
  if (budget_ != nullptr) {
    if (bytes > bytes_) budget_->Take(bytes - bytes_);
    if (bytes < bytes_) budget_->Give(bytes_ - bytes);
  }
  bytes_ = bytes;
}

}  // namespace strand
