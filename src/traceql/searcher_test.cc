// Searcher behaviour that the data-driven conformance cases (which ask for every match)
// cannot show: the limit, newest first, across live traces and blocks.
#include "traceql/searcher.h"

#include <filesystem>
#include <random>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/env.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "traceql/parser.h"

namespace strand::traceql {
namespace {

namespace pb = opentelemetry::proto;

class SearcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/searcher_test_" + std::to_string(std::random_device{}());
    store::StoreOptions o;
    o.data_dir = dir_;
    o.background = false;
    o.retention_nanos = 0;
    o.cut_spans_per_row_group = 1;  // one trace per row group
    auto s = store::Store::Open(*Env::Default(), *Clock::Real(), nullptr, o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // One single-span trace with this ID byte, starting `start_s` seconds into 2026.
  void Ingest(uint8_t id, int64_t start_s) {
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(15, '\0') + static_cast<char>(id));
    span->set_span_id(std::string(7, '\0') + static_cast<char>(id));
    span->set_name("op");
    const uint64_t base = 1767225600ull * 1'000'000'000ull;
    span->set_start_time_unix_nano(base + start_s * 1'000'000'000ull);
    span->set_end_time_unix_nano(base + start_s * 1'000'000'000ull + 1000);
    auto decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
    ASSERT_TRUE(decoded.ok());
    absl::Notification done;
    store_->Ingest("single-tenant", std::move(decoded->batch), [&](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      done.Notify();
    });
    done.WaitForNotification();
  }

  // The IDs (last byte) of `{ }` with this limit, newest first.
  std::vector<int> Newest(uint32_t limit, SearcherOptions options = {}) {
    auto evaluator = Evaluator::Compile(*Parse("{ }"));
    EXPECT_TRUE(evaluator.ok());
    Planner planner((*evaluator)->query());
    ColumnFilter filter((*evaluator)->query());
    SearchRequest req;
    req.tenant = "single-tenant";
    req.evaluator = evaluator->get();
    req.planner = &planner;
    req.column_filter = &filter;
    req.limit = limit;
    auto r = Searcher(*store_, options).Search(req);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<int> ids;
    if (r.ok()) {
      for (const auto& t : r->traces) ids.push_back(t.id[15]);
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(SearcherTest, LimitKeepsTheNewestAcrossLiveTracesAndBlocks) {
  Ingest(0x10, 100);  // a block: trace 0x10 (older) in the first row group,
  Ingest(0x20, 300);  // 0x20 (newest of all) in the second
  ASSERT_TRUE(store_->CutBlocks(true).ok());
  Ingest(0x30, 150);  // live
  Ingest(0x40, 200);
  EXPECT_EQ(Newest(2), (std::vector<int>{0x20, 0x40}));
  EXPECT_EQ(Newest(3), (std::vector<int>{0x20, 0x40, 0x30}));
  EXPECT_EQ(Newest(0), (std::vector<int>{0x20, 0x40, 0x30, 0x10}));
  // Decoding one span per batch reads the block in several batches: the search must not
  // stop after the older first row group while a newer trace is still unread.
  SearcherOptions one;
  one.decode_batch_spans = 1;
  EXPECT_EQ(Newest(2, one), (std::vector<int>{0x20, 0x40}));
  EXPECT_EQ(Newest(1, one), (std::vector<int>{0x20}));
}

TEST_F(SearcherTest, LimitInsideOneBlockReadsNewestFirst) {
  for (int i = 0; i < 8; ++i) Ingest(static_cast<uint8_t>(0x50 + i), 1000 - 100 * i);
  ASSERT_TRUE(store_->CutBlocks(true).ok());
  SearcherOptions one;
  one.decode_batch_spans = 1;
  EXPECT_EQ(Newest(3, one), (std::vector<int>{0x50, 0x51, 0x52}));
  EXPECT_EQ(Newest(3), (std::vector<int>{0x50, 0x51, 0x52}));
}

}  // namespace
}  // namespace strand::traceql
