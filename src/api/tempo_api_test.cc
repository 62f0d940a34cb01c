#include "api/tempo_api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "http/http_test_client.h"
#include "auth/basic_authenticator.h"
#include "block/block_test_util.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "simdjson.h"
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
    Ingest("single-tenant", req);
  }
  void TearDown() override {
    api_->Stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Stores trace 2b (service "acme-billing", span "charge") for tenant "acme".
  void IngestAcmeTrace() {
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    auto* rs = req.add_resource_spans();
    auto* a = rs->mutable_resource()->add_attributes();
    a->set_key("service.name");
    a->mutable_value()->set_string_value("acme-billing");
    auto* span = rs->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(15, '\0') + "\x2b");
    span->set_span_id("\x02\x02\x03\x04\x05\x06\x07\x08");
    span->set_name("charge");
    span->set_start_time_unix_nano(1700000001000000000ULL);
    span->set_end_time_unix_nano(1700000001500000000ULL);
    Ingest("acme", req);
  }

  // Writes `req` to the store for `tenant` and waits until it is acknowledged.
  void Ingest(const std::string& tenant,
              const pb::collector::trace::v1::ExportTraceServiceRequest& req) {
    auto decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
    ASSERT_TRUE(decoded.ok());
    absl::Notification n;
    store_->Ingest(tenant, std::move(decoded->batch), [&](absl::Status s) {
      EXPECT_TRUE(s.ok());
      n.Notify();
    });
    n.WaitForNotification();
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
  auto v1 =
      testing::HttpCall("GET", base_ + "/api/traces/2a", "", {"Accept: application/protobuf"});
  ASSERT_EQ(v1.status, 200);
  tempopb::TraceV1 t;
  ASSERT_TRUE(t.ParseFromString(v1.body));
  ASSERT_EQ(t.batches_size(), 1);
  EXPECT_EQ(t.batches(0).scope_spans(0).spans(0).name(), "GET /cart");
  auto v2 =
      testing::HttpCall("GET", base_ + "/api/v2/traces/2a", "", {"Accept: application/protobuf"});
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
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/traces/2a?start=1&end=2000000000").status, 200);
}

TEST_F(TempoApiTest, HealthEchoBuildInfoAndMetrics) {
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/ready").status, 200);
  auto echo = testing::HttpCall("GET", base_ + "/api/echo");
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, "echo\n");
  auto info = testing::HttpCall("GET", base_ + "/api/status/buildinfo");
  EXPECT_EQ(info.status, 200);
  for (const char* key : {"version", "revision", "branch", "buildDate", "buildUser", "goVersion"}) {
    EXPECT_NE(info.body.find(std::string("\"") + key + "\":"), std::string::npos) << key;
  }
  auto m = testing::HttpCall("GET", base_ + "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(m.body.find("strand_api_requests_total"), std::string::npos);
}

TEST_F(TempoApiTest, MetricsQueriesSayNotSupported) {
  auto r = testing::HttpCall("GET", base_ + "/api/metrics/query_range?q=%7B%7D%7Crate()");
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("not supported"), std::string::npos);
  auto s = testing::HttpCall("GET", base_ + "/api/search?q=%7B%7D%20%7C%20rate()");
  EXPECT_EQ(s.status, 400) << s.body;
  EXPECT_NE(s.body.find("not supported"), std::string::npos) << s.body;
}

// Parses a JSON answer (the test fails on invalid JSON).
simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& body) {
  auto doc = parser.parse(body);
  EXPECT_FALSE(doc.error()) << body;
  return doc.value_unsafe();
}

