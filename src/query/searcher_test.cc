// Searcher behaviour that the data-driven conformance cases (which ask for every match)
// cannot show: the limit, newest first, across live traces and blocks.
#include "traceql/searcher.h"

#include <filesystem>
#include <random>

#include "absl/synchronization/notification.h"
#include "block/block_test_util.h"
#include "common/clock.h"
#include "common/env.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "query/local_storage.h"
#include "traceql/parser.h"

namespace strand::query {
namespace {

using traceql::Evaluator;
using traceql::Parse;
using traceql::Searcher;
using traceql::SearchRequest;
using traceql::SearchResult;

namespace pb = opentelemetry::proto;

constexpr uint64_t k2026 = 1767225600ull * 1'000'000'000ull;  // 2026-01-01

class SearcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/searcher_test_" + std::to_string(std::random_device{}());
    options_.data_dir = dir_;
    options_.background = false;
    options_.retention_nanos = 0;
    options_.cut_spans_per_row_group = 1;  // one trace per row group
    Open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    store_.reset();
    auto s = store::Store::Open(*Env::Default(), clock_, nullptr, options_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  // One single-span trace with this ID byte, starting `start_s` seconds into 2026.
  void Ingest(uint8_t id, int64_t start_s) {
    IngestAt(id, k2026 + start_s * 1'000'000'000ull, k2026 + start_s * 1'000'000'000ull + 1000);
  }
  void IngestAt(uint8_t id, uint64_t start, uint64_t end) {
    pb::collector::trace::v1::ExportTraceServiceRequest req;
    auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(15, '\0') + static_cast<char>(id));
    span->set_span_id(std::string(7, '\0') + static_cast<char>(id));
    span->set_name("op");
    span->set_start_time_unix_nano(start);
    span->set_end_time_unix_nano(end);
    auto decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
    ASSERT_TRUE(decoded.ok());
    absl::Notification done;
    store_->Ingest("single-tenant", std::move(decoded->batch), [&](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      done.Notify();
    });
    done.WaitForNotification();
  }

  // `{ }` over [start, end] (0 = open) with this limit.
  absl::StatusOr<SearchResult> SearchAll(uint32_t limit, LocalStorageOptions options = {},
                                         uint64_t start = 0, uint64_t end = 0) {
    auto evaluator = Evaluator::Compile(*Parse("{ }"));
    if (!evaluator.ok()) return evaluator.status();
    SearchRequest req;
    req.tenant = "single-tenant";
    req.evaluator = evaluator->get();
    req.limit = limit;
    req.start_unix_nano = start;
    req.end_unix_nano = end;
    LocalStorage storage(*store_, options);
    return Searcher(storage).Search(req);
  }

  // The IDs (last byte) of `{ }` with this limit, newest first.
  std::vector<int> Newest(uint32_t limit, LocalStorageOptions options = {}) {
    auto r = SearchAll(limit, options);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<int> ids;
    if (r.ok()) {
      for (const auto& t : r->traces) ids.push_back(t.id[15]);
    }
    return ids;
  }

  // The spans are ingested when they happen (within the store's ingestion time slack).
  FakeClock clock_{static_cast<int64_t>(k2026)};
  store::StoreOptions options_;
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
  LocalStorageOptions one;
  one.decode_batch_spans = 1;
  EXPECT_EQ(Newest(2, one), (std::vector<int>{0x20, 0x40}));
  EXPECT_EQ(Newest(1, one), (std::vector<int>{0x20}));
}

// A damaged row group costs the search only its own traces: the rest of the block is
// searched, and the answer counts what could not be read.
TEST_F(SearcherTest, DamagedRowGroupIsSkippedAndCounted) {
  for (int i = 0; i < 4; ++i) Ingest(static_cast<uint8_t>(0x60 + i), 100 + i);
  ASSERT_TRUE(store_->CutBlocks(true).ok());
  ASSERT_EQ(store_->blocks()->size(), 1u);
  const store::BlockHandlePtr block = store_->blocks()->front();
  ASSERT_EQ(block->reader->num_row_groups(), 4u);
  const block::RowGroupInfo rg = block->reader->footer().row_groups[1];  // trace 0x61
  block::testing::FlipByte(block->dir + "/data", rg.offset + rg.size / 2);
  for (int round = 0; round < 2; ++round) {  // found damaged, then known damaged
    auto r = SearchAll(0);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<int> ids;
    for (const auto& t : r->traces) ids.push_back(t.id[15]);
    EXPECT_EQ(ids, (std::vector<int>{0x63, 0x62, 0x60})) << "round " << round;
    EXPECT_EQ(r->row_groups_damaged, 1u) << "round " << round;
  }
  EXPECT_EQ(store_->blocks()->size(), 1u) << "the block stays listed";
  EXPECT_EQ(block->damage->damaged_row_groups(), 1u);
}

TEST_F(SearcherTest, LimitInsideOneBlockReadsNewestFirst) {
  for (int i = 0; i < 8; ++i) Ingest(static_cast<uint8_t>(0x50 + i), 1000 - 100 * i);
  ASSERT_TRUE(store_->CutBlocks(true).ok());
  LocalStorageOptions one;
  one.decode_batch_spans = 1;
  EXPECT_EQ(Newest(3, one), (std::vector<int>{0x50, 0x51, 0x52}));
  EXPECT_EQ(Newest(3), (std::vector<int>{0x50, 0x51, 0x52}));
}

// The store places a span stamped 1970 by its ingest time (store_time_range_test.cc), so
// retention keeps it; a search without a time range finds it with its own times.
TEST_F(SearcherTest, SpanStamped1970IsFoundWithoutATimeRangeAfterRetention) {
  options_.retention_nanos = 3600ll * 1'000'000'000;
  Open();
  constexpr uint64_t k1970 = 86'400ull * 1'000'000'000;
  IngestAt(0x70, k1970, k1970 + 1'000'000'000);
  clock_.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(store_->CutBlocks().ok());
  clock_.Advance(std::chrono::minutes(2));
  auto deleted = store_->ApplyRetention();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 0);
  auto r = SearchAll(20);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->traces.size(), 1u);
  EXPECT_EQ(r->traces[0].id[15], 0x70);
  EXPECT_EQ(r->traces[0].start_unix_nano, k1970);
  EXPECT_EQ(r->traces[0].end_unix_nano, k1970 + 1'000'000'000);
}

}  // namespace
}  // namespace strand::query
