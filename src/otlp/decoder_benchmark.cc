// Micro-benchmarks of the OTLP decoders and encoder on a realistic request: 50 traces of
// 10 spans from testdata::TraceGenerator, the data of the load figures (about 440 bytes
// per span on the wire).
#include <benchmark/benchmark.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/json_decoder.h"
#include "otlp/otlp_json_testutil.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"
#include "testdata/trace_generator.h"

namespace strand::otlp {
namespace {

namespace pb = opentelemetry::proto;

// Request 0 of the one data generator at its defaults (src/testdata): 50 traces of 10 spans
// from the online shop, the data strand-loadgen sends.
std::string RealisticRequest() {
  return testdata::TraceGenerator(testdata::GeneratorOptions{}).Generate(0).SerializeAsString();
}

void BM_ProtoDecoder_Decode(benchmark::State& state) {
  const std::string bytes = RealisticRequest();
  for (auto _ : state) {
    std::string copy = bytes;
    auto decoded = DecodeProtoRequest(std::move(copy));
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations() * 500);
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_ProtoDecoder_Decode);

void BM_Libprotobuf_Parse(benchmark::State& state) {
  const std::string bytes = RealisticRequest();
  for (auto _ : state) {
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    benchmark::DoNotOptimize(req.ParseFromString(bytes));
  }
  state.SetItemsProcessed(state.iterations() * 500);
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_Libprotobuf_Parse);

void BM_ProtoEncoder_Encode(benchmark::State& state) {
  auto decoded = DecodeProtoRequest(RealisticRequest());
  for (auto _ : state) {
    benchmark::DoNotOptimize(EncodeExportRequest(decoded->batch));
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(BM_ProtoEncoder_Encode);

void BM_JsonDecoder_Decode(benchmark::State& state) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  req.ParseFromString(RealisticRequest());
  const std::string json = testutil::ToOtlpJson(req);
  for (auto _ : state) {
    auto decoded = DecodeJsonRequest(json);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations() * 500);
  state.SetBytesProcessed(state.iterations() * json.size());
}
BENCHMARK(BM_JsonDecoder_Decode);

}  // namespace
}  // namespace strand::otlp
