// Bytes per span on disk for realistic data: the target is at most 36 (Tempo's
// vParquet takes about 73 on this kind of data). Prints the figure and the biggest
// columns; fails if the target is missed.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "gtest/gtest.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::block {
namespace {

using testdata::TraceSet;
using testing::TempDir;
using testing::WriteTraceSet;

TEST(BlockSizeTest, RealisticDataTakesAtMost36BytesPerSpan) {
  // 200 requests of 50 traces x 10 spans: 100,000 spans, ten 10k-span row groups.
  TraceSet set;
  testdata::GeneratorOptions options;
  for (uint64_t i = 0; i < 200; ++i) {
    ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
  }
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<BlockMeta> meta = WriteTraceSet(*Env::Default(), dir.path(), set);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(meta.ok()) << meta.status();

  const double per_span =
      static_cast<double>(meta->data_size) / static_cast<double>(set.span_count);
  const double wire_per_span =
      static_cast<double>(set.wire_bytes) / static_cast<double>(set.span_count);
  std::printf("spans %llu, traces %llu, row groups %llu\n",
              static_cast<unsigned long long>(set.span_count),
              static_cast<unsigned long long>(meta->trace_count),
              static_cast<unsigned long long>(meta->row_group_count));
  std::printf(
      "OTLP protobuf: %.1f bytes/span; block: %.2f bytes/span (%llu bytes), "
      "written in %.2f s (%.0f spans/s)\n",
      wire_per_span, per_span, static_cast<unsigned long long>(meta->data_size), seconds,
      static_cast<double>(set.span_count) / seconds);
  std::vector<std::pair<std::string, uint64_t>> columns = meta->column_sizes;
  std::sort(columns.begin(), columns.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < columns.size() && i < 25; ++i) {
    std::printf("  %-58s %6.2f bytes/span\n", columns[i].first.c_str(),
                static_cast<double>(columns[i].second) / static_cast<double>(set.span_count));
  }

  absl::StatusOr<std::unique_ptr<BlockReader>> reader =
      BlockReader::Open(*Env::Default(), JoinPath(dir.path(), meta->block_id.ToHex()));
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::printf(
      "memory while open: %zu bytes (%.3f%% of the data)\n", (*reader)->MemoryUsage(),
      100.0 * static_cast<double>((*reader)->MemoryUsage()) / static_cast<double>(meta->data_size));

  EXPECT_GT(wire_per_span, 380);  // the data is as heavy as the reference data
  EXPECT_LE(per_span, 36.0);
  EXPECT_LT((*reader)->MemoryUsage(), meta->data_size / 100);
}

}  // namespace
}  // namespace strand::block
