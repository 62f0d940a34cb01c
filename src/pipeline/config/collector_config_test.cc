#include "pipeline/config/collector_config.h"

#include <gtest/gtest.h>

#include <cstring>

#include "consumer/batch_policy.h"
#include "pipeline/builtin_components.h"
#include "pipeline/config/env_expand.h"
#include "pipeline/processor/memory_limiter/memory_limiter.h"
#include "pipeline/queue/exporter_settings.h"
#include "pipeline/testutil/capture_consumer_testutil.h"

namespace strand::pipeline {
namespace {

// The configuration of COMPAT.md section 4, as a Kubernetes collector runs it.
constexpr char kRealConfig[] = R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:MY_POD_IP}:4317
      http:
        endpoint: ${env:MY_POD_IP}:4318
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 75
    spike_limit_percentage: 15
  batch:
    send_batch_size: 10000
    timeout: 10s
exporters:
  otlp:
    endpoint: tempo-distributor.tempo.svc:4317
    tls:
      insecure: true
extensions:
  health_check:
  memory_ballast:
    size_mib: 683
service:
  extensions: [health_check, memory_ballast]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp]
)";

// Components most tests below share; each test adds its `service` section.
constexpr char kComponents[] = R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
  otlp/second:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  batch:
  batch/small:
    send_batch_size: 10
  memory_limiter:
    check_interval: 1s
    limit_mib: 100
exporters:
  debug:
  otlp/backend:
    endpoint: backend:4317
)";

// A receiver, an exporter and a pipeline joining them, to complete a configuration.
constexpr char kMinimalPipeline[] = R"(
receivers:
  otlp:
    protocols:
      grpc:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)";

class CollectorConfigTest : public ::testing::Test {
 protected:
  static absl::StatusOr<CollectorConfig> Parse(const std::string& yaml) {
    return ParseCollectorConfig(YAML::Load(yaml), BuiltinComponents());
  }
  // kComponents followed by `extra` (a service section, or more).
  static absl::StatusOr<CollectorConfig> ParseWith(const std::string& extra) {
    return Parse(std::string(kComponents) + extra);
  }
  // Expects an InvalidArgument error whose message holds every one of `parts`.
  static void ExpectError(const absl::StatusOr<CollectorConfig>& r,
                          std::initializer_list<std::string_view> parts) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    for (std::string_view p : parts) {
      EXPECT_NE(std::string(r.status().message()).find(std::string(p)), std::string::npos)
          << "missing \"" << p << "\" in: " << r.status();
    }
  }
};

TEST_F(CollectorConfigTest, ComponentIdsAreTypeSlashName) {
  auto id = ComponentId::Parse("otlp/backend");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->type, "otlp");
  EXPECT_EQ(id->name, "backend");
  EXPECT_EQ(id->ToString(), "otlp/backend");
  auto plain = ComponentId::Parse("batch");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->name, "");
  EXPECT_EQ(plain->ToString(), "batch");
  EXPECT_FALSE(ComponentId::Parse("otlp/").ok());
  EXPECT_FALSE(ComponentId::Parse("/x").ok());
  EXPECT_FALSE(ComponentId::Parse("ot-lp").ok());
  EXPECT_FALSE(ComponentId::Parse("otlp/a/b").ok());
  EXPECT_FALSE(ComponentId::Parse("otlp/a b").ok());
}

TEST_F(CollectorConfigTest, SeveralNamedPipelines) {
  auto c = ParseWith(R"(
service:
  pipelines:
    traces/a:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/backend]
    traces/b:
      receivers: [otlp, otlp/second]
      processors: [batch/small]
      exporters: [debug, otlp/backend]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->pipelines.size(), 2u);
  EXPECT_EQ(c->pipelines[0].id, "traces/a");
  EXPECT_EQ(c->pipelines[1].id, "traces/b");
  EXPECT_EQ(c->pipelines[1].receivers.size(), 2u);
  EXPECT_EQ(c->pipelines[1].receivers[1].ToString(), "otlp/second");
  EXPECT_EQ(c->pipelines[0].processors[0].ToString(), "memory_limiter");
  EXPECT_EQ(c->pipelines[1].exporters[1].ToString(), "otlp/backend");
  EXPECT_EQ(c->receivers.size(), 2u);
  EXPECT_EQ(c->processors.size(), 3u);
  EXPECT_EQ(c->exporters.size(), 2u);
}