TEST_F(TempoApiTest, SearchAnswersInTempoShape) {
  auto r = testing::HttpCall(
      "GET", base_ + "/api/search?q=" +
                 testing::UrlEncode("{ span.http.status_code >= 500 && status = error }"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  simdjson::dom::parser parser;
  auto doc = ParseJson(parser, r.body);
  auto traces = doc["traces"].get_array();
  ASSERT_FALSE(traces.error()) << r.body;
  ASSERT_EQ(traces.value_unsafe().size(), 1u) << r.body;
  auto t = traces.value_unsafe().at(0);
  EXPECT_EQ(std::string_view(t["traceID"].get_string().value_unsafe()),
            "0000000000000000000000000000002a");
  EXPECT_EQ(std::string_view(t["rootServiceName"].get_string().value_unsafe()), "checkout");
  EXPECT_EQ(std::string_view(t["rootTraceName"].get_string().value_unsafe()), "GET /cart");
  EXPECT_EQ(std::string_view(t["startTimeUnixNano"].get_string().value_unsafe()),
            "1700000000000000000");
  EXPECT_EQ(t["durationMs"].get_uint64().value_unsafe(), 500u);
  auto set = t["spanSets"].at(0);
  EXPECT_EQ(set["matched"].get_uint64().value_unsafe(), 1u);
  auto span = set["spans"].at(0);
  EXPECT_EQ(std::string_view(span["spanID"].get_string().value_unsafe()), "0102030405060708");
  EXPECT_EQ(std::string_view(span["durationNanos"].get_string().value_unsafe()), "500000000");
  // The attribute the condition tested is shown, in OTLP/JSON form.
  EXPECT_NE(r.body.find("\"http.status_code\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"intValue\":\"503\""), std::string::npos) << r.body;
  EXPECT_FALSE(t["spanSet"].error()) << "the legacy singular spanSet is kept";
  // Per service: the trace's spans and error spans.
  EXPECT_EQ(t["serviceStats"]["checkout"]["spanCount"].get_uint64().value_unsafe(), 1u) << r.body;
  EXPECT_EQ(t["serviceStats"]["checkout"]["errorCount"].get_uint64().value_unsafe(), 1u) << r.body;
  EXPECT_FALSE(doc["metrics"]["inspectedBytes"].error());
}

TEST_F(TempoApiTest, SearchWithoutMatchesAndWithTags) {
  simdjson::dom::parser parser;
  auto none = testing::HttpCall(
      "GET", base_ + "/api/search?q=" + testing::UrlEncode("{ name = \"nothing\" }"));
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(ParseJson(parser, none.body)["traces"].get_array().value_unsafe().size(), 0u);
  // The legacy logfmt `tags` parameter; an integer value also matches int attributes.
  auto tags = testing::HttpCall(
      "GET", base_ + "/api/search?tags=" +
                 testing::UrlEncode("service.name=\"checkout\" http.status_code=503"));
  ASSERT_EQ(tags.status, 200) << tags.body;
  EXPECT_EQ(ParseJson(parser, tags.body)["traces"].get_array().value_unsafe().size(), 1u);
  // Duration bounds apply to the trace (500ms here).
  auto longer = testing::HttpCall("GET", base_ + "/api/search?minDuration=600ms");
  ASSERT_EQ(longer.status, 200) << longer.body;
  EXPECT_EQ(ParseJson(parser, longer.body)["traces"].get_array().value_unsafe().size(), 0u);
  auto shorter = testing::HttpCall("GET", base_ + "/api/search?minDuration=100ms&maxDuration=1s");
  EXPECT_EQ(ParseJson(parser, shorter.body)["traces"].get_array().value_unsafe().size(), 1u);
}

// minDuration and maxDuration take Go's duration syntax (common/duration.h with µs).
TEST_F(TempoApiTest, SearchDurationSyntax) {
  for (const char* text : {"0", "100ms", "1.5h", "2h45m", "300us", "300\xC2\xB5s", "7ns", ".5s",
                           "5.s", "1000000h"}) {
    auto r = testing::HttpCall(
        "GET", base_ + "/api/search?minDuration=" + testing::UrlEncode(text));
    EXPECT_EQ(r.status, 200) << text << ": " << r.body;
  }
  for (const char* text : {"-5s", "+5s", "-0", "5", "00", "5x", "1e3s", "inf", "5 s", "1..5s",
                           "300\xCE\xBCs", "1d", "3000000h"}) {
    auto r = testing::HttpCall(
        "GET", base_ + "/api/search?maxDuration=" + testing::UrlEncode(text));
    EXPECT_EQ(r.status, 400) << text;
    EXPECT_NE(r.body.find(absl::StrCat("maxDuration: invalid duration \"", text, "\"")),
              std::string::npos)
        << r.body;
  }
}

TEST_F(TempoApiTest, BadSearchesAre400WithTheReason) {
  auto bad = testing::HttpCall("GET", base_ + "/api/search?q=" + testing::UrlEncode("{ .a = }"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("parse error at line 1, column"), std::string::npos) << bad.body;
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/search?limit=x").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/search?spss=-1").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/search?minDuration=3parsecs").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/search?start=10&end=5").status, 400);
  auto wide = testing::HttpCall("GET", base_ + "/api/search?start=1&end=2000000000");
  EXPECT_EQ(wide.status, 400);
  EXPECT_NE(wide.body.find("exceeds 168h"), std::string::npos) << wide.body;
}

