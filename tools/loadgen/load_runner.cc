#include "loadgen/load_runner.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "loadgen/grpc_worker.h"
#include "loadgen/gzip_compressor.h"
#include "loadgen/http_worker.h"
#include "loadgen/request_pool.h"

namespace strand::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

}  // namespace

absl::StatusOr<ProcessUsage> ReadProcessUsage(int pid) {
  ProcessUsage usage;
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("cannot read /proc/", pid, "/stat"));
  }
  // Fields after the command name start at field 3 (state); utime and stime are 14, 15.
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  uint64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::DataLossError(absl::StrCat("unexpected /proc/", pid, "/stat"));
  }
  usage.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status_file(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status_file, line)) {
    for (auto [key, out] :
         {std::pair{"VmRSS:", &usage.rss_kb}, std::pair{"VmHWM:", &usage.peak_rss_kb}}) {
      if (line.rfind(key, 0) == 0) {
        std::string value(absl::StripAsciiWhitespace(line.substr(std::strlen(key))));
        if (value.size() > 3) value.resize(value.size() - 3);  // " kB"
        if (!absl::SimpleAtoi(value, out)) *out = 0;  // unreadable: reported as 0
      }
    }
  }
  return usage;
}

namespace {

// The steps of LoadRunner::Run().

absl::StatusOr<std::unique_ptr<RequestPool>> BuildPool(const LoadConfig& config) {
  RequestPoolOptions pool_options;
  pool_options.generator = config.generator;
  pool_options.size = config.pool_size;
  pool_options.format =
      config.protocol == Protocol::kHttpJson ? BodyFormat::kJson : BodyFormat::kProtobuf;
  pool_options.id_salt = config.id_salt;
  return RequestPool::Build(pool_options);
}

// Compressed bytes per body byte of the pool at zlib's default level: what gRPC, which
// compresses inside the library, sends.
absl::StatusOr<double> GrpcGzipRatio(const RequestPool& pool) {
  GzipCompressor gzip(6);
  double in = 0, out = 0;
  std::string compressed;
  for (size_t i = 0; i < pool.size(); ++i) {
    RETURN_IF_ERROR(gzip.Compress(pool.entry(i).body, compressed));
    in += static_cast<double>(pool.entry(i).body.size());
    out += static_cast<double>(compressed.size());
  }
  return out / in;
}

// One worker per connection, of the configured protocol; they share `sequence` (the next
// request to send) and `live`, which must outlive them.
struct Workers {
  std::vector<std::unique_ptr<GrpcWorker>> grpc;
  std::vector<std::unique_ptr<HttpWorker>> http;
};

// Creates `n` workers; gRPC ones connect first (within 5 s), failures counted in `report`.
Workers StartWorkers(const LoadConfig& config, const RequestPool& pool, int n,
                     std::atomic<uint64_t>& sequence, LiveCounters& live, RunReport& report) {
  Workers w;
  for (int i = 0; i < n; ++i) {
    if (config.protocol == Protocol::kGrpc) {
      w.grpc.push_back(std::make_unique<GrpcWorker>(config, pool, sequence, live, i));
    } else {
      w.http.push_back(std::make_unique<HttpWorker>(config, pool, sequence, live, i));
    }
  }
  const auto connect_deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  for (auto& g : w.grpc) {
    if (!g->Connect(connect_deadline)) ++report.connect_failures;
  }
  return w;
}

// Until `finished` reaches `n` workers: a progress line on stderr every report interval
// (none if it is 0), each also kept in report.intervals.
void WatchProgress(const LoadConfig& config, const LiveCounters& live,
                   const std::atomic<int>& finished, int n, Clock::time_point start,
                   const ProcessUsage& server_before, RunReport& report) {
  Clock::time_point last_tick = start;
  uint64_t last_acked = 0, last_failed = 0;
  ProcessUsage last_server = server_before;
  const bool reporting = config.report_interval.count() > 0;
  while (finished.load() < n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const Clock::time_point now = Clock::now();
    if (!reporting || now - last_tick < config.report_interval) continue;
    IntervalSample sample;
    sample.at_s = Seconds(now - start);
    const uint64_t acked = live.spans_acked.load(), failed = live.requests_failed.load();
    sample.spans_per_s = static_cast<double>(acked - last_acked) / Seconds(now - last_tick);
    sample.failed_requests = failed - last_failed;
    if (report.server_measured) {
      if (auto usage = ReadProcessUsage(config.server_pid); usage.ok()) {
        sample.server_cpu_fraction =
            (usage->cpu_seconds - last_server.cpu_seconds) / Seconds(now - last_tick);
        sample.server_rss_mb = static_cast<double>(usage->rss_kb) / 1024.0;
        last_server = *usage;
      }
    }
    std::fprintf(stderr, "  %6.1fs  %10.0f spans/s acknowledged  %6llu failed requests",
                 sample.at_s, sample.spans_per_s,
                 static_cast<unsigned long long>(sample.failed_requests));
    if (sample.server_rss_mb >= 0) {
      std::fprintf(stderr, "  server %5.1f%% CPU  %7.1f MB RSS", 100 * sample.server_cpu_fraction,
                   sample.server_rss_mb);
    }
    std::fprintf(stderr, "\n");
    report.intervals.push_back(sample);
    last_tick = now;
    last_acked = acked;
    last_failed = failed;
  }
}

// Sends from every worker on its own thread for the configured duration, at its share of
// the rate, watching progress; then the workers' figures. Fills the report's timing, CPU
// and server figures.
absl::StatusOr<std::vector<RunStats>> Send(const LoadConfig& config, Workers& w, int n,
                                           const LiveCounters& live, RunReport& report) {
  const double requests_per_second_per_worker =
      config.rate > 0 ? config.rate / static_cast<double>(report.spans_per_request) / n : 0;
  ProcessUsage server_before;
  if (config.server_pid > 0) {
    auto usage = ReadProcessUsage(config.server_pid);
    if (!usage.ok()) return usage.status();
    server_before = *usage;
    report.server_measured = true;
  }

  const double cpu_before = SelfCpuSeconds();
  const Clock::time_point start = Clock::now();
  const Clock::time_point stop =
      start + std::chrono::duration_cast<Clock::duration>(config.duration);
  std::vector<RunStats> results(n);
  std::vector<absl::Status> failures(n);
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      if (config.protocol == Protocol::kGrpc) {
        results[i] = w.grpc[i]->Run(requests_per_second_per_worker, stop);
      } else {
        auto r = w.http[i]->Run(requests_per_second_per_worker, stop);
        if (r.ok()) {
          results[i] = std::move(*r);
        } else {
          failures[i] = r.status();
        }
      }
      finished.fetch_add(1);
    });
  }
  WatchProgress(config, live, finished, n, start, server_before, report);
  for (std::thread& t : threads) t.join();
  const Clock::time_point end = Clock::now();
  report.elapsed_s = Seconds(end - start);
  report.loadgen_cpu_s = SelfCpuSeconds() - cpu_before;
  for (const absl::Status& s : failures) RETURN_IF_ERROR(s);

  if (report.server_measured) {
    auto usage = ReadProcessUsage(config.server_pid);
    if (!usage.ok()) return usage.status();
    report.server_delta = *usage;
    report.server_delta.cpu_seconds = usage->cpu_seconds - server_before.cpu_seconds;
  }
  return results;
}

