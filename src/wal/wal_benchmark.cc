// WalWriter append throughput with fsync on, in a fresh directory under $STRAND_BENCH_DIR
// (default: the system temp dir). Point STRAND_BENCH_DIR at the disk you care about: on
// tmpfs an fsync costs nothing and the figures mean little.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/env.h"
#include "wal/wal_writer.h"

namespace strand {
namespace {

std::string MakeBenchDir() {
  const char* base = std::getenv("STRAND_BENCH_DIR");
  std::string tmpl =
      (base != nullptr ? std::string(base) : std::filesystem::temp_directory_path().string()) +
      "/strand_wal_bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// One writer shared by every benchmark thread; created by thread 0.
struct Shared {
  std::string dir;
  std::unique_ptr<WalWriter> writer;
};
Shared* shared = nullptr;

void SetUp(const benchmark::State& state, WalOptions options) {
  if (state.thread_index() != 0) return;
  shared = new Shared;
  shared->dir = MakeBenchDir();
  auto writer = WalWriter::Open(*Env::Default(), shared->dir, options);
  if (!writer.ok()) std::abort();
  shared->writer = std::move(*writer);
}

void TearDown(benchmark::State& state) {
  if (state.thread_index() != 0) return;
  const WalWriterCounters counters = shared->writer->counters();
  if (!shared->writer->Close().ok()) std::abort();
  if (counters.syncs > 0) {
    state.counters["records_per_sync"] =
        static_cast<double>(counters.records_written) / static_cast<double>(counters.syncs);
    state.counters["sync_us"] = static_cast<double>(counters.sync_nanos_total) /
                                static_cast<double>(counters.syncs) / 1000.0;
  }
  std::filesystem::remove_all(shared->dir);
  delete shared;
  shared = nullptr;
}

// Each thread appends and waits for its own acknowledgement: with several threads the
// writer groups their records under one fsync.
void BM_WalWriter_AppendSync(benchmark::State& state) {
  WalOptions options;
  SetUp(state, options);
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    if (!shared->writer->AppendSync(1, "tenant-header", body).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
  TearDown(state);
}
BENCHMARK(BM_WalWriter_AppendSync)->Arg(1024)->Arg(64 * 1024)->UseRealTime();
BENCHMARK(BM_WalWriter_AppendSync)->Arg(1024)->Threads(4)->Threads(16)->UseRealTime();

// One producer keeps up to 256 records in flight: throughput with group commit when the
// caller does not wait for each record.
void BM_WalWriter_AppendPipelined(benchmark::State& state) {
  WalOptions options;
  SetUp(state, options);
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  absl::Mutex mu;
  int64_t in_flight = 0;
  auto below_limit = [&in_flight] { return in_flight < 256; };
  auto drained = [&in_flight] { return in_flight == 0; };
  for (auto _ : state) {
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&below_limit));
      ++in_flight;
    }
    shared->writer->Append(1, "tenant-header", body, [&](absl::Status status) {
      if (!status.ok()) std::abort();
      absl::MutexLock lock(&mu);
      --in_flight;
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&drained));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
  TearDown(state);
}
BENCHMARK(BM_WalWriter_AppendPipelined)->Arg(1024)->Arg(64 * 1024)->UseRealTime();

// Durability relaxed: no fsync, records are acknowledged once written.
void BM_WalWriter_AppendNoSync(benchmark::State& state) {
  WalOptions options;
  options.sync = false;
  SetUp(state, options);
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    if (!shared->writer->AppendSync(1, "tenant-header", body).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
  TearDown(state);
}
BENCHMARK(BM_WalWriter_AppendNoSync)->Arg(1024)->UseRealTime();

}  // namespace
}  // namespace strand