TEST_F(TempoApiTest, TenantReadLimitsFromOverrides) {
  overrides::Limits limits;
  limits.max_search_duration_nanos = 3600ll * 1'000'000'000;
  limits.max_bytes_per_tag_values_query = 5;
  overrides::Overrides overrides(limits);
  TempoApiOptions ao;
  ao.address = "127.0.0.1:0";
  ao.overrides = &overrides;
  auto api = TempoApi::Start(ao, *store_, metrics_);
  ASSERT_TRUE(api.ok()) << api.status();
  const std::string base = "http://127.0.0.1:" + std::to_string((*api)->port());
  auto wide = testing::HttpCall("GET", base + "/api/search?start=1000&end=4601");
  EXPECT_EQ(wide.status, 400);
  EXPECT_NE(wide.body.find("exceeds 1h0m0s"), std::string::npos) << wide.body;
  EXPECT_NE(wide.body.find("max_search_duration of tenant single-tenant"), std::string::npos)
      << wide.body;
  EXPECT_EQ(testing::HttpCall("GET", base + "/api/search?start=1000&end=4600").status, 200);
  // "checkout" is 8 bytes, over the 5 the tenant may read in one tag-values query.
  auto values = testing::HttpCall("GET", base + "/api/search/tag/service.name/values");
  EXPECT_EQ(values.status, 200);
  EXPECT_EQ(values.body, "{\"tagValues\":[]}\n");
  auto unlimited = testing::HttpCall("GET", base_ + "/api/search/tag/service.name/values");
  EXPECT_EQ(unlimited.body, "{\"tagValues\":[\"checkout\"]}\n");
  (*api)->Stop();
}

TEST_F(TempoApiTest, QueriesAreRefusedRetryablyWhileTheMemoryLimitIsReached) {
  MemoryBudget budget(10 << 20, [] { return uint64_t{0}; });
  TempoApiOptions ao;
  ao.address = "127.0.0.1:0";
  ao.memory = &budget;
  auto api = TempoApi::Start(ao, *store_, metrics_);
  ASSERT_TRUE(api.ok()) << api.status();
  const std::string base = "http://127.0.0.1:" + std::to_string((*api)->port());
  const std::string trace = "/api/traces/0000000000000000000000000000002a";
  budget.Take(budget.tracked_limit() + 1);  // live traces, say, over the request share
  for (const std::string& path : {trace, std::string("/api/search?q=%7B%7D"),
                                 std::string("/api/search/tags"),
                                 std::string("/api/search/tag/service.name/values")}) {
    auto r = testing::HttpCall("GET", base + path);
    EXPECT_EQ(r.status, 503) << path;
    EXPECT_EQ(r.Header("retry-after"), "1") << path;
    EXPECT_NE(r.body.find("memory limit reached"), std::string::npos) << r.body;
  }
  EXPECT_EQ(testing::HttpCall("GET", base + "/ready").status, 200);  // not a query
  budget.Give(budget.tracked_limit() + 1);
  EXPECT_EQ(testing::HttpCall("GET", base + trace).status, 200);
  EXPECT_EQ(testing::HttpCall("GET", base + "/api/search?q=%7B%7D").status, 200);
  EXPECT_EQ(budget.used(), 0u);  // the lookup's answer was given back
  (*api)->Stop();
}

