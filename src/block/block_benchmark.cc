// Block writer and reader speed on realistic data (block_testdata.h: 50 traces x 10 spans
// per request, ~440 bytes per span as OTLP protobuf). Blocks go to a fresh directory under
// $STRAND_BENCH_DIR (default: the system temp dir); the reads mostly hit the page cache.
//
// Counters: bytes_per_span (data file size / spans), inspected_bytes (per lookup),
// spans per second as items_per_second (for compaction: input spans merged per second).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "block/block_compactor.h"
#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "block/block_testdata.h"
#include "block/block_writer.h"
#include "block/row_group_decoder.h"

namespace strand::block {
namespace {

std::string MakeBenchDir() {
  const char* base = std::getenv("STRAND_BENCH_DIR");
  std::string tmpl =
      (base != nullptr ? std::string(base) : std::filesystem::temp_directory_path().string()) +
      "/strand_block_bench.XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// `requests` realistic requests, decoded and grouped by trace; built once per size.
const testdata::TraceSet& Data(int requests) {
  static auto* cache = new std::map<int, std::unique_ptr<testdata::TraceSet>>();
  auto& slot = (*cache)[requests];
  if (slot == nullptr) {
    slot = std::make_unique<testdata::TraceSet>();
    for (int i = 0; i < requests; ++i) {
      if (!slot->AddRequest(testdata::RealisticRequest({}, static_cast<uint64_t>(i))).ok()) {
        std::abort();
      }
    }
  }
  return *slot;
}

// One written block of `requests` requests, opened; kept for the process's life.
struct OpenBlock {
  std::string dir;
  BlockMeta meta;
  std::unique_ptr<BlockReader> reader;
  std::vector<otlp::TraceId> ids;
};
const OpenBlock& Block(int requests) {
  static auto* cache = new std::map<int, std::unique_ptr<OpenBlock>>();
  auto& slot = (*cache)[requests];
  if (slot == nullptr) {
    slot = std::make_unique<OpenBlock>();
    slot->dir = MakeBenchDir();
    const testdata::TraceSet& data = Data(requests);
    absl::StatusOr<BlockMeta> meta = testing::WriteTraceSet(*Env::Default(), slot->dir, data);
    if (!meta.ok()) std::abort();
    slot->meta = *meta;
    auto reader = BlockReader::Open(*Env::Default(), JoinPath(slot->dir, meta->block_id.ToHex()));
    if (!reader.ok()) std::abort();
    slot->reader = std::move(*reader);
    for (const auto& [id, spans] : data.traces) slot->ids.push_back(id);
  }
  return *slot;
}

void BM_BlockWriter_Write(benchmark::State& state) {
  const testdata::TraceSet& data = Data(static_cast<int>(state.range(0)));
  const std::string dir = MakeBenchDir();
  uint64_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<BlockMeta> meta = testing::WriteTraceSet(*Env::Default(), dir, data);
    if (!meta.ok()) {
      state.SkipWithError(std::string(meta.status().message()).c_str());
      break;
    }
    bytes = meta->data_size;
    state.PauseTiming();
    std::filesystem::remove_all(JoinPath(dir, meta->block_id.ToHex()));
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(data.span_count));
  state.counters["bytes_per_span"] =
      static_cast<double>(bytes) / static_cast<double>(data.span_count);
  state.counters["wire_bytes_per_span"] =
      static_cast<double>(data.wire_bytes) / static_cast<double>(data.span_count);
}
BENCHMARK(BM_BlockWriter_Write)->Arg(20)->Arg(200)->Unit(benchmark::kMillisecond);

void BM_BlockReader_FindTrace(benchmark::State& state) {
  const OpenBlock& block = Block(static_cast<int>(state.range(0)));
  std::mt19937_64 rng(1);
  uint64_t inspected = 0;
  for (auto _ : state) {
    const otlp::TraceId& id = block.ids[rng() % block.ids.size()];
    absl::StatusOr<std::optional<FoundTrace>> found = block.reader->FindTrace(id);
    if (!found.ok() || !found->has_value()) {
      state.SkipWithError("lookup failed");
      break;
    }
    inspected += (*found)->inspected_bytes;
    benchmark::DoNotOptimize(found);
  }
  state.counters["inspected_bytes"] = static_cast<double>(inspected) /
                                      static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["block_spans"] = static_cast<double>(block.meta.span_count);
}
BENCHMARK(BM_BlockReader_FindTrace)->Arg(200)->Unit(benchmark::kMicrosecond);

// Random IDs that are not in the block: the bloom filter answers most of them.
void BM_BlockReader_FindTraceAbsent(benchmark::State& state) {
  const OpenBlock& block = Block(static_cast<int>(state.range(0)));
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    otlp::TraceId id;
    for (auto& b : id) b = static_cast<uint8_t>(rng());
    absl::StatusOr<std::optional<FoundTrace>> found = block.reader->FindTrace(id);
    if (!found.ok()) {
      state.SkipWithError("lookup failed");
      break;
    }
    benchmark::DoNotOptimize(found);
  }
}
BENCHMARK(BM_BlockReader_FindTraceAbsent)->Arg(200)->Unit(benchmark::kMicrosecond);

void BM_BlockReader_Scan(benchmark::State& state) {
  const OpenBlock& block = Block(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    absl::Status status = block.reader->Scan([](RowGroupData&& rg) {
      benchmark::DoNotOptimize(rg.batch.spans.data());
      return absl::OkStatus();
    });
    if (!status.ok()) {
      state.SkipWithError("scan failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(block.meta.span_count));
}
BENCHMARK(BM_BlockReader_Scan)->Arg(200)->Unit(benchmark::kMillisecond);

// RowGroupDecoder::DecodeTraces alone: every row group of the 200-request block decoded
// from pages already decompressed (each decoder caches its pages after the first pass).
// Mode 0: every segment and column, as Scan and compaction decode. Mode 1: as a search
// decodes its candidates: every tenth segment, two span attributes, no events or links.
void BM_RowGroupDecoder_DecodeTraces(benchmark::State& state) {
  const OpenBlock& block = Block(200);
  absl::StatusOr<BlockTables> tables = block.reader->ReadTables();
  if (!tables.ok()) std::abort();
  std::vector<std::unique_ptr<RowGroupDecoder>> decoders;
  std::vector<std::vector<char>> picks;
  for (size_t g = 0; g < block.reader->num_row_groups(); ++g) {
    absl::StatusOr<std::unique_ptr<RowGroupDecoder>> decoder = block.reader->OpenRowGroup(g);
    if (!decoder.ok() || !(*decoder)->LoadTraces().ok()) std::abort();
    std::vector<char> pick((*decoder)->num_traces(), 0);
    for (size_t i = 0; i < pick.size(); i += 10) pick[i] = 1;
    picks.push_back(std::move(pick));
    decoders.push_back(std::move(*decoder));
  }
  const std::vector<std::string> keys = {"http.method", "http.status_code"};
  const bool projected = state.range(0) == 1;
  int64_t spans = 0;
  for (auto _ : state) {
    for (size_t g = 0; g < decoders.size(); ++g) {
      RowGroupDecoder::DecodeOptions options;
      if (projected) {
        options.segments = &picks[g];
        options.span_attribute_keys = &keys;
        options.events = options.links = false;
      }
      otlp::SpanBatch batch;
      BlockTables::BatchMap map = tables->NewBatchMap();
      absl::Status status = decoders[g]->DecodeTraces(0, decoders[g]->num_traces(), *tables, map,
                                                      batch, options);
      if (!status.ok()) {
        state.SkipWithError(std::string(status.message()).c_str());
        return;
      }
      spans += static_cast<int64_t>(batch.spans.size());
      benchmark::DoNotOptimize(batch.spans.data());
    }
  }
  state.SetItemsProcessed(spans);
}
BENCHMARK(BM_RowGroupDecoder_DecodeTraces)
    ->ArgName("projected")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

// Four input blocks of 50 requests (25,000 spans) each, written once per mode and kept
// open until exit. Mode 0: four disjoint blocks. Mode 1: replicated ingest (two copies
// of each of two blocks), so half of the input spans are duplicates.
struct CompactionInputs {
  ~CompactionInputs() { std::filesystem::remove_all(dir); }
  std::string dir;
  std::vector<std::unique_ptr<BlockReader>> readers;
  std::vector<const BlockReader*> inputs;
  uint64_t input_spans = 0;
};
const CompactionInputs& Inputs(int mode) {
  static std::map<int, std::unique_ptr<CompactionInputs>> cache;
  auto& slot = cache[mode];
  if (slot != nullptr) return *slot;
  slot = std::make_unique<CompactionInputs>();
  slot->dir = MakeBenchDir();
  constexpr int kRequestsPerBlock = 50;
  for (int b = 0; b < 4; ++b) {
    const int first = (mode == 0 ? b : b / 2) * kRequestsPerBlock;
    testdata::TraceSet set;
    for (int i = first; i < first + kRequestsPerBlock; ++i) {
      if (!set.AddRequest(testdata::RealisticRequest({}, static_cast<uint64_t>(i))).ok()) {
        std::abort();
      }
    }
    absl::StatusOr<BlockMeta> meta = testing::WriteTraceSet(*Env::Default(), slot->dir, set);
    if (!meta.ok()) std::abort();
    auto reader = BlockReader::Open(*Env::Default(), JoinPath(slot->dir, meta->block_id.ToHex()));
    if (!reader.ok()) std::abort();
    slot->readers.push_back(std::move(*reader));
    slot->inputs.push_back(slot->readers.back().get());
    slot->input_spans += meta->span_count;
  }
  return *slot;
}

void BM_BlockCompactor_Merge(benchmark::State& state) {
  const CompactionInputs& inputs = Inputs(static_cast<int>(state.range(0)));
  const std::string out_dir = MakeBenchDir();
  CompactResult last;
  for (auto _ : state) {
    absl::StatusOr<CompactResult> result =
        CompactBlocks(*Env::Default(), inputs.inputs, out_dir, "single-tenant");
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      break;
    }
    last = *result;
    state.PauseTiming();
    std::filesystem::remove_all(JoinPath(out_dir, result->meta.block_id.ToHex()));
    state.ResumeTiming();
  }
  std::filesystem::remove_all(out_dir);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(inputs.input_spans));
  state.counters["input_spans"] = static_cast<double>(inputs.input_spans);
  state.counters["output_spans"] = static_cast<double>(last.output_spans);
  state.counters["bytes_per_span"] = static_cast<double>(last.meta.data_size) /
                                     static_cast<double>(std::max<uint64_t>(1, last.output_spans));
  state.counters["peak_decoded_bytes"] = static_cast<double>(last.peak_decoded_bytes);
}
BENCHMARK(BM_BlockCompactor_Merge)
    ->ArgName("replicated")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace strand::block