TEST_F(CollectorConfigTest, UndefinedReferencesNameThePipelineAndTheComponent) {
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces/a:
      receivers: [otlp/missing]
      exporters: [debug]
)"),
              {"service::pipelines::traces/a", "receiver \"otlp/missing\"", "not configured"});
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces/b:
      receivers: [otlp]
      processors: [batch/nope]
      exporters: [debug]
)"),
              {"traces/b", "processor \"batch/nope\""});
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp/other]
)"),
              {"service::pipelines::traces:", "exporter \"otlp/other\""});
}

TEST_F(CollectorConfigTest, PipelineNeedsReceiversAndExporters) {
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces/x:
      exporters: [debug]
)"),
              {"traces/x", "at least one receiver"});
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces/y:
      receivers: [otlp]
      processors: [batch]
)"),
              {"traces/y", "at least one exporter"});
  ExpectError(ParseWith("service:\n  pipelines: {}\n"), {"at least one pipeline"});
  ExpectError(Parse(kComponents), {"service"});
}

TEST_F(CollectorConfigTest, ProcessorListedTwiceIsAnError) {
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces/z:
      receivers: [otlp]
      processors: [batch, memory_limiter, batch]
      exporters: [debug]
)"),
              {"traces/z", "processor \"batch\"", "listed twice"});
}

TEST_F(CollectorConfigTest, UnknownAndUnsupportedTypes) {
  ExpectError(Parse("receivers:\n  bogus:\n"), {"receivers::bogus", "unknown receiver type"});
  ExpectError(Parse("processors:\n  frobnicate/x:\n"),
              {"processors::frobnicate/x", "unknown processor type \"frobnicate\""});
  ExpectError(Parse("receivers:\n  jaeger:\n    protocols: {}\n"),
              {"receivers::jaeger", "not supported", "receiver type \"jaeger\"", "otlp"});
  ExpectError(Parse("exporters:\n  kafka/out:\n"), {"exporters::kafka/out", "not supported"});
}

TEST_F(CollectorConfigTest, OtlpReceiverTlsAndKeepaliveInTheCollectorsNames) {
  const std::string service = R"(
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)";
  auto ok = Parse(R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
        tls:
          cert_file: /certs/tls.crt
          key_file: /certs/tls.key
          client_ca_file: /certs/ca.crt
          min_version: "1.2"
          max_version: "1.3"
          reload_interval: 30s
          include_system_ca_certs_pool: false
        keepalive:
          server_parameters:
            max_connection_idle: 11s
            max_connection_age: 12s
            max_connection_age_grace: 5s
            time: 30s
            timeout: 5s
          enforcement_policy:
            min_time: 10s
      http:
        endpoint: 127.0.0.1:0
        tls:
          cert_file: /certs/tls.crt
          key_file: /certs/tls.key
)" + service);
  EXPECT_TRUE(ok.ok()) << ok.status();
  auto receiver = [&](const std::string& tls) {
    return Parse("receivers:\n  otlp:\n    protocols:\n      grpc:\n        tls:\n" + tls +
                 service);
  };
  ExpectError(receiver("          cert_pem: abc\n"),
              {"receivers::otlp::protocols::grpc::tls::cert_pem", "not supported"});
  ExpectError(receiver("          cert_file: /a\n          key_file: /b\n          ca_file: /c\n"),
              {"tls::ca_file", "client_ca_file"});
  ExpectError(receiver("          cert_file: /a\n"), {"cert_file and key_file go together"});
  ExpectError(receiver("          cert_file: /a\n          key_file: /b\n          ciphers: x\n"),
              {"tls::ciphers", "unknown key"});
  // `auth` is supported now (AuthenticatorsMustBeRunningExtensions); naming an extension
  // that is not configured is the error.
  ExpectError(Parse("receivers:\n  otlp:\n    protocols:\n      http:\n        auth:\n"
                    "          authenticator: basicauth\n" +
                    service),
              {"protocols::http::auth", "\"basicauth\", which is not configured under extensions"});
}