TEST_F(TempoApiTest, TagNamesByScopeAndTagValues) {
  simdjson::dom::parser parser;
  auto v1 = testing::HttpCall("GET", base_ + "/api/search/tags");
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_NE(v1.body.find("\"http.status_code\""), std::string::npos) << v1.body;
  EXPECT_NE(v1.body.find("\"service.name\""), std::string::npos) << v1.body;
  auto v2 = testing::HttpCall("GET", base_ + "/api/v2/search/tags?scope=resource");
  ASSERT_EQ(v2.status, 200) << v2.body;
  auto scopes = ParseJson(parser, v2.body)["scopes"].get_array().value_unsafe();
  ASSERT_EQ(scopes.size(), 1u) << v2.body;
  EXPECT_EQ(std::string_view(scopes.at(0)["name"].get_string().value_unsafe()), "resource");
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/v2/search/tags?scope=nope").status, 400);

  // Grafana encodes the tag name twice: %252E is an encoded '%2E' ('.').
  auto values =
      testing::HttpCall("GET", base_ + "/api/v2/search/tag/resource%252Eservice%252Ename/values");
  ASSERT_EQ(values.status, 200) << values.body;
  auto list = ParseJson(parser, values.body)["tagValues"].get_array().value_unsafe();
  ASSERT_EQ(list.size(), 1u) << values.body;
  EXPECT_EQ(std::string_view(list.at(0)["type"].get_string().value_unsafe()), "string");
  EXPECT_EQ(std::string_view(list.at(0)["value"].get_string().value_unsafe()), "checkout");
  auto ints = testing::HttpCall("GET", base_ + "/api/v2/search/tag/span.http.status_code/values");
  EXPECT_NE(ints.body.find("\"int\""), std::string::npos) << ints.body;
  auto v1values = testing::HttpCall("GET", base_ + "/api/search/tag/service.name/values");
  EXPECT_EQ(v1values.body, "{\"tagValues\":[\"checkout\"]}\n");
  // Filtered by a query that matches nothing: no values.
  auto filtered =
      testing::HttpCall("GET", base_ + "/api/v2/search/tag/resource.service.name/values?q=" +
                                   testing::UrlEncode("{ name = \"nothing\" }"));
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(ParseJson(parser, filtered.body)["tagValues"].get_array().value_unsafe().size(), 0u);
  auto status = testing::HttpCall("GET", base_ + "/api/v2/search/tag/status/values");
  EXPECT_NE(status.body.find("\"keyword\""), std::string::npos) << status.body;
}

TEST_F(TempoApiTest, SearchReadsBlocksToo) {
  ASSERT_TRUE(store_->CutBlocks(true).ok());
  ASSERT_EQ(store_->live().NumSpans(), 0u);
  auto r = testing::HttpCall(
      "GET",
      base_ + "/api/search?q=" + testing::UrlEncode("{ resource.service.name = \"checkout\" }"));
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  EXPECT_EQ(ParseJson(parser, r.body)["traces"].get_array().value_unsafe().size(), 1u) << r.body;
  auto skipped = testing::HttpCall(
      "GET", base_ + "/api/search?q=" + testing::UrlEncode("{ resource.service.name = \"cart\" }"));
  EXPECT_EQ(ParseJson(parser, skipped.body)["traces"].get_array().value_unsafe().size(), 0u);
}

