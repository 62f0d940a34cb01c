// BM_LiveTraces_Add: indexing a realistic batch (50 traces x 10 spans) into live traces.
#include <benchmark/benchmark.h>

#include <random>

#include "otlp/proto_encoder.h"
#include "store/live_traces.h"

namespace strand::store {
namespace {

struct Batch {
  std::shared_ptr<otlp::SpanBatch> decoded;
  LiveBatchPtr live;
};

Batch RandomBatch(std::mt19937_64& rng, const std::shared_ptr<LiveAccounting>& acc) {
  auto b = std::make_shared<otlp::SpanBatch>();
  b->resources.emplace_back();
  b->scopes.emplace_back();
  for (int t = 0; t < 50; ++t) {
    otlp::TraceId id;
    for (auto& byte : id) byte = static_cast<uint8_t>(rng());
    for (int s = 0; s < 10; ++s) {
      otlp::Span span;
      span.trace_id = id;
      span.span_id.fill(static_cast<uint8_t>(s + 1));
      b->spans.push_back(span);
    }
  }
  auto bytes = std::make_shared<const std::string>(otlp::EncodeExportRequest(*b));
  return {b, std::make_shared<const LiveBatch>(bytes, 500, 1, acc)};
}

void BM_LiveTraces_Add(benchmark::State& state) {
  std::mt19937_64 rng(42);
  auto acc = std::make_shared<LiveAccounting>();
  std::vector<Batch> batches;
  for (int i = 0; i < 64; ++i) batches.push_back(RandomBatch(rng, acc));
  auto live = std::make_unique<LiveTraces>();
  size_t i = 0;
  for (auto _ : state) {
    const Batch& b = batches[i++ % batches.size()];
    live->Add("single-tenant", b.live, *b.decoded, 0);
    if (i % 2000 == 0) {
      state.PauseTiming();
      live = std::make_unique<LiveTraces>();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(BM_LiveTraces_Add);

void BM_LiveTraces_Find(benchmark::State& state) {
  std::mt19937_64 rng(7);
  auto acc = std::make_shared<LiveAccounting>();
  LiveTraces live;
  std::vector<otlp::TraceId> ids;
  for (int i = 0; i < 200; ++i) {
    Batch b = RandomBatch(rng, acc);
    live.Add("single-tenant", b.live, *b.decoded, 0);
    ids.push_back(b.decoded->spans[0].trace_id);
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(live.Find("single-tenant", ids[i++ % ids.size()]));
  }
}
BENCHMARK(BM_LiveTraces_Find);

}  // namespace
}  // namespace strand::store