// Receivers and exporters name authenticators with `auth: {authenticator: <id>}`; like the
// collector, Strand finds them among the extensions service::extensions runs.
constexpr char kAuthComponents[] = R"(
extensions:
  basicauth/server:
    htpasswd:
      inline: |
        collector:$2y$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK
  basicauth/client:
    client_auth: {username: collector, password: s3cret}
  bearertokenauth:
    token: t0k3n
    tenant: acme
receivers:
  otlp:
    protocols:
      grpc: {auth: {authenticator: basicauth/server}}
      http: {auth: {authenticator: bearertokenauth}}
exporters:
  otlp:
    endpoint: backend:4317
    auth: {authenticator: basicauth/client}
  otlphttp:
    endpoint: https://backend:4318
    auth: {authenticator: bearertokenauth}
)";

TEST_F(CollectorConfigTest, AuthenticatorsMustBeRunningExtensions) {
  const std::string pipeline =
      "  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlp, otlphttp]\n";
  auto ok = Parse(std::string(kAuthComponents) +
                  "service:\n  extensions: [basicauth/server, basicauth/client, "
                  "bearertokenauth]\n" +
                  pipeline);
  ASSERT_TRUE(ok.ok()) << ok.status();
  const auto& otlp = ok->receivers.at(ComponentId{"otlp", ""}).settings->authenticators;
  ASSERT_EQ(otlp.size(), 2u);
  EXPECT_EQ(otlp[0].key, "receivers::otlp::protocols::grpc::auth::authenticator");
  EXPECT_EQ(otlp[0].id.ToString(), "basicauth/server");

  ExpectError(Parse(std::string(kAuthComponents) +
                    "service:\n  extensions: [basicauth/server, bearertokenauth]\n" + pipeline),
              {"exporters::otlp::auth::authenticator", "\"basicauth/client\"",
               "must be listed in service::extensions"});
  // A server authenticator where a client one is needed, and the other way round.
  std::string swapped = std::string(kAuthComponents);
  swapped.replace(swapped.find("authenticator: basicauth/server"),
                  strlen("authenticator: basicauth/server"), "authenticator: basicauth/client");
  ExpectError(Parse(swapped +
                    "service:\n  extensions: [basicauth/server, basicauth/client, "
                    "bearertokenauth]\n" +
                    pipeline),
              {"receivers::otlp::protocols::grpc::auth::authenticator",
               "\"basicauth/client\" is not a server authenticator"});
  ExpectError(Parse("exporters:\n  otlp:\n    endpoint: b:4317\n    auth: {authenticator: x}\n"
                    "receivers:\n  otlp:\n    protocols: {grpc: {}}\nextensions:\n"
                    "  basicauth/x:\n    htpasswd: {inline: \"a:b\"}\nservice:\n"
                    "  extensions: [basicauth/x]\n  pipelines:\n    traces:\n"
                    "      receivers: [otlp]\n      exporters: [otlp]\n"),
              {"exporters::otlp::auth::authenticator", "references extension \"x\"",
               "not configured under extensions"});
  ExpectError(Parse(R"(
receivers:
  otlp:
    protocols:
      grpc: {auth: {}}
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)"),
              {"protocols::grpc::auth", "authenticator must name an extension"});
  // A component no pipeline uses is not built, so its authenticator is not looked for.
  EXPECT_TRUE(Parse(R"(
extensions:
  bearertokenauth: {token: t}
receivers:
  otlp:
    protocols: {grpc: {}}
  otlp/unused:
    protocols:
      grpc: {auth: {authenticator: bearertokenauth}}
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)")
                  .ok());
}

