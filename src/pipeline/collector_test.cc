// Two collectors in process, chained over OTLP/gRPC on loopback ports:
//   client → A (otlp receiver → batch → otlp exporter) → B (otlp receiver → strand) → store.
#include "pipeline/collector.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "api/http_test_client.h"
#include "common/env.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pipeline/fake_sender_testutil.h"
#include "pipeline/otlp_grpc_sender.h"
#include "pipeline/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

using strand::testing::HttpCall;
using testutil::Eventually;

class CollectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collector> StartCollector(const std::string& yaml, TracesConsumer* store) {
    auto config = ParseCollectorConfig(YAML::Load(yaml), BuiltinComponents());
    EXPECT_TRUE(config.ok()) << config.status();
    if (!config.ok()) return nullptr;
    CollectorOptions o;
    o.metrics = &metrics_;
    o.clock = Clock::Real();
    o.env = Env::Default();
    o.store = store;
    auto c = Collector::Start(std::make_shared<const CollectorConfig>(std::move(*config)), o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // B: receives on a loopback port and writes to the fake store.
  void StartB() {
    b_ = StartCollector(R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  strand:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [strand]
)",
                        &store_);
    ASSERT_NE(b_, nullptr);
    ASSERT_EQ(b_->ListenerPortsForTest("otlp").size(), 1u);
  }

  // A: receives, batches and forwards to B; serves health_check and zpages.
  void StartA() {
    const int b_port = b_->ListenerPortsForTest("otlp").at(0);
    a_ = StartCollector(absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  batch:
    send_batch_size: 1000
    timeout: 20ms
exporters:
  otlp/b:
    endpoint: 127.0.0.1:)",
                                     b_port, R"(
    tls:
      insecure: true
    retry_on_failure:
      initial_interval: 5ms
      max_interval: 20ms
extensions:
  health_check:
    endpoint: 127.0.0.1:0
  zpages:
    endpoint: 127.0.0.1:0
service:
  extensions: [health_check, zpages]
  pipelines:
    traces/forward:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/b]
)"),
                        nullptr);
    ASSERT_NE(a_, nullptr);
  }

  // Sends one request of `spans` spans of trace `trace` to A over OTLP/gRPC.
  absl::Status SendToA(uint32_t trace, int spans) {
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
    auto* ss = req.add_resource_spans()->add_scope_spans();
    for (int i = 0; i < spans; ++i) {
      auto* s = ss->add_spans();
      const otlp::TraceId id = testing::TraceIdOf(trace);
      s->set_trace_id(std::string(otlp::IdBytes(id)));
      s->set_span_id(std::string(7, 'x') + static_cast<char>(i + 1));
      s->set_name("op");
    }
    OtlpGrpcSenderOptions o;
    o.endpoint = absl::StrCat("127.0.0.1:", a_->ListenerPortsForTest("otlp").at(0));
    o.tls.insecure = true;
    auto client = OtlpGrpcSender::Create(std::move(o));
    if (!client.ok()) return client.status();
    return (*client)->Send(req.SerializeAsString(), 10'000'000'000).status;
  }

  std::string Url(const std::string& extension, const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", a_->ListenerPortsForTest(extension).at(0), path);
  }

  MetricsRegistry metrics_;
  testing::RecordingConsumer store_;
  std::unique_ptr<Collector> b_;
  std::unique_ptr<Collector> a_;
};

TEST_F(CollectorTest, SpansFlowThroughTwoCollectorsToTheStore) {
  StartB();
  StartA();
  ASSERT_TRUE(SendToA(1, 3).ok());
  ASSERT_TRUE(SendToA(2, 4).ok());
  ASSERT_TRUE(Eventually([&] { return store_.TotalSpans() == 7; })) << store_.TotalSpans();
  EXPECT_EQ(store_.SpansOf(1), 3u);
  EXPECT_EQ(store_.SpansOf(2), 4u);
  a_->Shutdown();
  b_->Shutdown();
  EXPECT_EQ(store_.TotalSpans(), 7u);
}

TEST_F(CollectorTest, HealthCheckAnswersWhileRunning) {
  StartB();
  StartA();
  ASSERT_EQ(a_->ListenerPortsForTest("health_check").size(), 1u);
  auto r = HttpCall("GET", Url("health_check", "/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Server available"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall("GET", Url("health_check", "/other")).status, 404);
}

TEST_F(CollectorTest, ZpagesListPipelinesWithTheirCounters) {
  StartB();
  StartA();
  ASSERT_TRUE(SendToA(3, 5).ok());
  ASSERT_TRUE(Eventually([&] { return store_.TotalSpans() == 5; }));
  // The exporter counts its send once B has answered, a moment after the store has the spans.
  strand::testing::HttpResult r;
  EXPECT_TRUE(Eventually([&] {
    r = HttpCall("GET", Url("zpages", "/debug/pipelinez"));
    return r.body.find("<td>otlp/b</td><td>5</td>") != std::string::npos;
  })) << r.body;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<td>traces/forward</td><td>otlp</td><td>batch</td><td>otlp/b</td>"
                        "<td>5</td><td>0</td>"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(HttpCall("GET", Url("zpages", "/debug/tracez")).status, 404);
}

TEST_F(CollectorTest, ListenerPortsOfUnknownComponentsAreEmpty) {
  StartB();
  EXPECT_TRUE(b_->ListenerPortsForTest("otlp/none").empty());
  EXPECT_TRUE(b_->ListenerPortsForTest("strand").empty());
}

}  // namespace
}  // namespace strand::pipeline
