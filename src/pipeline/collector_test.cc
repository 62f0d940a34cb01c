// Two collectors in process, chained over OTLP/gRPC on loopback ports:
//   client → A (otlp receiver → batch → otlp exporter) → B (otlp receiver → strand) → store.
#include "pipeline/collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "http/http_test_client.h"
#include "http/self_signed_cert.h"
#include "auth/basic_authenticator.h"
#include "auth/bearer_token_authenticator.h"
#include "common/env.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "overrides/overrides.h"
#include "pipeline/builtin_components.h"
#include "pipeline/exporter/otlp/otlp_grpc_sender.h"
#include "pipeline/exporter/otlp/otlp_http_sender.h"
#include "pipeline/queue/fake_sender_testutil.h"
#include "pipeline/receiver/otlp/otlp_receiver.h"
#include "pipeline/testutil/tail_sampling_testutil.h"

namespace strand::pipeline {
namespace {

using strand::testing::HttpCall;
using testutil::Eventually;

class CollectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collector> StartCollector(const std::string& yaml, TracesConsumer* store,
                                            overrides::Overrides* overrides = nullptr) {
    auto config = ParseCollectorConfig(YAML::Load(yaml), BuiltinComponents());
    EXPECT_TRUE(config.ok()) << config.status();
    if (!config.ok()) return nullptr;
    return StartCollector(std::make_shared<CollectorConfig>(std::move(*config)), store, overrides);
  }
  std::unique_ptr<Collector> StartCollector(std::shared_ptr<const CollectorConfig> config,
                                            TracesConsumer* store,
                                            overrides::Overrides* overrides = nullptr) {
    CollectorOptions o;
    o.metrics = &metrics_;
    o.clock = Clock::Real();
    o.env = Env::Default();
    o.store = store;
    o.overrides = overrides;
    auto c = Collector::Start(std::move(config), o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // B: receives on a loopback port and writes to the fake store.
  void StartB(overrides::Overrides* overrides = nullptr) {
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
                        &store_, overrides);
    ASSERT_NE(b_, nullptr);
    ASSERT_EQ(b_->ListenerPorts("otlp").size(), 1u);
  }

  // A: receives, batches and forwards to B; serves health_check and zpages.
  void StartA() {
    const int b_port = b_->ListenerPorts("otlp").at(0);
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

  // One request of `spans` spans of trace `trace`.
  static std::string Request(uint32_t trace, int spans) {
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
    auto* ss = req.add_resource_spans()->add_scope_spans();
    for (int i = 0; i < spans; ++i) {
      auto* s = ss->add_spans();
      const otlp::TraceId id = testing::TraceIdOf(trace);
      s->set_trace_id(std::string(otlp::IdBytes(id)));
      s->set_span_id(std::string(7, 'x') + static_cast<char>(i + 1));
      s->set_name("op");
    }
    return req.SerializeAsString();
  }

  // Sends it over OTLP/gRPC to `port` (A's receiver by default), with `auth`'s credentials.
  absl::Status SendToA(uint32_t trace, int spans, int port = 0,
                       std::shared_ptr<const auth::ClientAuthenticator> auth = nullptr) {
    OtlpGrpcSenderOptions o;
    o.endpoint =
        absl::StrCat("127.0.0.1:", port != 0 ? port : a_->ListenerPorts("otlp").at(0));
    o.tls.insecure = true;
    o.auth = std::move(auth);
    auto client = OtlpGrpcSender::Create(std::move(o));
    if (!client.ok()) return client.status();
    return (*client)->Send(Request(trace, spans), 10'000'000'000).status;
  }

  std::string Url(const std::string& extension, const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", a_->ListenerPorts(extension).at(0), path);
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

// Without pipelines in the file, Strand's own listeners run as the default pipeline
// otlp → strand: both protocols listen, and spans reach the store.
TEST_F(CollectorTest, DefaultPipelineFeedsTheStore) {
  auto config = std::make_shared<CollectorConfig>();
  auto settings = std::make_unique<OtlpReceiverSettings>();
  settings->grpc = true;
  settings->grpc_options.address = "127.0.0.1:0";
  settings->http = true;
  settings->http_options.address = "127.0.0.1:0";
  AddDefaultPipeline(*config, std::move(settings));
  ASSERT_EQ(config->pipelines.size(), 1u);
  auto c = StartCollector(config, &store_);
  ASSERT_NE(c, nullptr);
  const std::vector<int> ports = c->ListenerPorts("otlp");
  ASSERT_EQ(ports.size(), 2u);  // gRPC, then HTTP
  ASSERT_TRUE(SendToA(1, 3, ports[0]).ok());
  auto http = HttpCall("POST", absl::StrCat("http://127.0.0.1:", ports[1], "/v1/traces"),
                       Request(2, 4), {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(http.status, 200) << http.body;
  EXPECT_EQ(store_.SpansOf(1), 3u);
  EXPECT_EQ(store_.SpansOf(2), 4u);
  c->Shutdown();
}

// In a process that runs the store, a file's `otlp` receivers charge the tenant's
// ingestion rate limit like Strand's own listeners: past the burst, RESOURCE_EXHAUSTED.
TEST_F(CollectorTest, PipelineReceiversApplyTheIngestionRateLimit) {
  overrides::Limits limits;
  limits.ingestion_rate_limit_bytes = 1;
  limits.ingestion_burst_size_bytes = 100;
  overrides::Overrides overrides(limits);
  StartB(&overrides);
  const int port = b_->ListenerPorts("otlp").at(0);
  ASSERT_TRUE(SendToA(1, 1, port).ok());  // under the burst
  absl::Status refused = SendToA(2, 20, port);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find("rate limit"), std::string::npos) << refused;
  EXPECT_EQ(store_.SpansOf(1), 1u);
  EXPECT_EQ(store_.SpansOf(2), 0u);
  b_.reset();  // before `overrides`, which its receiver uses
}

TEST_F(CollectorTest, HealthCheckAnswersWhileRunning) {
  StartB();
  StartA();
  ASSERT_EQ(a_->ListenerPorts("health_check").size(), 1u);
  auto r = HttpCall("GET", Url("health_check", "/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Server available"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall("GET", Url("health_check", "/other")).status, 404);
}

TEST_F(CollectorTest, HealthCheckAndZpagesServeTls) {
  const std::string dir = ::testing::TempDir() + "/ext-tls-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto pair = http::MakeSelfSignedCertificate({"localhost"}, 1);
  ASSERT_TRUE(pair.ok()) << pair.status();
  std::ofstream(dir + "/tls.crt") << pair->cert_pem;
  std::ofstream(dir + "/tls.key") << pair->key_pem;
  a_ = StartCollector(absl::StrCat(R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  debug:
extensions:
  health_check:
    endpoint: 127.0.0.1:0
    tls: {cert_file: )", dir, "/tls.crt, key_file: ", dir, R"(/tls.key}
  zpages:
    endpoint: 127.0.0.1:0
    tls: {cert_file: )", dir, "/tls.crt, key_file: ", dir, R"(/tls.key, min_version: "1.3"}
service:
  extensions: [health_check, zpages]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)"),
                      nullptr);
  ASSERT_NE(a_, nullptr);
  strand::testing::TlsClient client;
  client.ca_file = dir + "/tls.crt";
  for (const auto& [ext, path] : {std::pair<std::string, std::string>{"health_check", "/"},
                                  {"zpages", "/debug/servicez"}}) {
    const int port = a_->ListenerPorts(ext).at(0);
    client.resolve = absl::StrCat("localhost:", port, ":127.0.0.1");
    auto r = HttpCall("GET", absl::StrCat("https://localhost:", port, path), "", {}, &client);
    EXPECT_EQ(r.status, 200) << ext << ": " << r.body;
    // Plaintext to a TLS port gets no HTTP answer.
    EXPECT_EQ(HttpCall("GET", absl::StrCat("http://127.0.0.1:", port, path)).status, 0) << ext;
  }
  // zpages asked for TLS 1.3 at least: a TLS 1.2 client is turned away.
  client.max_tls12 = true;
  const int zport = a_->ListenerPorts("zpages").at(0);
  client.resolve = absl::StrCat("localhost:", zport, ":127.0.0.1");
  EXPECT_EQ(HttpCall("GET", absl::StrCat("https://localhost:", zport, "/debug/servicez"), "", {},
                     &client)
                .status,
            0);
  a_->Shutdown();
  std::filesystem::remove_all(dir);
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
  EXPECT_TRUE(b_->ListenerPorts("otlp/none").empty());
  EXPECT_TRUE(b_->ListenerPorts("strand").empty());
}

// B's receiver requires credentials (Basic over gRPC, a bearer token over HTTP); A's
// exporters send them with the client side of the same extensions.
TEST_F(CollectorTest, ExportersSendCredentialsToAGuardedReceiver) {
  b_ = StartCollector(R"(
extensions:
  basicauth/in:
    htpasswd: {inline: "collector-a:pw"}
  bearertokenauth/in:
    token: t0k3n
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0, auth: {authenticator: basicauth/in}}
      http: {endpoint: 127.0.0.1:0, auth: {authenticator: bearertokenauth/in}}
exporters:
  strand:
service:
  extensions: [basicauth/in, bearertokenauth/in]
  pipelines:
    traces: {receivers: [otlp], exporters: [strand]}
)",
                      &store_);
  ASSERT_NE(b_, nullptr);
  const std::vector<int> b_ports = b_->ListenerPorts("otlp");
  ASSERT_EQ(b_ports.size(), 2u);
  a_ = StartCollector(absl::StrCat(R"(
extensions:
  basicauth/out:
    client_auth: {username: collector-a, password: pw}
  bearertokenauth/out:
    token: t0k3n
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0}
exporters:
  otlp/b:
    endpoint: 127.0.0.1:)",
                                   b_ports[0], R"(
    tls: {insecure: true}
    auth: {authenticator: basicauth/out}
  otlphttp/b:
    endpoint: http://127.0.0.1:)",
                                   b_ports[1], R"(
    auth: {authenticator: bearertokenauth/out}
service:
  extensions: [basicauth/out, bearertokenauth/out]
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp/b, otlphttp/b]}
)"),
                      nullptr);
  ASSERT_NE(a_, nullptr);
  ASSERT_TRUE(SendToA(1, 3).ok());
  // Both exporters delivered: 3 spans over gRPC and 3 over HTTP.
  ASSERT_TRUE(Eventually([&] { return store_.TotalSpans() == 6; })) << store_.TotalSpans();

  // Without credentials, or with wrong ones, B refuses.
  EXPECT_EQ(SendToA(2, 1, b_ports[0]).code(), absl::StatusCode::kUnauthenticated);
  auto wrong = std::make_shared<auth::BasicClientAuthenticator>("collector-a", "nope");
  EXPECT_EQ(SendToA(2, 1, b_ports[0], wrong).code(), absl::StatusCode::kUnauthenticated);
  OtlpHttpSenderOptions h;
  h.url = absl::StrCat("http://127.0.0.1:", b_ports[1], "/v1/traces");
  auto http = OtlpHttpSender::Create(h);
  ASSERT_TRUE(http.ok());
  SendResult r = (*http)->Send(Request(2, 1), 10'000'000'000);
  EXPECT_NE(r.status.message().find("HTTP 401"), std::string::npos) << r.status;
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(store_.SpansOf(2), 0u);
}

}  // namespace
}  // namespace strand::pipeline
