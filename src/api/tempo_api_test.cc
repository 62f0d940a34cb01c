#include "api/tempo_api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "absl/synchronization/notification.h"
#include "api/http_test_client.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "strand/tempopb/tempo.pb.h"

namespace strand::api {
namespace {

namespace pb = opentelemetry::proto;

class TempoApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tempo_api_test_" + std::to_string(std::random_device{}());
    store::StoreOptions o;
    o.data_dir = dir_;
    auto s = store::Store::Open(*Env::Default(), clock_, &metrics_, o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    TempoApiOptions ao;
    ao.address = "127.0.0.1:0";
    auto api = TempoApi::Start(ao, *store_, metrics_);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(*api);
    base_ = "http://127.0.0.1:" + std::to_string(api_->port());

    pb::collector::trace::v1::ExportTraceServiceRequest req;
    auto* rs = req.add_resource_spans();
    auto* a = rs->mutable_resource()->add_attributes();
    a->set_key("service.name");
    a->mutable_value()->set_string_value("checkout");
    auto* span = rs->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(15, '\0') + "\x2a");
    span->set_span_id("\x01\x02\x03\x04\x05\x06\x07\x08");
    span->set_name("GET /cart");
    span->set_kind(pb::trace::v1::Span::SPAN_KIND_SERVER);
    span->set_start_time_unix_nano(1700000000000000000ULL);
    span->set_end_time_unix_nano(1700000000500000000ULL);
    span->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
    auto* attr = span->add_attributes();
    attr->set_key("http.status_code");
    attr->mutable_value()->set_int_value(503);
    auto decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
    ASSERT_TRUE(decoded.ok());
    absl::Notification n;
    store_->Ingest("single-tenant", std::move(decoded->batch), [&](absl::Status s) {
      EXPECT_TRUE(s.ok());
      n.Notify();
    });
    n.WaitForNotification();
  }
  void TearDown() override {
    api_->Stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  FakeClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TempoApi> api_;
  std::string base_;
};

TEST_F(TempoApiTest, V1JsonHasBatchesInCanonicalForm) {
  auto r = testing::HttpCall("GET", base_ + "/api/traces/2a");  // left-padded
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body.rfind("{\"batches\":[{\"resource\":", 0), 0u) << r.body;
  EXPECT_NE(r.body.find("\"traceId\":\"AAAAAAAAAAAAAAAAAAAAKg==\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"kind\":\"SPAN_KIND_SERVER\""), std::string::npos);
  EXPECT_NE(r.body.find("\"code\":\"STATUS_CODE_ERROR\""), std::string::npos);
  EXPECT_NE(r.body.find("\"startTimeUnixNano\":\"1700000000000000000\""), std::string::npos);
  EXPECT_NE(r.body.find("\"intValue\":\"503\""), std::string::npos);
  EXPECT_NE(r.body.find("\"scopeSpans\""), std::string::npos);
}

TEST_F(TempoApiTest, V2JsonWrapsTraceWithResourceSpans) {
  auto r = testing::HttpCall("GET", base_ + "/api/v2/traces/0000000000000000000000000000002A");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.rfind("{\"trace\":{\"resourceSpans\":[", 0), 0u) << r.body;
}

TEST_F(TempoApiTest, ProtobufByAcceptHeader) {
  auto v1 = testing::HttpCall("GET", base_ + "/api/traces/2a", "",
                              {"Accept: application/protobuf"});
  ASSERT_EQ(v1.status, 200);
  tempopb::TraceV1 t;
  ASSERT_TRUE(t.ParseFromString(v1.body));
  ASSERT_EQ(t.batches_size(), 1);
  EXPECT_EQ(t.batches(0).scope_spans(0).spans(0).name(), "GET /cart");
  auto v2 = testing::HttpCall("GET", base_ + "/api/v2/traces/2a", "",
                              {"Accept: application/protobuf"});
  ASSERT_EQ(v2.status, 200);
  tempopb::TraceByIDResponse resp;
  ASSERT_TRUE(resp.ParseFromString(v2.body));
  EXPECT_EQ(resp.trace().resource_spans(0).scope_spans(0).spans(0).name(), "GET /cart");
}

TEST_F(TempoApiTest, NotFoundAndMalformedIds) {
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/2b").status, 404);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/v2/traces/2b").status, 404);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/xyz").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/" + std::string(33, 'a')).status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/2a?start=abc").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/2a?start=10&end=5").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/2a?start=1&end=2000000000").status,
            200);
}

TEST_F(TempoApiTest, HealthEchoBuildInfoAndMetrics) {
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/ready").status, 200);
  auto echo = testing::HttpCall("GET", base_ + "/api/echo");
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, "echo\n");
  auto info = testing::HttpCall("GET", base_ + "/api/status/buildinfo");
  EXPECT_EQ(info.status, 200);
  for (const char* key : {"version", "revision", "branch", "buildDate", "buildUser",
                          "goVersion"}) {
    EXPECT_NE(info.body.find(std::string("\"") + key + "\":"), std::string::npos) << key;
  }
  auto m = testing::HttpCall("GET", base_ + "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(m.body.find("strand_api_requests_total"), std::string::npos);
}

TEST_F(TempoApiTest, UnbuiltFeaturesSayNotSupported) {
  auto r = testing::HttpCall("GET", base_ + "/api/search?q=%7B%7D");
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("not supported"), std::string::npos);
}

}  // namespace
}  // namespace strand::api
