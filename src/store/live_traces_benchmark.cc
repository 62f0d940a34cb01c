// BM_LiveTraces_Add: indexing a realistic batch (50 traces x 10 spans, from the one data
// generator, src/testdata) into live traces.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "otlp/proto_decoder.h"
#include "store/live_traces.h"
#include "testdata/trace_generator.h"

namespace strand::store {
namespace {

struct Batch {
  std::shared_ptr<otlp::SpanBatch> decoded;
  LiveBatchPtr live;
};

// Request `index` of the one data generator (src/testdata), decoded as the receiver does.
Batch GeneratedBatch(const testdata::TraceGenerator& generator, uint64_t index,
                     const std::shared_ptr<LiveAccounting>& acc) {
  auto bytes =
      std::make_shared<const std::string>(generator.Generate(index).SerializeAsString());
  auto decoded = otlp::DecodeProtoRequest(bytes);
  if (!decoded.ok()) std::abort();  // the generator's requests always decode
  auto b = std::make_shared<otlp::SpanBatch>(std::move(decoded->batch));
  const auto spans = static_cast<uint32_t>(b->spans.size());
  return {b, std::make_shared<const LiveBatch>(std::move(bytes), spans, 1, acc)};
}

void BM_LiveTraces_Add(benchmark::State& state) {
  const testdata::TraceGenerator generator(testdata::GeneratorOptions{.seed = 42});
  auto acc = std::make_shared<LiveAccounting>();
  std::vector<Batch> batches;
  for (uint64_t i = 0; i < 64; ++i) batches.push_back(GeneratedBatch(generator, i, acc));
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
  const testdata::TraceGenerator generator(testdata::GeneratorOptions{.seed = 7});
  auto acc = std::make_shared<LiveAccounting>();
  LiveTraces live;
  std::vector<otlp::TraceId> ids;
  for (uint64_t i = 0; i < 200; ++i) {
    Batch b = GeneratedBatch(generator, i, acc);
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