// A trace whose row group is damaged is unavailable, not missing: 500 with the reason, not
// 404. With spans found elsewhere (here: live), the answer is those spans, marked partial.
TEST_F(TempoApiTest, TraceInADamagedRowGroupIsUnavailableNotNotFound) {
  ASSERT_TRUE(store_->CutBlocks(true).ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const store::BlockHandlePtr block = store_->blocks()->front();
  const block::RowGroupInfo& rg = block->reader->footer().row_groups[0];
  block::testing::FlipByte(block->dir + "/data", rg.offset + rg.size / 2);
  const std::string reason =
      "data unavailable: block " + block->meta.block_id.ToHex() + " row group 0 is damaged";
  for (const char* path : {"/api/traces/2a", "/api/v2/traces/2a"}) {
    auto r = testing::HttpCall("GET", base_ + path);
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_NE(r.body.find(reason), std::string::npos) << r.body;
  }

  pb::collector::trace::v1::ExportTraceServiceRequest more;
  auto* span = more.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(15, '\0') + "\x2a");
  span->set_span_id("\x09\x02\x03\x04\x05\x06\x07\x08");
  span->set_name("later");
  span->set_start_time_unix_nano(1700000002000000000ULL);
  span->set_end_time_unix_nano(1700000002500000000ULL);
  Ingest("single-tenant", more);
  auto v2 =
      testing::HttpCall("GET", base_ + "/api/v2/traces/2a", "", {"Accept: application/protobuf"});
  ASSERT_EQ(v2.status, 200) << v2.body;
  tempopb::TraceByIDResponse resp;
  ASSERT_TRUE(resp.ParseFromString(v2.body));
  EXPECT_EQ(resp.trace().resource_spans(0).scope_spans(0).spans(0).name(), "later");
  EXPECT_EQ(resp.status(), tempopb::PARTIAL);
  EXPECT_NE(resp.message().find(reason), std::string::npos) << resp.message();
  auto v1 = testing::HttpCall("GET", base_ + "/api/traces/2a");
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_NE(v1.Header("x-strand-partial").find(reason), std::string::npos);
}

TEST_F(TempoApiTest, SearchAndTagsSeeOnlyTheirTenant) {
  // A second API with multi-tenancy over the same store: the setup's span belongs to
  // "single-tenant"; add one for "acme".
  TempoApiOptions ao;
  ao.address = "127.0.0.1:0";
  ao.multitenancy = true;
  auto mt = TempoApi::Start(ao, *store_, metrics_);
  ASSERT_TRUE(mt.ok()) << mt.status();
  const std::string base = "http://127.0.0.1:" + std::to_string((*mt)->port());
  IngestAcmeTrace();

  simdjson::dom::parser parser;
  auto acme = testing::HttpCall("GET", base + "/api/search", "", {"X-Scope-OrgID: acme"});
  ASSERT_EQ(acme.status, 200) << acme.body;
  auto traces = ParseJson(parser, acme.body)["traces"].get_array().value_unsafe();
  ASSERT_EQ(traces.size(), 1u) << acme.body;
  EXPECT_EQ(std::string_view(traces.at(0)["rootServiceName"].get_string().value_unsafe()),
            "acme-billing");
  auto values = testing::HttpCall("GET", base + "/api/search/tag/service.name/values", "",
                                  {"X-Scope-OrgID: acme"});
  EXPECT_NE(values.body.find("acme-billing"), std::string::npos) << values.body;
  EXPECT_EQ(values.body.find("checkout"), std::string::npos) << values.body;
  // The other tenant sees only its own; no tenant at all is refused.
  auto other = testing::HttpCall("GET", base + "/api/search", "", {"X-Scope-OrgID: other"});
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(ParseJson(parser, other.body)["traces"].get_array().value_unsafe().size(), 0u);
  EXPECT_EQ(testing::HttpCall("GET", base + "/api/search").status, 400);
  (*mt)->Stop();
}

}  // namespace
}  // namespace strand::api

namespace strand::api {
namespace {

TEST_F(TempoApiTest, ServiceMapCountsTheStoredSpans) {
  auto r =
      testing::HttpCall("GET", base_ + "/api/strand/service-map?start=1699999000&end=1700001000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"nodes":[{"service":"checkout","spans":1,"errors":1}],"edges":[],"traces":1,)"
            R"("truncated":false})"
            "\n");
  // Outside the range there is nothing.
  r = testing::HttpCall("GET", base_ + "/api/strand/service-map?start=1600000000&end=1600001000");
  EXPECT_NE(r.body.find(R"("nodes":[])"), std::string::npos) << r.body;
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/strand/service-map?limit=0").status, 400);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/strand/service-map?start=5&end=4").status, 400);
}