TEST_F(CollectorConfigTest, AuthExtensionSettings) {
  auto extension = [&](const std::string& yaml) {
    return Parse(std::string(kMinimalPipeline) + "extensions:\n" + yaml);
  };
  EXPECT_TRUE(extension("  bearertokenauth:\n    tokens: [a, b]\n    scheme: Token\n"
                        "    header: X-Api-Key\n")
                  .ok());
  EXPECT_TRUE(extension("  bearertokenauth:\n    filename: /run/secrets/token\n").ok());
  ExpectError(extension("  bearertokenauth: {}\n"),
              {"extensions::bearertokenauth", "no bearer token provided"});
  ExpectError(extension("  bearertokenauth: {token: a, tokens: [b]}\n"), {"not both"});
  ExpectError(extension("  bearertokenauth: {token: a, tenant: \"a/b\"}\n"),
              {"tenant", "unsupported character"});
  ExpectError(extension("  basicauth:\n    htpasswd: {inline: \"a:b\"}\n"
                        "    client_auth: {username: a, password: b}\n"),
              {"extensions::basicauth", "only one of htpasswd or client_auth"});
  ExpectError(extension("  basicauth: {}\n"), {"no credential source provided"});
  ExpectError(
      extension("  basicauth:\n    htpasswd: {inline: \"ann:$apr1$abc$V7uD6Y3Ey1b.T8QFySWI51\"}\n"),
      {"extensions::basicauth", "htpasswd::inline line 1", "not supported: $apr1$"});
  ExpectError(extension("  basicauth:\n    htpasswd: {file: /x, mode: 1}\n"),
              {"htpasswd::mode", "unknown key"});
  ExpectError(extension("  basicauth:\n    client_auth: {username: \"a:b\", password: c}\n"),
              {"username must not contain ':'"});
  ExpectError(extension("  basicauth:\n    client_auth: {username_file: /u}\n"),
              {"client_auth::username_file", "not supported"});
  ExpectError(extension("  basicauth:\n    client_auth: {username: a, password: b}\n"
                        "    tenants: {a: acme}\n"),
              {"tenants", "needs htpasswd"});
  EXPECT_TRUE(
      extension("  basicauth:\n    htpasswd: {inline: \"a:b\"}\n    tenants: {a: acme}\n").ok());
}

TEST_F(CollectorConfigTest, ExporterTlsVersions) {
  auto with = [&](const std::string& exporter) {
    const std::string id = exporter.substr(2, exporter.find(':') - 2);
    return Parse("exporters:\n" + exporter +
                 "receivers:\n  otlp:\n    protocols:\n      grpc:\nservice:\n  pipelines:\n"
                 "    traces:\n      receivers: [otlp]\n      exporters: [" + id + "]\n");
  };
  EXPECT_TRUE(with("  otlphttp/x:\n    endpoint: https://b:4318\n    tls: {min_version: \"1.3\"}\n")
                  .ok());
  EXPECT_TRUE(with("  otlp/x:\n    endpoint: b:4317\n    tls: {min_version: \"1.2\", max_version: \"1.3\"}\n")
                  .ok());
  ExpectError(with("  otlp/x:\n    endpoint: b:4317\n    tls: {min_version: \"1.3\"}\n"),
              {"not supported for gRPC"});
  ExpectError(with("  otlphttp/x:\n    endpoint: https://b:4318\n    tls: {min_version: \"1.0\"}\n"),
              {"tls::min_version", "1.2"});
}

TEST_F(CollectorConfigTest, UnknownKeysAreErrorsAtEveryLevel) {
  // In a component, and nested inside one.
  ExpectError(Parse("processors:\n  batch:\n    send_batch_sise: 5\n"),
              {"processors::batch::send_batch_sise", "unknown key"});
  ExpectError(Parse("exporters:\n  otlp:\n    endpoint: x:1\n    retry_on_failure:\n"
                    "      max_intervall: 5s\n"),
              {"exporters::otlp::retry_on_failure::max_intervall", "unknown key"});
  // In a pipeline.
  ExpectError(ParseWith(R"(
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
      connectors: [x]
)"),
              {"service::pipelines::traces::connectors", "unknown key"});
  // In service.
  ExpectError(ParseWith(R"(
service:
  pipelinez: {}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)"),
              {"service::pipelinez", "unknown key"});
  // In telemetry, and in its sub-sections.
  const std::string pipelines = R"(
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)";
  ExpectError(ParseWith("service:\n  telemetry:\n    bogus: 1\n" + pipelines),
              {"service::telemetry::bogus", "unknown key"});
  ExpectError(ParseWith("service:\n  telemetry:\n    metrics:\n      levle: none\n" + pipelines),
              {"service::telemetry::metrics::levle", "unknown key"});
  ExpectError(ParseWith("service:\n  telemetry:\n    logs:\n      colour: red\n" + pipelines),
              {"service::telemetry::logs::colour", "unknown key"});
}

