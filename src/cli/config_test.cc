#include "cli/config.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"

namespace strand::cli {
namespace {

TEST(ConfigTest, EmptyFileKeepsDefaults) {
  auto c = ParseConfigYaml("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->otlp_grpc_listen, "localhost:4317");  // like the Collector: local unless told
  EXPECT_EQ(c->otlp_http_listen, "localhost:4318");
  EXPECT_EQ(c->api_listen, "localhost:3200");
  EXPECT_TRUE(c->wal_sync);
}

TEST(ConfigTest, TlsOnEveryListener) {
  const std::string dir = ::testing::TempDir();
  for (const char* f : {"/t.crt", "/t.key", "/ca.crt"}) std::ofstream(dir + f) << "x";
  auto c = ParseConfigYaml(absl::StrCat(R"(
strand:
  api: {listen: ":3200", tls: {cert_file: ")", dir, R"(/t.crt", key_file: ")", dir, R"(/t.key"}}
  otlp:
    grpc:
      tls: {cert_file: ")", dir, R"(/t.crt", key_file: ")", dir, R"(/t.key", client_ca_file: ")", dir, R"(/ca.crt"}
    http:
      tls: {cert_file: ")", dir, R"(/t.crt", key_file: ")", dir, R"(/t.key", min_version: "1.3", reload_interval: 5s}
)"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->api_tls.cert_file, dir + "/t.crt");
  EXPECT_EQ(c->otlp_grpc_tls.client_ca_file, dir + "/ca.crt");
  EXPECT_EQ(c->otlp_http_tls.min_version, "1.3");
  EXPECT_EQ(c->otlp_http_tls.reload_interval.count(), 5000);
  EXPECT_FALSE(c->otlp_http_tls.client_ca_file.size());
  auto missing = ParseConfigYaml("strand: {api: {tls: {cert_file: /nonexistent.crt}}}");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("strand.api.tls"), std::string::npos);
  EXPECT_FALSE(ParseConfigYaml(absl::StrCat("strand: {api: {tls: {cert_file: ", dir,
                                            "/t.crt, key_file: ", dir,
                                            "/t.key, min_version: '1.1'}}}"))
                   .ok());
  EXPECT_FALSE(ParseConfigYaml("strand: {api: {tls: {certfile: x}}}").ok());
}

TEST(ConfigTest, ConnectionLimits) {
  auto c = ParseConfigYaml(R"(
strand:
  connections:
    max_per_listener: 100
    max_header_bytes: 8192
    idle_timeout: 30s
    read_header_timeout: 2s
    body_read_timeout: 500ms
    grpc_keepalive_time: 30s
    grpc_keepalive_timeout: 5s
    grpc_max_connection_idle: 1m
    grpc_max_connection_age: 1h
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->connections.max_connections, 100u);
  EXPECT_EQ(c->connections.max_header_bytes, 8192u);
  EXPECT_EQ(c->connections.idle_timeout.count(), 30'000);
  EXPECT_EQ(c->connections.read_header_timeout.count(), 2'000);
  EXPECT_EQ(c->connections.body_read_timeout.count(), 500);
  EXPECT_EQ(c->grpc_keepalive_time_nanos, 30'000'000'000);
  EXPECT_EQ(c->grpc_keepalive_timeout_nanos, 5'000'000'000);
  EXPECT_EQ(c->grpc_max_connection_idle_nanos, 60'000'000'000);
  EXPECT_EQ(c->grpc_max_connection_age_nanos, 3600'000'000'000);
  EXPECT_FALSE(ParseConfigYaml("strand: {connections: {idle_timeout: 0}}").ok());
  EXPECT_FALSE(ParseConfigYaml("strand: {connections: {max_header_bytes: 10}}").ok());
  EXPECT_FALSE(ParseConfigYaml("strand: {connections: {nope: 1}}").ok());
}

TEST(ConfigTest, ReadsEveryStrandKey) {
  auto c = ParseConfigYaml(R"(
strand:
  data_dir: /var/lib/strand
  log_level: debug
  multitenancy_enabled: true
  api: {listen: "127.0.0.1:3300"}
  otlp:
    grpc: {listen: "127.0.0.1:5317"}
    http: {listen: "127.0.0.1:5318"}
    max_request_bytes: 1024
  wal: {sync: false, segment_bytes: 4096, max_queued_bytes: 8192}
  http_threads: 4
  store: {max_live_bytes: 1000}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/var/lib/strand");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_TRUE(c->multitenancy_enabled);
  EXPECT_EQ(c->api_listen, "127.0.0.1:3300");
  EXPECT_EQ(c->otlp_grpc_listen, "127.0.0.1:5317");
  EXPECT_EQ(c->otlp_http_listen, "127.0.0.1:5318");
  EXPECT_EQ(c->max_request_bytes, 1024u);
  EXPECT_FALSE(c->wal_sync);
  EXPECT_EQ(c->wal_segment_bytes, 4096u);
  EXPECT_EQ(c->wal_max_queued_bytes, 8192u);
  EXPECT_EQ(c->http_threads, 4);
  EXPECT_EQ(c->max_live_bytes, 1000u);
}

TEST(ConfigTest, StoreCuttingCompactionAndRetention) {
  auto c = ParseConfigYaml(R"(
strand:
  store:
    trace_idle_period: 5s
    max_trace_live: 2m
    max_head_bytes: 1000000
    cut_interval: 250ms
    retention: 7d
    bloom_filters_in_memory: true
    compaction: {enabled: false, window: 30m, min_inputs: 2, max_inputs: 3,
                 max_block_spans: 500, interval: 1m}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const store::StoreOptions& o = c->store;
  EXPECT_EQ(o.trace_idle_nanos, 5'000'000'000);
  EXPECT_EQ(o.max_trace_live_nanos, 120'000'000'000);
  EXPECT_EQ(o.max_head_bytes, 1'000'000u);
  EXPECT_EQ(o.cut_interval_nanos, 250'000'000);
  EXPECT_EQ(o.retention_nanos, 7ll * 86400 * 1'000'000'000);
  EXPECT_TRUE(o.bloom_filters_in_memory);
  EXPECT_FALSE(o.compaction_enabled);
  EXPECT_EQ(o.compaction_window_nanos, 1800ll * 1'000'000'000);
  EXPECT_EQ(o.compaction_min_inputs, 2);
  EXPECT_EQ(o.compaction_max_inputs, 3);
  EXPECT_EQ(o.compaction_max_block_spans, 500u);
  EXPECT_EQ(o.maintenance_interval_nanos, 60'000'000'000);
}

TEST(ConfigTest, IngestionTimeRangeSlack) {
  auto defaults = ParseConfigYaml("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->store.ingestion_time_range_slack_nanos, 3600ll * 1'000'000'000);
  auto c = ParseConfigYaml("strand:\n  store:\n    ingestion_time_range_slack: 2m\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store.ingestion_time_range_slack_nanos, 120'000'000'000);
  auto off = ParseConfigYaml("strand:\n  store:\n    ingestion_time_range_slack: 0\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->store.ingestion_time_range_slack_nanos, 0);  // trust client clocks
  auto bad = ParseConfigYaml("strand:\n  store:\n    ingestion_time_range_slack: -1m\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("strand.store.ingestion_time_range_slack"),
            std::string::npos);
}

TEST(ConfigTest, MemoryLimit) {
  auto defaults = ParseConfigYaml("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->memory_limit, 0u);  // a share of the cgroup's or machine's memory
  auto c = ParseConfigYaml("strand:\n  memory_limit: 268435456\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->memory_limit, 268435456u);
  auto bad = ParseConfigYaml("strand:\n  memory_limit: lots\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("strand.memory_limit"), std::string::npos);
}

TEST(ConfigTest, DurationsAreValidated) {
  // The syntax itself (1h30m, 0, 1.5d; not "", 10, ten seconds, -5s, 5x, d, -1d, each
  // refused naming the key): StrandDurationSyntax.
  auto c = ParseConfigYaml("strand:\n  store:\n    trace_idle_period: soon\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strand.store.trace_idle_period"), std::string::npos);
  auto m = ParseConfigYaml("strand:\n  store:\n    compaction: {min_inputs: 5, max_inputs: 3}\n");
  EXPECT_FALSE(m.ok());
}

// The syntax of strand.* durations (common/duration.h with days and a sign).
TEST(ConfigTest, StrandDurationSyntax) {
  auto retention = [](const std::string& text) -> absl::StatusOr<int64_t> {
    auto c = ParseConfigYaml(absl::StrCat("strand:\n  store:\n    retention: '", text, "'\n"));
    if (!c.ok()) return c.status();
    return c->store.retention_nanos;
  };
  constexpr int64_t kSecond = 1'000'000'000;
  const std::pair<const char*, int64_t> accepted[] = {
      {"0", 0},
      {"10s", 10 * kSecond},
      {"1h30m", 5400 * kSecond},
      {"250ms", 250'000'000},
      {"3us", 3'000},
      {"7ns", 7},
      {".5s", kSecond / 2},
      {"5.s", 5 * kSecond},
      {"+5s", 5 * kSecond},
      {"-0s", 0},
      {"-0", 0},
      {"14d", 14 * 86400 * kSecond},
      {"1.5d", 129600 * kSecond},
      {"+2d", 2 * 86400 * kSecond},
      {"-0d", 0},
      {"3000000h", std::numeric_limits<int64_t>::max()},  // past ~292 years: the largest
  };
  for (const auto& [text, nanos] : accepted) {
    auto d = retention(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status();
    EXPECT_EQ(*d, nanos) << text;
  }
  for (const char* text : {"", "10", "00", "d", "-1d", "1d12h", "12h1d", "-5s", "-", "5x", "5S",
                           "5 s", "1e3s", "1..5s", ".s", "inf", "+inf", "5\xC2\xB5s",
                           "ten seconds",
                           // Refused since the one parser (absl::SimpleAtod read the number
                           // of days before it):
                           "1e3d", "5 d"}) {
    auto d = retention(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_NE(d.status().message().find("strand.store.retention"), std::string::npos)
        << d.status();
    EXPECT_NE(d.status().message().find(absl::StrCat("invalid duration \"", text,
                                                     "\" (want a number and a unit: ns, us, ms, "
                                                     "s, m, h, d; e.g. 10s, 14d)")),
              std::string::npos)
        << d.status();
  }
}

TEST(ConfigTest, OverridesDefaultsAndPerTenantFile) {
  auto c = ParseConfigYaml(R"(
strand:
  overrides:
    defaults:
      ingestion:
        rate_limit_bytes: 15000000
        burst_size_bytes: 20000000
        max_traces_per_user: 10000
      global:
        max_bytes_per_trace: 5000000
      read:
        max_search_duration: 24h
      compaction:
        block_retention: 72h
    per_tenant_override_config: /etc/strand/overrides.yaml
    per_tenant_override_period: 30s
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const overrides::Limits& d = c->overrides.defaults;
  EXPECT_EQ(d.ingestion_rate_limit_bytes, 15'000'000u);
  EXPECT_EQ(d.ingestion_burst_size_bytes, 20'000'000u);
  EXPECT_EQ(d.max_traces_per_user, 10'000u);
  EXPECT_EQ(d.max_bytes_per_trace, 5'000'000u);
  EXPECT_EQ(d.max_search_duration_nanos, 24 * 3600ll * 1'000'000'000);
  EXPECT_EQ(d.block_retention_nanos, 72 * 3600ll * 1'000'000'000);
  EXPECT_EQ(c->overrides.per_tenant_override_config, "/etc/strand/overrides.yaml");
  EXPECT_EQ(c->overrides.per_tenant_override_period_nanos, 30'000'000'000);
  // Legacy flat names too; no limits by default.
  c = ParseConfigYaml("strand:\n  overrides:\n    defaults:\n      max_bytes_per_trace: 7\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->overrides.defaults.max_bytes_per_trace, 7u);
  EXPECT_EQ(c->overrides.defaults.ingestion_rate_limit_bytes, 0u);
  auto bad =
      ParseConfigYaml("strand:\n  overrides:\n    defaults:\n      ingestion:\n        rate: 5\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("strand.overrides.defaults.ingestion.rate (line 5): "
                                        "unknown key"),
            std::string::npos)
      << bad.status();
  bad = ParseConfigYaml("strand:\n  overrides:\n    per_tenant_override_period: 0s\n");
  EXPECT_FALSE(bad.ok());
  bad = ParseConfigYaml("strand:\n  overrides:\n    reload: 1s\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("reload"), std::string::npos);
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  auto c = ParseConfigYaml("strand:\n  wal:\n    synk: true\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strand.wal.synk"), std::string::npos);
}

// The strand: section is read by the collector's reader: each error names the key's path
// (with `.`) and line, and the reason.
TEST(ConfigTest, ErrorsNameThePathTheLineAndTheReason) {
  auto error = [](const std::string& yaml) {
    auto c = ParseConfigYaml(yaml);
    EXPECT_FALSE(c.ok()) << yaml;
    return std::string(c.status().message());
  };
  EXPECT_EQ(error("strand:\n  wal:\n    synk: true\n"), "strand.wal.synk (line 3): unknown key");
  EXPECT_EQ(error("strand:\n  wal:\n    sync: maybe\n"),
            "strand.wal.sync (line 3): must be true or false, not \"maybe\"");
  EXPECT_EQ(error("strand:\n  store: 5\n"), "strand.store (line 2): must be a map");
  EXPECT_EQ(error("strand:\n  store:\n    compaction: {window: 0}\n"),
            "strand.store.compaction.window (line 3): must be positive");
  EXPECT_EQ(error("strand:\n  store:\n    compaction: {min_inputs: 1}\n"),
            "strand.store.compaction.min_inputs (line 3): must be at least 2");
  EXPECT_EQ(error("strand:\n  store:\n    compaction: {min_inputs: 5, max_inputs: 3}\n"),
            "strand.store.compaction.max_inputs (line 3): must be at least min_inputs");
  EXPECT_EQ(error("strand:\n  connections:\n    idle_timeout: 0\n"),
            "strand.connections.idle_timeout (line 3): must be positive");
  EXPECT_EQ(error("strand:\n  http_threads: [1]\n"),
            "strand.http_threads (line 2): must be an integer");
  EXPECT_EQ(error("strand: {}\nstorage: {}\n"), "storage (line 2): unknown key");
  // A listener's tls: section is checked as a whole once its keys are read.
  EXPECT_EQ(error("strand: {api: {tls: {cert_file: /nonexistent.crt}}}"),
            "strand.api.tls: cert_file and key_file go together");
}

TEST(ConfigTest, WrongTypeIsAnError) {
  auto c = ParseConfigYaml("strand:\n  wal:\n    sync: maybe\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strand.wal.sync"), std::string::npos);
}

TEST(ConfigTest, CollectorSectionsWithoutServiceAreAnError) {
  auto c = ParseConfigYaml("receivers:\n  otlp: {protocols: {grpc: {}}}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("service"), std::string::npos) << c.status();
}

constexpr char kPipelines[] = R"(
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:POD_IP}:4317
exporters:
  strand: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [strand]
)";

TEST(ConfigTest, PipelinesAndStoreSettingsShareOneFile) {
  pipeline::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "POD_IP") return "10.1.2.3";
    return std::nullopt;
  };
  auto c = ParseConfigYaml(absl::StrCat("strand:\n  data_dir: /tmp/x\n", kPipelines), {}, &env);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_NE(c->collector, nullptr);
  EXPECT_EQ(c->data_dir, "/tmp/x");
  ASSERT_EQ(c->collector->pipelines.size(), 1u);
  EXPECT_TRUE(c->RunsStore());
}

TEST(ConfigTest, EnvironmentReferencesExpandInStrandSettingsToo) {
  pipeline::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "DATA") return "/var/strand";
    return std::nullopt;
  };
  auto c =
      ParseConfigYaml("strand:\n  data_dir: ${env:DATA}\n  log_level: ${LEVEL:-warn}\n", {}, &env);
  ASSERT_FALSE(c.ok());  // ${LEVEL:-warn} needs the env: scheme for a default
  c = ParseConfigYaml("strand:\n  data_dir: ${env:DATA}\n  log_level: ${env:LEVEL:-warn}\n", {},
                      &env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/var/strand");
  EXPECT_EQ(c->log_level, "warn");
}

TEST(ConfigTest, StrandOtlpListenersConflictWithPipelines) {
  auto c = ParseConfigYaml(
      absl::StrCat("strand:\n  otlp:\n    grpc:\n      listen: :4317\n", kPipelines));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strand.otlp"), std::string::npos);
}

// strand.api.auth and strand.otlp.*.auth name authenticator extensions of the same file.
constexpr char kAuthExtensions[] = R"(
extensions:
  basicauth/grafana:
    htpasswd: {inline: "grafana:pw"}
  bearertokenauth/apps:
    token: t0k3n
  basicauth/out:
    client_auth: {username: a, password: b}
service:
  extensions: [basicauth/grafana, bearertokenauth/apps, basicauth/out]
)";

TEST(ConfigTest, OwnListenersNameAuthenticatorExtensions) {
  auto c = ParseConfigYaml(absl::StrCat(R"(
strand:
  api: {auth: {authenticator: basicauth/grafana}}
  otlp:
    grpc: {auth: {authenticator: bearertokenauth/apps}}
    http: {listen: ":4318", auth: {authenticator: bearertokenauth/apps}}
)",
                                        kAuthExtensions));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->api_auth.has_value());
  EXPECT_EQ(c->api_auth->id.ToString(), "basicauth/grafana");
  EXPECT_EQ(c->otlp_grpc_auth->id.ToString(), "bearertokenauth/apps");
  EXPECT_EQ(c->otlp_http_auth->key, "strand.otlp.http.auth.authenticator");
  // Extensions without pipelines: Strand's own listeners and store still run.
  ASSERT_NE(c->collector, nullptr);
  EXPECT_FALSE(c->HasPipelines());
  EXPECT_TRUE(c->RunsStore());
  // With pipelines, strand.api.auth still applies.
  auto p =
      ParseConfigYaml(absl::StrCat("strand:\n  api: {auth: {authenticator: basicauth/grafana}}\n",
                                   kPipelines, "  extensions: [basicauth/grafana]\nextensions:\n",
                                   "  basicauth/grafana: {htpasswd: {inline: \"g:pw\"}}\n"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->HasPipelines());
}

TEST(ConfigTest, OwnAuthenticatorsMustBeRunningServerExtensions) {
  auto error = [](const std::string& yaml) {
    auto c = ParseConfigYaml(yaml);
    EXPECT_FALSE(c.ok()) << yaml;
    return std::string(c.status().message());
  };
  EXPECT_NE(error("strand: {api: {auth: {authenticator: basicauth}}}")
                .find("strand.api.auth.authenticator: references extension \"basicauth\", which "
                      "is not configured under extensions"),
            std::string::npos);
  EXPECT_NE(error(absl::StrCat("strand: {api: {auth: {authenticator: basicauth/other}}}",
                               kAuthExtensions))
                .find("not configured under extensions"),
            std::string::npos);
  std::string unlisted = kAuthExtensions;
  unlisted.replace(unlisted.find("[basicauth/grafana, "), strlen("[basicauth/grafana, "), "[");
  EXPECT_NE(
      error(absl::StrCat("strand: {api: {auth: {authenticator: basicauth/grafana}}}", unlisted))
          .find("strand.api.auth.authenticator: extension \"basicauth/grafana\" must be "
                "listed in service::extensions"),
      std::string::npos);
  EXPECT_NE(error(absl::StrCat("strand: {otlp: {grpc: {auth: {authenticator: basicauth/out}}}}",
                               kAuthExtensions))
                .find("\"basicauth/out\" is not a server authenticator"),
            std::string::npos);
  EXPECT_NE(error("strand: {api: {auth: {}}}")
                .find("strand.api.auth (line 1): authenticator must name an extension"),
            std::string::npos);
  EXPECT_NE(error("strand: {api: {auth: {authenticator: x, realm: y}}}")
                .find("strand.api.auth.realm (line 1): unknown key"),
            std::string::npos);
}

TEST(ConfigTest, InvalidYamlIsAnError) { EXPECT_FALSE(ParseConfigYaml("strand: [unclosed").ok()); }

}  // namespace
}  // namespace strand::cli
