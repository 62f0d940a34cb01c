// Micro-benchmarks of the OTLP decoders and encoder on a realistic request: 50 traces of
// 10 spans with HTTP and database attributes (about 440 bytes per span on the wire).
#include <benchmark/benchmark.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/json_decoder.h"
#include "otlp/otlp_json_testutil.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace strand::otlp {
namespace {

namespace pb = opentelemetry::proto;

void AddString(pb::trace::v1::Span* span, const std::string& k, const std::string& v) {
  auto* a = span->add_attributes();
  a->set_key(k);
  a->mutable_value()->set_string_value(v);
}
void AddInt(pb::trace::v1::Span* span, const std::string& k, int64_t v) {
  auto* a = span->add_attributes();
  a->set_key(k);
  a->mutable_value()->set_int_value(v);
}

std::string RealisticRequest() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  for (auto [k, v] : {std::pair{"service.name", "checkout"}, {"service.version", "1.4.2"},
                      {"host.name", "checkout-7d9f8b-x2k4"}, {"telemetry.sdk.language", "nodejs"}}) {
    auto* a = rs->mutable_resource()->add_attributes();
    a->set_key(k);
    a->mutable_value()->set_string_value(v);
  }
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("@opentelemetry/instrumentation-http");
  ss->mutable_scope()->set_version("0.52.0");
  for (int t = 0; t < 50; ++t) {
    std::string trace_id(16, static_cast<char>(t + 1));
    for (int s = 0; s < 10; ++s) {
      auto* span = ss->add_spans();
      span->set_trace_id(trace_id);
      span->set_span_id(std::string(8, static_cast<char>(s + 1)));
      if (s > 0) span->set_parent_span_id(std::string(8, static_cast<char>(s)));
      span->set_name(s % 2 ? "SELECT orders" : "GET /api/cart/:id");
      span->set_kind(s % 2 ? pb::trace::v1::Span::SPAN_KIND_CLIENT
                           : pb::trace::v1::Span::SPAN_KIND_SERVER);
      span->set_start_time_unix_nano(1700000000000000000ULL + s * 1000);
      span->set_end_time_unix_nano(1700000000000000000ULL + s * 1000 + 123456);
      AddString(span, "http.method", "GET");
      AddString(span, "http.url", "https://shop.example.com/api/cart/8812?currency=EUR");
      AddString(span, "http.route", "/api/cart/:id");
      AddInt(span, "http.status_code", 200);
      AddString(span, "net.peer.name", "cart.shop.svc.cluster.local");
      AddString(span, "db.system", "postgresql");
      AddString(span, "db.statement", "SELECT * FROM orders WHERE customer_id = $1 LIMIT 50");
      AddString(span, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
    }
  }
  return req.SerializeAsString();
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
