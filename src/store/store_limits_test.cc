// Store tests of per-tenant limits (strand.overrides): max_bytes_per_trace and
// max_traces_per_user refuse spans at ingest (counted by tenant and reason, reported as
// refusals, never stored, not even in the WAL), and block_retention overrides the
// store-wide retention for one tenant.
#include <gtest/gtest.h>

#include <string>

#include "absl/synchronization/notification.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "overrides/overrides.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace strand::store {
namespace {

namespace pb = opentelemetry::proto;
using testing::kHour;
using testing::kSecond;
using testing::TraceIdOf;

// One request with `spans` spans of trace `trace` (span IDs from `first_span`), each with
// a name of `name_bytes` bytes, starting now.
std::string TraceRequest(char trace, int spans, int first_span, size_t name_bytes,
                         uint64_t now_nanos) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(16, trace));
    s->set_span_id(std::string(7, '\x02') + static_cast<char>(first_span + i));
    s->set_name(std::string(name_bytes, 'n'));
    s->set_start_time_unix_nano(now_nanos);
    s->set_end_time_unix_nano(now_nanos + 1000);
  }
  return req.SerializeAsString();
}

class StoreLimitsTest : public testing::StoreFixture {
 protected:
  void Open(const overrides::Limits& limits) {
    overrides_ = std::make_unique<overrides::Overrides>(limits);
    options_.overrides = overrides_.get();
    StoreFixture::Open();
  }
  // Ingests and returns (status, spans refused, refusal message).
  std::tuple<absl::Status, uint64_t, std::string> Ingest(const std::string& tenant,
                                                         std::string bytes) {
    auto decoded = otlp::DecodeProtoRequest(std::move(bytes));
    EXPECT_TRUE(decoded.ok());
    IngestRefusals refused;
    absl::Notification n;
    absl::Status result;
    store_->Ingest(
        tenant, std::move(decoded->batch),
        [&](absl::Status s) {
          result = s;
          n.Notify();
        },
        &refused);
    n.WaitForNotification();
    return {result, refused.spans, refused.message};
  }
  uint64_t Discarded(const std::string& tenant, const std::string& reason) {
    return metrics_.AddCounter("strand_discarded_spans_total", "", {"tenant", "reason"})
        ->With({tenant, reason})
        ->Value();
  }
  size_t SpansOf(const std::string& tenant, char trace) {
    auto found = store_->FindTraceById(tenant, TraceIdOf(trace));
    return found.ok() ? found->spans.size() : 0;
  }
  uint64_t Now() const { return static_cast<uint64_t>(clock_.NowUnixNanos()); }

  std::unique_ptr<overrides::Overrides> overrides_;
};

TEST_F(StoreLimitsTest, SpansPastMaxBytesPerTraceAreRefusedAndCounted) {
  overrides::Limits limits;
  limits.max_bytes_per_trace = 1100;  // a span with a 200-byte name is 252 bytes
  Open(limits);
  auto [status, refused, message] = Ingest("t", TraceRequest('a', 3, 1, 200, Now()));
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(refused, 0u);
  std::tie(status, refused, message) = Ingest("t", TraceRequest('a', 3, 4, 200, Now()));
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(refused, 2u);  // the fourth span fits, the fifth and sixth do not
  EXPECT_NE(message.find("max_bytes_per_trace=1100"), std::string::npos) << message;
  EXPECT_NE(message.find("tenant t"), std::string::npos) << message;
  EXPECT_EQ(SpansOf("t", 'a'), 4u);
  EXPECT_EQ(Discarded("t", "trace_too_large"), 2u);
  // Another trace of the tenant has its own budget.
  std::tie(status, refused, message) = Ingest("t", TraceRequest('b', 2, 1, 200, Now()));
  EXPECT_EQ(refused, 0u);
  EXPECT_EQ(SpansOf("t", 'b'), 2u);
  // Refused spans are not in the WAL either: a restart brings back the kept ones only.
  Crash();
  StoreFixture::Open();
  EXPECT_EQ(SpansOf("t", 'a'), 4u);
}

TEST_F(StoreLimitsTest, NewTracesPastMaxLiveTracesAreRefusedUntilACutFreesRoom) {
  overrides::Limits limits;
  limits.max_traces_per_user = 2;
  Open(limits);
  EXPECT_EQ(std::get<1>(Ingest("t", TraceRequest('a', 1, 1, 10, Now()))), 0u);
  EXPECT_EQ(std::get<1>(Ingest("t", TraceRequest('b', 1, 1, 10, Now()))), 0u);
  auto [status, refused, message] = Ingest("t", TraceRequest('c', 3, 1, 10, Now()));
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(refused, 3u);
  EXPECT_NE(message.find("max_traces_per_user=2"), std::string::npos) << message;
  EXPECT_EQ(SpansOf("t", 'c'), 0u);
  EXPECT_EQ(Discarded("t", "live_traces_exceeded"), 3u);
  // Spans of live traces still pass, and other tenants have their own count.
  EXPECT_EQ(std::get<1>(Ingest("t", TraceRequest('a', 1, 2, 10, Now()))), 0u);
  EXPECT_EQ(std::get<1>(Ingest("u", TraceRequest('c', 1, 1, 10, Now()))), 0u);
  // Cut into blocks, the traces are no longer live: room for new ones.
  ASSERT_TRUE(store_->CutBlocks(/*all=*/true).ok());
  EXPECT_EQ(std::get<1>(Ingest("t", TraceRequest('c', 1, 1, 10, Now()))), 0u);
  EXPECT_EQ(SpansOf("t", 'c'), 1u);
}

TEST_F(StoreLimitsTest, TenantBlockRetentionOverridesTheStoreWideOne) {
  const std::string path = dir_ + "-overrides.yaml";
  std::ofstream(path) << "overrides:\n  short:\n    compaction:\n      block_retention: 1h\n";
  overrides::OverridesConfig config;
  config.per_tenant_override_config = path;
  auto o = overrides::Overrides::Open(config, clock_, nullptr);
  ASSERT_TRUE(o.ok()) << o.status();
  overrides_ = std::move(*o);
  options_.overrides = overrides_.get();
  options_.retention_nanos = 24 * kHour;
  StoreFixture::Open();
  for (const char* tenant : {"short", "long"}) {
    ASSERT_TRUE(std::get<0>(Ingest(tenant, TraceRequest('a', 2, 1, 10, Now()))).ok());
  }
  ASSERT_TRUE(store_->CutBlocks(/*all=*/true).ok());
  clock_.Advance(std::chrono::hours(2));
  auto deleted = store_->ApplyRetention();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(SpansOf("short", 'a'), 0u);
  EXPECT_EQ(SpansOf("long", 'a'), 2u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace strand::store
