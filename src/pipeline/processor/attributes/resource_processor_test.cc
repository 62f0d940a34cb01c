#include <gtest/gtest.h>

#include "otlp/proto_encoder.h"
#include "pipeline/processor/attributes/attributes_processor.h"
#include "pipeline/testutil/capture_consumer_testutil.h"

namespace strand::pipeline {
namespace {

namespace pb = opentelemetry::proto;

// Two resources, one span each.
otlp::SpanBatch ResourceBatch() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  for (int i = 0; i < 2; ++i) {
    auto* rs = req.add_resource_spans();
    auto* attrs = rs->mutable_resource()->mutable_attributes();
    auto* kv = attrs->Add();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(i == 0 ? "checkout" : "db");
    kv = attrs->Add();
    kv->set_key("host.name");
    kv->mutable_value()->set_string_value(i == 0 ? "node-1.eu-west" : "node-2.us-east");
    kv = attrs->Add();
    kv->set_key("pid");
    kv->mutable_value()->set_int_value(100 + i);
    auto* span = rs->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(16, static_cast<char>(0x11 + i)));
    span->set_span_id(std::string(8, static_cast<char>(1 + i)));
    span->set_name("op");
    kv = span->add_attributes();
    kv->set_key("pid");
    kv->mutable_value()->set_int_value(7);
  }
  return testutil::Decode(req);
}

std::string ResourceAttrs(const otlp::SpanBatch& b, size_t span) {
  const otlp::Resource& r = b.resources[b.scopes[b.spans[span].scope_index].resource_index];
  std::string out;
  otlp::testutil::batch_testutil_internal::AppendKeyValues(out, b, b.attributes, r.attributes, 0);
  return out;
}

TEST(ResourceProcessorTest, ActionsEditEveryResourceAndLeaveSpansAlone) {
  auto factory = NewResourceProcessorFactory();
  testutil::RunResult r = testutil::Run(*factory, R"yaml(
attributes:
  - {key: deployment.environment, value: prod, action: insert}
  - {key: service.name, value: renamed, action: update}
  - {key: pid, action: hash}
  - {key: host.name, action: extract, pattern: '^(?P<node>[^.]+)\.(?P<region>.+)$'}
  - {key: host.name, action: delete}
  - {key: cloud.region, from_attribute: region, action: upsert}
  - {key: region, action: delete}
)yaml",
                                        ResourceBatch());
  ASSERT_EQ(r.out.size(), 1u);
  const otlp::SpanBatch& b = r.out[0];
  EXPECT_EQ(otlp::testutil::BatchInvariantViolation(b), "");
  // SHA-256 of the ints 100 and 101 as 8 little-endian bytes (Python hashlib).
  EXPECT_EQ(ResourceAttrs(b, 0),
            R"({"service.name": "renamed", )"
            R"("pid": "26ab39150b6330152576e4c7fa7e0caa804b5e9db0476a3e48e6b53f1cda8279", )"
            R"("deployment.environment": "prod", "node": "node-1", "cloud.region": "eu-west"})");
  EXPECT_NE(
      ResourceAttrs(b, 1).find("8d67520993de119090ca5ef1d7a6feb35c8b348503426049f21af5875c7a5d4b"),
      std::string::npos);
  std::string span_dump = otlp::testutil::DumpBatch(b);
  EXPECT_NE(span_dump.find(R"(attributes {"pid": 7})"), std::string::npos) << span_dump;

  absl::StatusOr<otlp::DecodedRequest> back =
      otlp::DecodeProtoRequest(otlp::EncodeExportRequest(b));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(otlp::testutil::DumpBatch(back->batch), span_dump);
}

TEST(ResourceProcessorTest, ConfigErrorsAreReported) {
  testutil::ExpectParseErrors(*NewResourceProcessorFactory(),
                              {
                                  {"attributes: []", "missing required field"},
                                  {"actions: [{key: a, action: delete}]", "attributes: missing"},
                                  {"attributes: [{key: a, action: explode}]", "unknown action"},
                              });
}

}  // namespace
}  // namespace strand::pipeline
