#include "cli/config.h"

#include <gtest/gtest.h>

namespace strand::cli {
namespace {

TEST(ConfigTest, EmptyFileKeepsDefaults) {
  auto c = ParseConfigYaml("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->otlp_grpc_listen, "0.0.0.0:4317");
  EXPECT_TRUE(c->wal_sync);
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

TEST(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  auto c = ParseConfigYaml("strand:\n  wal:\n    synk: true\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strand.wal.synk"), std::string::npos);
}

TEST(ConfigTest, WrongTypeIsAnError) {
  auto c = ParseConfigYaml("strand:\n  wal:\n    sync: maybe\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("strand.wal.sync"), std::string::npos);
}

TEST(ConfigTest, CollectorSectionsAreNotSupportedYet) {
  auto c = ParseConfigYaml("receivers:\n  otlp: {}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(ConfigTest, InvalidYamlIsAnError) {
  EXPECT_FALSE(ParseConfigYaml("strand: [unclosed").ok());
}

}  // namespace
}  // namespace strand::cli