// Reads up to `sample_cap` acknowledged traces back through the API: one trace from each
// sampled request, more from each when there were few requests.
VerifyResult VerifySample(const LoadConfig& config, const RequestPool& pool,
                          const std::vector<uint64_t>& acked, size_t sample_cap,
                          testdata::Rng& rng) {
  std::vector<SentTrace> traces;
  std::set<std::pair<uint64_t, size_t>> chosen;
  const size_t per_request = static_cast<size_t>(config.generator.traces_per_request);
  for (size_t i = 0;
       traces.size() < sample_cap && !acked.empty() && i < sample_cap * per_request * 4; ++i) {
    const uint64_t seq = acked[i % acked.size()];
    const size_t t = rng.Below(pool.EntryFor(seq).traces.size());
    if (chosen.insert({seq, t}).second) traces.push_back(pool.Sent(seq, t));
  }
  TraceVerifier verifier(config.verify_url, config.headers,
                         std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout));
  return verifier.Verify(traces);
}

}  // namespace

absl::StatusOr<RunReport> LoadRunner::Run() {
  RunReport report;
  report.config = config_;
  const int workers = std::max(1, config_.workers);

  const Clock::time_point setup_start = Clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<RequestPool> pool, BuildPool(config_));
  report.spans_per_request = pool->spans_per_request();
  double gzip_ratio = 1;
  if (config_.gzip && config_.protocol == Protocol::kGrpc) {
    ASSIGN_OR_RETURN(gzip_ratio, GrpcGzipRatio(*pool));
    report.wire_bytes_estimated = true;
  }
  std::atomic<uint64_t> sequence{0};
  LiveCounters live;
  Workers w = StartWorkers(config_, *pool, workers, sequence, live, report);
  report.setup_s = Seconds(Clock::now() - setup_start);
  ASSIGN_OR_RETURN(std::vector<RunStats> results, Send(config_, w, workers, live, report));

  const size_t sample_cap = static_cast<size_t>(std::max(0, config_.verify_sample));
  testdata::Rng rng(testdata::Mix64(config_.generator.seed ^ 0x5eedULL));
  for (const RunStats& r : results) report.stats.Merge(r, sample_cap, rng);
  if (report.stats.spans_sent > 0) {
    const auto spans = static_cast<double>(report.stats.spans_sent);
    report.body_bytes_per_span = static_cast<double>(report.stats.body_bytes) / spans;
    report.wire_bytes_per_span = static_cast<double>(report.stats.wire_bytes) * gzip_ratio / spans;
  }
  if (!config_.verify_url.empty() && sample_cap > 0) {
    report.verify = VerifySample(config_, *pool, report.stats.acked_sample, sample_cap, rng);
    report.verified = true;
  }
  return report;
}

}  // namespace strand::loadgen
