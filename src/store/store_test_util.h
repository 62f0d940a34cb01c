// The fixture of the store tests that work with blocks and the data directory: a store
// on the fault-injecting Env in a fresh directory, with a fake clock, no background
// threads (the tests drive cutting, compaction and retention) and requests from the
// realistic generator. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "block/block_test_util.h"
#include "common/fault_injection_env.h"
#include "otlp/proto_decoder.h"
#include "store/store.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::store::testing {

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t kHour = 3600 * kSecond;

// A trace ID of sixteen bytes `c`.
inline otlp::TraceId TraceIdOf(char c) {
  otlp::TraceId id;
  id.fill(static_cast<uint8_t>(c));
  return id;
}

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/store_test_" + std::to_string(std::random_device{}()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    env_ = std::make_unique<FaultInjectionEnv>(*Env::Default());
    options_.data_dir = dir_;
    options_.background = false;
    options_.wal_segment_bytes = 64 << 10;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    auto s = Store::Open(*env_, clock_, &metrics_, options_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  // Request `index` of the realistic generator (50 traces x 10 spans by default).
  std::string Request(uint64_t index) {
    return testdata::RealisticRequest(gen_, index).SerializeAsString();
  }
  absl::Status IngestBytes(const std::string& tenant, std::string bytes) {
    auto decoded = otlp::DecodeProtoRequest(std::move(bytes));
    if (!decoded.ok()) return decoded.status();
    absl::Notification n;
    absl::Status result;
    store_->Ingest(tenant, std::move(decoded->batch), [&](absl::Status s) {
      result = s;
      n.Notify();
    });
    n.WaitForNotification();
    return result;
  }
  // The canonical spans of every trace of the requests, by trace ID.
  std::map<otlp::TraceId, std::vector<std::string>> Expected(uint64_t first, uint64_t count) {
    testdata::TraceSet set;
    for (uint64_t i = first; i < first + count; ++i) EXPECT_TRUE(set.AddRequest(Request(i)).ok());
    std::map<otlp::TraceId, std::vector<std::string>> out;
    for (const auto& [id, spans] : set.traces) out[id] = testdata::CanonicalSpans(spans);
    return out;
  }
  void ExpectAllFound(const std::string& tenant,
                      const std::map<otlp::TraceId, std::vector<std::string>>& expected) {
    for (const auto& [id, spans] : expected) {
      auto found = store_->FindTraceById(tenant, id);
      ASSERT_TRUE(found.ok()) << found.status();
      EXPECT_EQ(testdata::CanonicalSpans(found->spans), spans);
    }
  }
  void ExpectNoneFound(const std::map<otlp::TraceId, std::vector<std::string>>& expected,
                       const std::string& tenant = "t") {
    for (const auto& [id, spans] : expected) {
      EXPECT_TRUE(absl::IsNotFound(store_->FindTraceById(tenant, id).status()));
    }
  }
  size_t WalSegments() {
    auto children = env_->GetChildren(dir_ + "/wal");
    return children.ok() ? children->size() : 0;
  }
  // Flips one byte of a file (damage that checksums must catch).
  static void FlipByte(const std::string& path, std::streamoff pos) {
    block::testing::FlipByte(path, static_cast<uint64_t>(pos));
  }
  // The value of a counter of the store's metrics registry.
  uint64_t CounterValue(const char* name) {
    return metrics_.AddCounter(name, "")->With({})->Value();
  }
  // A power cut: the disk freezes, the store dies, whatever was not fsynced is lost.
  void Crash() {
    env_->SetFilesystemActive(false);
    store_.reset();
    ASSERT_TRUE(env_->DropUnsyncedData().ok());
    env_->SetFilesystemActive(true);
  }
  // Moves the clock hours on, so that the compaction windows of everything ingested so
  // far are settled (no cut adds to them any more) and Compact merges their last blocks.
  void SettleWindows() { clock_.Advance(std::chrono::hours(3)); }
  uint64_t BlockSpans() {
    uint64_t n = 0;
    for (const auto& b : *store_->blocks()) n += b->meta.span_count;
    return n;
  }

  std::string dir_;
  std::unique_ptr<FaultInjectionEnv> env_;
  FakeClock clock_;
  MetricsRegistry metrics_;
  StoreOptions options_;
  testdata::GeneratorOptions gen_;
  std::unique_ptr<Store> store_;
};

}  // namespace strand::store::testing
