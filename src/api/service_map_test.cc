#include "api/service_map.h"

#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "simdjson.h"

namespace strand::api {
namespace {

namespace pb = opentelemetry::proto;

// One trace: frontend GET / (root) → checkout POST (error, 30 ms) → payment charge
// (10 ms), and a frontend internal span under the root (no edge).
otlp::SpanBatch ShopTrace() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto add = [&](const char* service, const char* name, char id, char parent, uint64_t ms,
                 bool error) {
    auto* rs = req.add_resource_spans();
    auto* a = rs->mutable_resource()->add_attributes();
    a->set_key("service.name");
    a->mutable_value()->set_string_value(service);
    auto* s = rs->add_scope_spans()->add_spans();
    s->set_trace_id(std::string(15, '\0') + "\x07");
    s->set_span_id(std::string(7, '\0') + id);
    if (parent != 0) s->set_parent_span_id(std::string(7, '\0') + parent);
    s->set_name(name);
    s->set_start_time_unix_nano(1'700'000'000'000'000'000ULL);
    s->set_end_time_unix_nano(1'700'000'000'000'000'000ULL + ms * 1'000'000);
    if (error) s->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
  };
  add("frontend", "GET /", 1, 0, 50, false);
  add("checkout", "POST /checkout", 2, 1, 30, true);
  add("payment", "charge", 3, 2, 10, false);
  add("frontend", "render", 4, 1, 5, false);
  auto decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
  EXPECT_TRUE(decoded.ok());
  return std::move(decoded->batch);
}

traceql::TraceView ViewOf(const otlp::SpanBatch& b) {
  std::vector<otlp::SpanRef> refs;
  for (uint32_t i = 0; i < b.spans.size(); ++i) refs.push_back({&b, i});
  return traceql::TraceView(b.spans[0].trace_id, std::move(refs));
}

TEST(ServiceMapTest, CallsAreSpansWhoseParentIsInAnotherService) {
  otlp::SpanBatch b = ShopTrace();
  ServiceMap map;
  map.Add(ViewOf(b));
  map.Add(ViewOf(b));  // the same trace twice: every count doubles
  const std::string json = map.ToJson(/*seconds=*/4, /*truncated=*/false);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  simdjson::dom::array nodes = doc["nodes"];
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(std::string_view(nodes.at(0)["service"]), "checkout");
  EXPECT_EQ(uint64_t(nodes.at(0)["errors"]), 2u);
  EXPECT_EQ(std::string_view(nodes.at(1)["service"]), "frontend");
  EXPECT_EQ(uint64_t(nodes.at(1)["spans"]), 4u);
  simdjson::dom::array edges = doc["edges"];
  ASSERT_EQ(edges.size(), 2u);
  simdjson::dom::element fc = edges.at(1);
  EXPECT_EQ(std::string_view(fc["client"]), "frontend");
  EXPECT_EQ(std::string_view(fc["server"]), "checkout");
  EXPECT_EQ(uint64_t(fc["calls"]), 2u);
  EXPECT_EQ(uint64_t(fc["errors"]), 2u);
  EXPECT_DOUBLE_EQ(double(fc["error_rate"]), 1.0);
  EXPECT_DOUBLE_EQ(double(fc["rate_per_second"]), 0.5);
  EXPECT_DOUBLE_EQ(double(fc["latency_ms"]["p50"]), 30.0);
  simdjson::dom::element cp = edges.at(0);
  EXPECT_EQ(std::string_view(cp["client"]), "checkout");
  EXPECT_EQ(std::string_view(cp["server"]), "payment");
  EXPECT_DOUBLE_EQ(double(cp["latency_ms"]["p99"]), 10.0);
  EXPECT_EQ(uint64_t(doc["traces"]), 2u);
  EXPECT_FALSE(bool(doc["truncated"]));
}

TEST(ServiceMapTest, LatencySamplesStayBounded) {
  otlp::SpanBatch b = ShopTrace();
  ServiceMap map;
  for (size_t i = 0; i < ServiceMap::kMaxLatencySamples + 100; ++i) map.Add(ViewOf(b));
  const std::string json = map.ToJson(1, true);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(uint64_t(doc["edges"].at(0)["calls"]), ServiceMap::kMaxLatencySamples + 100);
  EXPECT_DOUBLE_EQ(double(doc["edges"].at(0)["latency_ms"]["p50"]), 10.0);
  EXPECT_TRUE(bool(doc["truncated"]));
}

}  // namespace
}  // namespace strand::api