TEST_F(CollectorConfigTest, TelemetrySettings) {
  auto c = ParseWith(R"(
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: DEBUG
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->telemetry.metrics_address, "");
  EXPECT_EQ(c->telemetry.log_level, "debug");
}

TEST_F(CollectorConfigTest, MetricsAndLogsPipelinesAreNotSupported) {
  for (const char* signal : {"metrics", "logs"}) {
    ExpectError(ParseWith(absl::StrCat("service:\n  pipelines:\n    ", signal,
                                       ":\n      receivers: [otlp]\n      exporters: [debug]\n")),
                {absl::StrCat("service::pipelines::", signal), "not supported"});
  }
  ExpectError(ParseWith("service:\n  pipelines:\n    spans:\n      receivers: [otlp]\n"
                        "      exporters: [debug]\n"),
              {"unknown signal \"spans\""});
}

TEST_F(CollectorConfigTest, ConnectorsAreNotSupported) {
  ExpectError(Parse("connectors:\n  forward:\n"), {"connectors", "not supported"});
  // An empty section is harmless.
  EXPECT_TRUE(ParseWith(R"(
connectors: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)")
                  .ok());
}

TEST_F(CollectorConfigTest, ServiceExtensionsMustBeConfigured) {
  ExpectError(ParseWith(R"(
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)"),
              {"service::extensions", "health_check"});
}

TEST_F(CollectorConfigTest, RealConfigurationParses) {
  YAML::Node root = YAML::Load(kRealConfig);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "MY_POD_IP") return "10.1.2.3";
    return std::nullopt;
  };
  ASSERT_TRUE(ExpandEnvRefsInTree(root, env).ok());
  auto c = ParseCollectorConfig(root, BuiltinComponents());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->pipelines.size(), 1u);
  EXPECT_EQ(c->pipelines[0].id, "traces");
  EXPECT_EQ(c->pipelines[0].processors.size(), 2u);
  EXPECT_EQ(c->service_extensions.size(), 2u);

  const auto& ml = static_cast<const MemoryLimiterSettings&>(
      *c->processors.at(ComponentId{"memory_limiter", ""}).settings);
  EXPECT_EQ(ml.check_interval_nanos, 1'000'000'000);
  EXPECT_EQ(ml.limit_percentage, 75u);
  EXPECT_EQ(ml.spike_limit_percentage, 15u);
  const MemoryLimits limits = ComputeMemoryLimits(ml, uint64_t{1000} << 20);
  EXPECT_EQ(limits.hard, uint64_t{750} << 20);
  EXPECT_EQ(limits.soft, uint64_t{600} << 20);
}

// The batch policy a `batch` processor built from `yaml` attaches to requests.
BatchPolicy PolicyOf(const std::string& yaml) {
  const ProcessorFactory& factory = static_cast<const ProcessorFactory&>(
      *BuiltinComponents().Find(ComponentKind::kProcessor, "batch"));
  auto settings = testutil::ParseSettings(factory, yaml);
  EXPECT_TRUE(settings.ok()) << settings.status();
  if (!settings.ok()) return {};
  struct PolicyCapture : TracesConsumer {
    void Consume(RequestContext&& ctx, otlp::SpanBatch&&, ConsumeDone done) override {
      policy = ctx.batching;
      done(absl::OkStatus());
    }
    std::shared_ptr<const BatchPolicy> policy;
  } capture;
  BuildContext build;
  build.id = ComponentId{"batch", ""};
  auto processor = factory.Create(**settings, build, capture);
  EXPECT_TRUE(processor.ok());
  (*processor)->Consume(RequestContext{}, otlp::SpanBatch(), [](absl::Status) {});
  return capture.policy ? *capture.policy : BatchPolicy{};
}

