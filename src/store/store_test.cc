#include "store/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "absl/synchronization/notification.h"
#include "common/fault_injection_env.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "store/store_test_util.h"

namespace strand::store {
namespace {

namespace pb = opentelemetry::proto;
using testing::TraceIdOf;

otlp::SpanBatch Batch(char trace, int first_span, int n, const std::string& service = "svc") {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* a = rs->mutable_resource()->add_attributes();
  a->set_key("service.name");
  a->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < n; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(16, trace));
    std::string sid(8, '\x01');
    sid[7] = static_cast<char>(first_span + i);
    s->set_span_id(sid);
    s->set_name("op" + std::to_string(first_span + i));
    s->set_start_time_unix_nano(1000 + i);
    s->set_end_time_unix_nano(2000 + i);
  }
  auto decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
  EXPECT_TRUE(decoded.ok());
  return std::move(decoded->batch);
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/store_test_" + std::to_string(std::random_device{}()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    env_ = std::make_unique<FaultInjectionEnv>(*Env::Default());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(uint64_t max_live_bytes = 1ull << 30) {
    StoreOptions o;
    o.data_dir = dir_;
    o.max_live_bytes = max_live_bytes;
    auto s = Store::Open(*env_, clock_, &metrics_, o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  absl::Status IngestSync(const std::string& tenant, otlp::SpanBatch&& b) {
    absl::Notification n;
    absl::Status result;
    store_->Ingest(tenant, std::move(b), [&](absl::Status s) {
      result = s;
      n.Notify();
    });
    n.WaitForNotification();
    return result;
  }
  size_t SpansOf(const std::string& tenant, char trace) {
    auto r = store_->FindTraceById(tenant, TraceIdOf(trace));
    return r.ok() ? r->spans.size() : 0;
  }

  std::string dir_;
  std::unique_ptr<FaultInjectionEnv> env_;
  FakeClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, TraceFromSeveralRequestsComesBackWhole) {
  Open();
  ASSERT_TRUE(IngestSync("t", Batch('a', 0, 3, "frontend")).ok());
  ASSERT_TRUE(IngestSync("t", Batch('a', 3, 2, "backend")).ok());
  EXPECT_EQ(SpansOf("t", 'a'), 5u);
  EXPECT_EQ(store_->FindTraceById("t", TraceIdOf('b')).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, SpanSentTwiceAppearsOnce) {
  Open();
  ASSERT_TRUE(IngestSync("t", Batch('a', 0, 3)).ok());
  ASSERT_TRUE(IngestSync("t", Batch('a', 1, 3)).ok());  // spans 1, 2 again, and 3
  EXPECT_EQ(SpansOf("t", 'a'), 4u);
}

TEST_F(StoreTest, TenantsAreKeptApart) {
  Open();
  ASSERT_TRUE(IngestSync("acme", Batch('a', 0, 2)).ok());
  EXPECT_EQ(SpansOf("acme", 'a'), 2u);
  EXPECT_EQ(SpansOf("other", 'a'), 0u);
}

TEST_F(StoreTest, AcknowledgedSpansSurviveRestart) {
  Open();
  ASSERT_TRUE(IngestSync("t", Batch('a', 0, 3)).ok());
  ASSERT_TRUE(IngestSync("u", Batch('b', 0, 2)).ok());
  store_.reset();
  Open();
  EXPECT_EQ(SpansOf("t", 'a'), 3u);
  EXPECT_EQ(SpansOf("u", 'b'), 2u);
}

TEST_F(StoreTest, AcknowledgedSpansSurviveLosingUnsyncedData) {
  Open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(IngestSync("t", Batch('a', i * 5, 5)).ok());
  // A power cut: the disk freezes, the process dies, everything not fsynced is gone.
  env_->SetFilesystemActive(false);
  store_.reset();
  ASSERT_TRUE(env_->DropUnsyncedData().ok());
  env_->SetFilesystemActive(true);
  Open();
  EXPECT_EQ(SpansOf("t", 'a'), 100u);
}

TEST_F(StoreTest, OverMemoryBudgetRefusesRetryably) {
  Open(/*max_live_bytes=*/1);
  ASSERT_TRUE(IngestSync("t", Batch('a', 0, 3)).ok());  // under budget when it arrived
  EXPECT_GT(store_->live_bytes(), 1u);
  absl::Status s = IngestSync("t", Batch('b', 0, 3));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("max_live_bytes"), absl::string_view::npos);
  EXPECT_EQ(SpansOf("t", 'b'), 0u);
  EXPECT_EQ(SpansOf("t", 'a'), 3u);
}

TEST_F(StoreTest, LiveTracesAreChargedToTheProcessMemoryLimit) {
  MemoryBudget budget(1ull << 30, [] { return uint64_t{0}; });
  StoreOptions o;
  o.data_dir = dir_;
  o.memory = &budget;
  o.background = false;
  auto s = Store::Open(*env_, clock_, &metrics_, o);
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = std::move(*s);
  ASSERT_TRUE(IngestSync("t", Batch('a', 0, 3)).ok());
  EXPECT_GT(budget.used(), 0u);
  EXPECT_EQ(budget.used(), store_->live_bytes());
  ASSERT_TRUE(store_->CutBlocks(/*all=*/true).ok());
  EXPECT_EQ(budget.used(), 0u);  // cut into a block: given back, the cut's decoding too
  EXPECT_EQ(SpansOf("t", 'a'), 3u);
}

TEST(StoreMemoryFitTest, BudgetsShrinkToFitASmallLimit) {
  StoreOptions o;  // defaults: 384 MiB live, 64 MiB head, 50,000 spans per cut, 64 inputs
  auto changed = FitToMemoryLimit(o, 200ull << 20);
  EXPECT_EQ(o.max_live_bytes, 100ull << 20);
  EXPECT_EQ(o.max_head_bytes, 25ull << 20);
  EXPECT_EQ(o.max_cut_spans, (200ull << 20) / 8 / 1536);
  EXPECT_EQ(o.compaction_max_inputs, static_cast<int>((200ull << 20) / 8 / (1536 * 1000)));
  EXPECT_EQ(changed.size(), 4u);
  // A large limit keeps the defaults.
  StoreOptions big;
  EXPECT_TRUE(FitToMemoryLimit(big, 16ull << 30).empty());
  EXPECT_EQ(big.max_live_bytes, StoreOptions{}.max_live_bytes);
}

TEST_F(StoreTest, FailedSyncIsNotAcknowledged) {
  Open();
  env_->FailNext(FaultInjectionEnv::Op::kSync, 1);
  absl::Status s = IngestSync("t", Batch('a', 0, 1));
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace strand::store
