// Micro-benchmarks of TraceQL: parsing, evaluating a query over decoded traces, and the
// column filter over a row group (the first pass of a block search). Here rather than in
// src/traceql because they run on realistic blocks (block/block_testdata.h).
//
//   BM_TraceQL_Parse            a query with a filter, a structural operator and a pipeline
//   BM_TraceQL_Evaluate         { span.http.status_code >= 500 } over realistic traces
//   BM_TraceQL_ColumnFilter     the same condition on one row group's columns
//
// Items are spans (evaluate, column filter) or queries (parse).
#include <benchmark/benchmark.h>

#include <map>

#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "block/block_testdata.h"
#include "otlp/proto_decoder.h"
#include "query/column_filter.h"
#include "traceql/evaluator.h"
#include "traceql/parser.h"

namespace strand::query {
namespace {

using traceql::Evaluator;
using traceql::Parse;
using traceql::TraceView;

constexpr char kQuery[] =
    "{ resource.service.name = \"checkout\" && span.http.status_code >= 500 } >> "
    "{ status = error } | count() > 1";
constexpr char kFilter[] = "{ span.http.status_code >= 500 }";

void BM_TraceQL_Parse(benchmark::State& state) {
  for (auto _ : state) {
    auto q = Parse(kQuery);
    benchmark::DoNotOptimize(q);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TraceQL_Parse);

// Realistic requests (50 traces x 10 spans each), decoded.
std::vector<otlp::SpanBatch> Batches(int n) {
  std::vector<otlp::SpanBatch> out;
  block::testdata::RealisticOptions options;
  for (int i = 0; i < n; ++i) {
    auto decoded = otlp::DecodeProtoRequest(
        block::testdata::RealisticRequest(options, static_cast<uint64_t>(i)).SerializeAsString());
    out.push_back(std::move(decoded->batch));
  }
  return out;
}

void BM_TraceQL_Evaluate(benchmark::State& state) {
  const std::vector<otlp::SpanBatch> batches = Batches(20);
  std::vector<TraceView> traces;
  size_t spans = 0;
  for (const otlp::SpanBatch& b : batches) {
    std::map<otlp::TraceId, std::vector<otlp::SpanRef>> by_trace;
    for (uint32_t i = 0; i < b.spans.size(); ++i) by_trace[b.spans[i].trace_id].push_back({&b, i});
    for (auto& [id, refs] : by_trace) {
      spans += refs.size();
      traces.emplace_back(id, std::move(refs));
    }
  }
  auto evaluator = Evaluator::Compile(*Parse(kFilter));
  size_t matched = 0;
  for (auto _ : state) {
    for (const TraceView& t : traces) matched += (*evaluator)->Evaluate(t).size();
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * spans));
}
BENCHMARK(BM_TraceQL_Evaluate);

void BM_TraceQL_ColumnFilter(benchmark::State& state) {
  block::testdata::TraceSet set;
  block::testdata::RealisticOptions options;
  for (int i = 0; i < 20; ++i) {
    if (!set.AddRequest(block::testdata::RealisticRequest(options, static_cast<uint64_t>(i)))
             .ok()) {
      state.SkipWithError("test data");
      return;
    }
  }
  block::testing::TempDir dir;
  block::BlockWriterOptions writer_options;
  writer_options.spans_per_row_group = 10000;
  auto meta = block::testing::WriteTraceSet(*Env::Default(), dir.path(), set, writer_options);
  auto reader =
      block::BlockReader::Open(*Env::Default(), JoinPath(dir.path(), meta->block_id.ToHex()));
  auto tables = (*reader)->ReadTables();
  auto query = Parse(kFilter);
  ColumnFilter filter(*query);
  auto ctx = filter.Prepare(*tables);
  size_t candidates = 0;
  for (auto _ : state) {
    auto rg = (*reader)->OpenRowGroup(0);
    auto cand = filter.Candidates(**rg, *ctx, false, false);
    for (char c : *cand) candidates += c;
  }
  benchmark::DoNotOptimize(candidates);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * set.span_count));
}
BENCHMARK(BM_TraceQL_ColumnFilter);

}  // namespace
}  // namespace strand::query