TEST_F(CollectorConfigTest, BatchDefaultsMatchTheCollector) {
  const BatchPolicy p = PolicyOf("");
  EXPECT_EQ(p.send_batch_size, 8192u);
  EXPECT_EQ(p.send_batch_max_size, 0u);
  EXPECT_EQ(p.timeout_nanos, 200'000'000);
  EXPECT_TRUE(p.metadata_keys.empty());
  const BatchPolicy q =
      PolicyOf("send_batch_size: 10000\ntimeout: 10s\nmetadata_keys: [X-Tenant]\n");
  EXPECT_EQ(q.send_batch_size, 10000u);
  EXPECT_EQ(q.timeout_nanos, 10'000'000'000);
  ASSERT_EQ(q.metadata_keys.size(), 1u);
  EXPECT_EQ(q.metadata_keys[0], "x-tenant");
  ExpectError(Parse("processors:\n  batch:\n    send_batch_size: 100\n"
                    "    send_batch_max_size: 10\n"),
              {"processors::batch", "send_batch_max_size"});
}

TEST_F(CollectorConfigTest, MemoryLimiterSettingsAndDefaults) {
  auto c = Parse(std::string("processors:\n  memory_limiter:\n    check_interval: 2s\n"
                             "    limit_mib: 1000\n") +
                 kMinimalPipeline);
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& s = static_cast<const MemoryLimiterSettings&>(
      *c->processors.at(ComponentId{"memory_limiter", ""}).settings);
  EXPECT_EQ(s.check_interval_nanos, 2'000'000'000);
  const MemoryLimits l = ComputeMemoryLimits(s, 0);
  EXPECT_EQ(l.hard, uint64_t{1000} << 20);
  EXPECT_EQ(l.soft, uint64_t{800} << 20);  // spike: 20% of the limit
}

TEST_F(CollectorConfigTest, OtlpExporterSenderDefaultsMatchTheCollector) {
  ConfigMap empty(YAML::Node(), "exporters::otlp");
  SenderSettings s;
  ParseSenderSettings(empty, s);
  ASSERT_TRUE(empty.Finish().ok());
  EXPECT_EQ(s.timeout_nanos, 5'000'000'000);
  EXPECT_TRUE(s.queue.enabled);
  EXPECT_EQ(s.queue.num_consumers, 10);
  EXPECT_EQ(s.queue.queue_size, 1000u);
  EXPECT_FALSE(s.queue.storage.has_value());
  EXPECT_TRUE(s.retry.enabled);
  EXPECT_EQ(s.retry.initial_interval_nanos, 5'000'000'000);
  EXPECT_EQ(s.retry.max_interval_nanos, 30'000'000'000);
  EXPECT_EQ(s.retry.max_elapsed_time_nanos, 300'000'000'000);

  auto c = Parse(R"(
exporters:
  otlp/configured:
    endpoint: backend:4317
    compression: none
    headers: {x-scope-orgid: t1}
    timeout: 2s
    sending_queue:
      num_consumers: 2
      queue_size: 50
      storage: file_storage/q
    retry_on_failure:
      initial_interval: 1s
      max_elapsed_time: 0
  otlphttp:
    endpoint: http://backend:4318
receivers:
  otlp:
    protocols:
      grpc:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp/configured, otlphttp]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectError(Parse("exporters:\n  otlp:\n    tls:\n      insecure: true\n"),
              {"exporters::otlp", "endpoint must be set"});
  ExpectError(Parse("exporters:\n  otlphttp:\n    endpoint: backend:4318\n"),
              {"exporters::otlphttp", "http://"});
  ExpectError(Parse("exporters:\n  otlp:\n    endpoint: x:1\n    sending_queue:\n"
                    "      blocking: true\n"),
              {"sending_queue::blocking", "not supported"});
}

}  // namespace
}  // namespace strand::pipeline