TEST_F(TempoApiTest, WebUiRoutesAnswerAndUnknownFilesAreNotFound) {
  for (const char* path : {"/", "/search", "/map", "/trace/0102"}) {
    auto r = testing::HttpCall("GET", base_ + path);
    EXPECT_EQ(r.status, 200) << path;
  }
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/assets/does-not-exist.js").status, 404);
  EXPECT_EQ(testing::HttpCall("GET", base_ + "/api/nope").status, 404);
}

}  // namespace
}  // namespace strand::api

namespace strand::api {
namespace {

// strand.api.auth: an API guarded by Basic credentials ("ann" bound to tenant acme, "bob"
// unbound; password "pw").
class TempoApiAuthTest : public TempoApiTest {
 protected:
  void StartGuarded(bool multitenancy) {
    auth::BasicAuthSettings s;
    s.htpasswd_inline = "ann:pw\nbob:pw\n";
    s.tenants = {{"ann", "acme"}};
    auto a = auth::BasicAuthenticator::Create(s, clock_);
    ASSERT_TRUE(a.ok()) << a.status();
    TempoApiOptions ao;
    ao.address = "127.0.0.1:0";
    ao.multitenancy = multitenancy;
    ao.auth = std::move(*a);
    auto api = TempoApi::Start(ao, *store_, metrics_);
    ASSERT_TRUE(api.ok()) << api.status();
    guarded_ = std::move(*api);
    guarded_base_ = "http://127.0.0.1:" + std::to_string(guarded_->port());
  }
  void TearDown() override {
    if (guarded_) guarded_->Stop();
    TempoApiTest::TearDown();
  }
  testing::HttpResult Get(const std::string& path, const std::string& user,
                          const std::string& tenant = "", const std::string& password = "pw") {
    std::vector<std::string> headers;
    if (!user.empty()) {
      headers.push_back("Authorization: " +
                        auth::BasicClientAuthenticator(user, password).Headers().at(0).second);
    }
    if (!tenant.empty()) headers.push_back("X-Scope-OrgID: " + tenant);
    return testing::HttpCall("GET", guarded_base_ + path, "", headers);
  }
  std::unique_ptr<TempoApi> guarded_;
  std::string guarded_base_;
};

TEST_F(TempoApiAuthTest, CredentialsGuardEverythingButTheProbes) {
  StartGuarded(false);
  for (const char* path :
       {"/api/traces/2a", "/api/v2/traces/2a", "/api/search", "/api/v2/search/tags",
        "/api/status/buildinfo", "/metrics", "/", "/assets/app.js", "/api/strand/service-map"}) {
    for (const std::string& password : {std::string(), std::string("wrong")}) {
      auto r = Get(path, password.empty() ? "" : "ann", "", password);
      EXPECT_EQ(r.status, 401) << path << " " << password;
      EXPECT_EQ(r.Header("www-authenticate"), "Basic realm=\"strand\", charset=\"UTF-8\"");
    }
  }
  EXPECT_EQ(Get("/api/traces/2a", "ann").status, 200);
  EXPECT_EQ(Get("/api/search", "bob").status, 200);
  EXPECT_EQ(Get("/", "bob").status, 200);
  // Probes answer without credentials.
  EXPECT_EQ(Get("/ready", "").status, 200);
  EXPECT_EQ(Get("/api/echo", "").status, 200);
}

TEST_F(TempoApiAuthTest, BoundCredentialsReadOnlyTheirTenant) {
  StartGuarded(true);
  IngestAcmeTrace();

  EXPECT_EQ(Get("/api/traces/2b", "ann").status, 200);          // the bound tenant
  EXPECT_EQ(Get("/api/traces/2b", "ann", "acme").status, 200);  // naming it is fine
  EXPECT_EQ(Get("/api/traces/2a", "ann").status, 404);          // single-tenant's trace
  auto other = Get("/api/traces/2a", "ann", "single-tenant");
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(other.body.find("not the tenant this credential is bound to"), std::string::npos)
      << other.body;
  EXPECT_EQ(Get("/api/search", "ann", "beta").status, 403);
  // An unbound credential still names its tenant, as without authentication.
  EXPECT_EQ(Get("/api/traces/2a", "bob", "single-tenant").status, 200);
  EXPECT_EQ(Get("/api/traces/2b", "bob").status, 400);
}

}  // namespace
}  // namespace strand::api
