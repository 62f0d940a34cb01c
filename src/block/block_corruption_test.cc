// Damaged blocks: truncation, flipped bytes, bad magic, newer versions, mismatched
// metadata and random mutations must give clear errors (DataLoss naming the file and
// the offset, FailedPrecondition for a newer version), never a crash or wrong data.
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/match.h"
#include "block/block_reader.h"
#include "block/block_stats.h"
#include "block/block_tables.h"
#include "block/block_test_util.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/batch_testutil.h"
#include "otlp/proto_encoder.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::block {
namespace {

using testdata::TraceSet;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteTraceSet;

constexpr char kName[] = "blocks/0123/data";

// Nested arrays and kvlists, bytes, events and links, so damage reaches every decoder.
opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest EveryFieldLikeRequest() {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  ss->mutable_scope()->set_name("scope");
  for (int i = 0; i < 12; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, static_cast<char>(0x40 + i / 4)));
    span->set_span_id(std::string(8, static_cast<char>(1 + i)));
    if (i % 4 != 0) span->set_parent_span_id(std::string(8, static_cast<char>(i)));
    span->set_start_time_unix_nano(1000 + i);
    auto* kv = span->add_attributes();
    kv->set_key("nested");
    auto* array = kv->mutable_value()->mutable_array_value();
    array->add_values()->set_bytes_value("\x01\x02");
    auto* list = array->add_values()->mutable_kvlist_value()->add_values();
    list->set_key("inner");
    list->mutable_value()->set_double_value(i * 1.5);
    auto* event = span->add_events();
    event->set_name("e");
    event->set_time_unix_nano(2000 + i);
    event->add_attributes()->set_key("flag");
    auto* link = span->add_links();
    link->set_trace_id(std::string(16, 'L'));
    link->set_span_id(std::string(8, 'S'));
    link->set_trace_state("a=b");
  }
  return req;
}

class BlockCorruptionTest : public ::testing::Test {
 protected:
  // Writes a block of `requests` realistic requests and loads its data file.
  void WriteBlock(int requests, BlockWriterOptions options = {}, int traces_per_request = 50) {
    testdata::GeneratorOptions generator;
    generator.traces_per_request = traces_per_request;
    for (int i = 0; i < requests; ++i) {
      ASSERT_TRUE(
          set_.AddRequest(testdata::RealisticRequest(generator, static_cast<uint64_t>(i))).ok());
    }
    if (options.spans_per_row_group == BlockWriterOptions().spans_per_row_group) {
      options.spans_per_row_group = 100;
    }
    absl::StatusOr<BlockMeta> meta = WriteTraceSet(*Env::Default(), dir_.path(), set_, options);
    ASSERT_TRUE(meta.ok()) << meta.status();
    meta_ = *meta;
    block_dir_ = JoinPath(dir_.path(), meta->block_id.ToHex());
    absl::StatusOr<std::string> data =
        Env::Default()->ReadFileToString(JoinPath(block_dir_, "data"));
    ASSERT_TRUE(data.ok());
    data_ = *data;
  }

  // Opens `bytes` as a data file (checksums on); null when that fails.
  std::unique_ptr<BlockReader> OpenData(std::string bytes) {
    absl::StatusOr<std::unique_ptr<BlockReader>> reader =
        BlockReader::OpenFile(NewStringRandomAccessFile(std::move(bytes), kName));
    EXPECT_TRUE(reader.ok()) << reader.status();
    return reader.ok() ? *std::move(reader) : nullptr;
  }
  // The data file with a byte of row group `rg` flipped (a page checksum catches it).
  std::string WithRowGroupDamaged(const RowGroupInfo& rg) const {
    std::string bad = data_;
    bad[rg.offset + rg.size / 3] ^= 1;
    return bad;
  }

  // Opens `bytes` as a data file and reads everything: the first error, or OK.
  absl::Status ReadEverything(std::string bytes, BlockReaderOptions options = {}) {
    absl::StatusOr<std::unique_ptr<BlockReader>> reader =
        BlockReader::OpenFile(NewStringRandomAccessFile(std::move(bytes), kName), options);
    if (!reader.ok()) return reader.status();
    // The search paths first, so they meet the damage: lazily opened row groups, single
    // columns, and decoding with a segment selection and a projection.
    absl::StatusOr<BlockTables> tables = (*reader)->ReadTables();
    if (!tables.ok()) return tables.status();
    for (size_t g = 0; g < (*reader)->num_row_groups(); ++g) {
      absl::StatusOr<std::unique_ptr<RowGroupDecoder>> rg = (*reader)->OpenRowGroup(g);
      if (!rg.ok()) return rg.status();
      for (ColumnId id : {ColumnId::kSpanDuration, ColumnId::kSpanKind, ColumnId::kSpanScope}) {
        if (auto v = (*rg)->SpanVarints(id); !v.ok()) return v.status();
      }
      if (auto v = (*rg)->SpanStrings(ColumnId::kSpanName); !v.ok()) return v.status();
      size_t values = 0;
      absl::Status each =
          (*rg)->ForEachSpanAttribute("http.method", [&](uint32_t, const auto&) { ++values; });
      if (!each.ok()) return each;
      std::vector<char> pick((*rg)->num_traces(), 0);
      for (size_t k = 0; k < pick.size(); k += 2) pick[k] = 1;
      const std::vector<std::string> keys = {"http.method"};
      RowGroupDecoder::DecodeOptions options;
      options.segments = &pick;
      options.span_attribute_keys = &keys;
      otlp::SpanBatch some;
      auto map = tables->NewBatchMap();
      absl::Status partial =
          (*rg)->DecodeTraces(0, (*rg)->num_traces(), *tables, map, some, options);
      if (!partial.ok()) return partial;
      EXPECT_EQ(otlp::testutil::BatchInvariantViolation(some), "");
      absl::StatusOr<RowGroupData> all = BlockReader::DecodeRowGroup(**rg, *tables);
      if (!all.ok()) return all.status();
      EXPECT_EQ(otlp::testutil::BatchInvariantViolation(all->batch), "");
    }
    absl::Status status = (*reader)->Verify();
    if (!status.ok()) return status;
    for (const auto& [id, spans] : set_.traces) {
      absl::StatusOr<std::optional<FoundTrace>> found = (*reader)->FindTrace(id);
      if (!found.ok()) return found.status();
      if (found->has_value()) {
        // Whatever decodes must be a well-formed batch that encodes.
        EXPECT_EQ(otlp::testutil::BatchInvariantViolation((*found)->spans), "");
        otlp::EncodeExportRequest((*found)->spans);
      }
    }
    return (*reader)->ReadStats().status();
  }

  TempDir dir_;
  TraceSet set_;
  BlockMeta meta_;
  std::string block_dir_;
  std::string data_;
};

TEST_F(BlockCorruptionTest, IntactBlockReadsCleanly) {
  WriteBlock(1);
  EXPECT_TRUE(ReadEverything(data_).ok());
}

TEST_F(BlockCorruptionTest, EveryTruncationIsDataLossNamingFileAndOffset) {
  WriteBlock(1);
  for (size_t n = 0; n < data_.size(); ++n) {
    absl::Status status = ReadEverything(data_.substr(0, n));
    ASSERT_EQ(status.code(), absl::StatusCode::kDataLoss) << n << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr(kName));
    EXPECT_THAT(status.message(), HasSubstr("offset"));
  }
}

TEST_F(BlockCorruptionTest, EveryFlippedByteIsDetected) {
  BlockWriterOptions options;
  options.spans_per_row_group = 30;
  WriteBlock(1, options, /*traces_per_request=*/8);
  // Every byte is covered by a checksum: header, pages, directories, sections, footer,
  // and the trailer (its version and flags through the footer checksum).
  for (size_t i = 0; i < data_.size(); ++i) {
    std::string bad = data_;
    bad[i] ^= 0x20;
    absl::Status status = ReadEverything(bad);
    ASSERT_EQ(status.code(), absl::StatusCode::kDataLoss) << "byte " << i << ": " << status;
  }
}

TEST_F(BlockCorruptionTest, BadMagicIsDataLoss) {
  WriteBlock(1);
  std::string bad = data_;
  bad[0] = 'X';
  absl::Status status = ReadEverything(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("bad magic"));
  bad = data_;
  bad[bad.size() - 1] = 'X';
  status = ReadEverything(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("trailer magic"));
  EXPECT_EQ(
      ReadEverything("not a block at all, just some text to fill the header and trailer").code(),
      absl::StatusCode::kDataLoss);
}

TEST_F(BlockCorruptionTest, NewerVersionIsFailedPrecondition) {
  WriteBlock(1);
  // A well-formed file of version 2: both version fields and both checksums updated.
  std::string newer = data_;
  EncodeFixed32(newer.data() + 8, 2);
  EncodeFixed32(newer.data() + 32, Checksum32(std::string_view(newer).substr(0, 32)));
  const size_t trailer = newer.size() - kTrailerSize;
  const uint32_t footer_size = DecodeFixed32(newer.data() + trailer);
  const std::string_view footer =
      std::string_view(newer).substr(trailer - footer_size, footer_size);
  EncodeFixed32(newer.data() + trailer + 4, FooterChecksum(footer, 2, 0));
  EncodeFixed32(newer.data() + trailer + 8, 2);
  absl::Status status = ReadEverything(newer);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("version 2 is newer"));
}

TEST_F(BlockCorruptionTest, DataFileShorterThanMetaSaysIsDataLoss) {
  WriteBlock(1);
  const std::string path = JoinPath(block_dir_, "data");
  ASSERT_TRUE(Env::Default()->TruncateFile(path, data_.size() - 100).ok());
  absl::StatusOr<std::unique_ptr<BlockReader>> reader =
      BlockReader::Open(*Env::Default(), block_dir_);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(reader.status().message(), HasSubstr("truncated"));
}

TEST_F(BlockCorruptionTest, DataFileOfAnotherBlockIsDataLoss) {
  WriteBlock(1);
  const std::string first_dir = block_dir_;
  TraceSet other;
  ASSERT_TRUE(other.AddRequest(testdata::RealisticRequest({}, 1)).ok());
  absl::StatusOr<BlockMeta> meta = WriteTraceSet(*Env::Default(), dir_.path(), other);
  ASSERT_TRUE(meta.ok());
  const std::string second_dir = JoinPath(dir_.path(), meta->block_id.ToHex());
  // Same size, so only the identity checks can tell.
  ASSERT_TRUE(Env::Default()
                  ->RenameFile(JoinPath(second_dir, "meta.json"), JoinPath(first_dir, "meta.json"))
                  .ok());
  absl::StatusOr<std::unique_ptr<BlockReader>> reader =
      BlockReader::Open(*Env::Default(), first_dir);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss) << reader.status();
}

TEST_F(BlockCorruptionTest, DamagedRowGroupFailsOnlyItsLookups) {
  WriteBlock(2);
  const std::unique_ptr<BlockReader> clean = OpenData(data_);
  ASSERT_NE(clean, nullptr);
  const RowGroupInfo rg = clean->footer().row_groups[3];
  const std::unique_ptr<BlockReader> reader = OpenData(WithRowGroupDamaged(rg));
  ASSERT_NE(reader, nullptr);
  int damaged = 0;
  for (const auto& [id, spans] : set_.traces) {
    absl::StatusOr<std::optional<FoundTrace>> found = reader->FindTrace(id);
    const bool in_group = !(id < rg.first_trace) && !(rg.last_trace < id);
    if (in_group) {
      ++damaged;
      EXPECT_EQ(found.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(found.status().message(), HasSubstr("offset"));
    } else {
      ASSERT_TRUE(found.ok()) << found.status();
      EXPECT_TRUE(found->has_value());
    }
  }
  EXPECT_GT(damaged, 0);
  EXPECT_EQ(reader->Verify().code(), absl::StatusCode::kDataLoss);
}

// Told to go on past damage, a lookup lists the damaged row group as unread (with its
// DataLoss) and keeps what the others hold; a row group the caller skips is listed too.
TEST_F(BlockCorruptionTest, LookupGoingOnPastDamageListsTheUnreadRowGroup) {
  WriteBlock(2);
  const std::unique_ptr<BlockReader> clean = OpenData(data_);
  ASSERT_NE(clean, nullptr);
  const RowGroupInfo rg = clean->footer().row_groups[3];
  const std::unique_ptr<BlockReader> reader = OpenData(WithRowGroupDamaged(rg));
  ASSERT_NE(reader, nullptr);
  FindTraceOptions go_on;
  go_on.continue_past_damage = true;
  FindTraceOptions skip_5;
  skip_5.skip = [](size_t index) {
    return index == 5 ? absl::DataLossError("known damaged") : absl::OkStatus();
  };
  const RowGroupInfo skipped = clean->footer().row_groups[5];
  auto in = [](const otlp::TraceId& id, const RowGroupInfo& g) {
    return !(id < g.first_trace) && !(g.last_trace < id);
  };
  int unread = 0;
  for (const auto& [id, spans] : set_.traces) {
    absl::StatusOr<std::optional<FoundTrace>> found = reader->FindTrace(id, go_on);
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_TRUE(found->has_value());
    if (in(id, rg)) {
      ++unread;
      ASSERT_EQ((*found)->unread.size(), 1u);
      EXPECT_EQ((*found)->unread[0].index, 3u);
      EXPECT_EQ((*found)->unread[0].error.code(), absl::StatusCode::kDataLoss);
      // Whatever came from an intact neighbour is a well-formed batch of the trace.
      EXPECT_EQ(otlp::testutil::BatchInvariantViolation((*found)->spans), "");
      EXPECT_LT((*found)->spans.spans.size(), spans.size());
    } else {
      EXPECT_TRUE((*found)->unread.empty());
      EXPECT_EQ((*found)->spans.spans.size(), spans.size());
    }
    absl::StatusOr<std::optional<FoundTrace>> from_clean = clean->FindTrace(id, skip_5);
    ASSERT_TRUE(from_clean.ok()) << from_clean.status();
    ASSERT_TRUE(from_clean->has_value());
    EXPECT_EQ((*from_clean)->unread.size(), in(id, skipped) ? 1u : 0u);
  }
  EXPECT_GT(unread, 0);
}

// The statistics must agree with the footer on every row group's counts: a section that
// passes its checksum but describes other row groups is damage, found when it is read.
TEST_F(BlockCorruptionTest, StatisticsThatDisagreeWithTheFooterAreDataLoss) {
  WriteBlock(1);
  absl::StatusOr<std::unique_ptr<BlockReader>> clean =
      BlockReader::OpenFile(NewStringRandomAccessFile(data_, kName));
  ASSERT_TRUE(clean.ok());
  ASSERT_TRUE((*clean)->ReadStats().ok());
  // One more trace segment in the footer's entry for row group 0 (span count, segment
  // count, first trace ID), which the footer's own checks allow; its checksum is off.
  const RowGroupInfo& rg = (*clean)->footer().row_groups[0];
  std::string entry, changed;
  PutVarint64(&entry, rg.span_count);
  PutVarint64(&changed, rg.span_count);
  PutVarint64(&entry, rg.trace_count);
  PutVarint64(&changed, rg.trace_count + 1);
  ASSERT_EQ(entry.size(), changed.size());
  const std::string first(reinterpret_cast<const char*>(rg.first_trace.data()), 16);
  const size_t at = data_.find(entry + first, (*clean)->footer().bloom.offset);
  ASSERT_NE(at, std::string::npos);
  std::string bad = data_;
  bad.replace(at, changed.size(), changed);
  BlockReaderOptions unchecked;
  unchecked.verify_checksums = false;
  absl::StatusOr<std::unique_ptr<BlockReader>> reader =
      BlockReader::OpenFile(NewStringRandomAccessFile(bad, kName), unchecked);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->footer().row_groups[0].trace_count, rg.trace_count + 1);
  const absl::Status status = (*reader)->ReadStats().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("differ from the footer"));
}

// With checksums off and pages uncompressed, random damage reaches the structural checks:
// nothing may crash, and whatever opens must decode to valid batches or fail cleanly.
TEST_F(BlockCorruptionTest, RandomDamageBehindTheChecksumsNeverCrashes) {
  BlockWriterOptions options;
  options.compress = false;
  options.spans_per_row_group = 40;
  testdata::GeneratorOptions data;
  data.traces_per_request = 12;
  ASSERT_TRUE(set_.AddRequest(testdata::RealisticRequest(data, 100)).ok());
  ASSERT_TRUE(set_.AddRequest(EveryFieldLikeRequest()).ok());
  WriteBlock(0, options);
  BlockReaderOptions reader_options;
  reader_options.verify_checksums = false;
  reader_options.max_page_bytes = 1 << 24;
  ASSERT_TRUE(ReadEverything(data_, reader_options).ok());
  // STRAND_BLOCK_DAMAGE_ROUNDS and _SEED run it longer or differently (soak testing).
  const char* rounds_env = std::getenv("STRAND_BLOCK_DAMAGE_ROUNDS");
  const char* seed_env = std::getenv("STRAND_BLOCK_DAMAGE_SEED");
  const int kRounds = rounds_env != nullptr ? std::atoi(rounds_env) : 2000;
  std::mt19937_64 rng(seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : 12345);
  int failures = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string bad = data_;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % bad.size();
      switch (rng() % 3) {
        case 0:
          bad[at] = static_cast<char>(rng());
          break;
        case 1:
          bad[at] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 2:
          bad[at] = static_cast<char>(rng() % 2 ? 0 : 0xff);
          break;
      }
    }
    absl::Status status = ReadEverything(bad, reader_options);
    if (!status.ok()) {
      ++failures;
      EXPECT_THAT(status.code(), ::testing::AnyOf(absl::StatusCode::kDataLoss,
                                                  absl::StatusCode::kFailedPrecondition))
          << status;
    }
  }
  EXPECT_GT(failures, kRounds / 10);
}

}  // namespace
}  // namespace strand::block

namespace strand::block {
namespace {

// Counts in a section size allocations before their entries are read; a count that the
// section's bytes cannot hold is damage, found before anything is allocated for it (a
// hand-made block with valid checksums must not be able to ask for gigabytes).
TEST(SectionCountTest, StatsCountBeyondWhatTheBytesHoldIsDataLoss) {
  std::string raw;
  PutVarint64(&raw, 1'000);      // 1,000 row groups claimed...
  raw.append(1'000 * 10, '\0');  // ...in 10 bytes each, where an entry takes at least 56
  absl::StatusOr<BlockStats> stats = BlockStats::Decode(raw, "data", 100);
  ASSERT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(stats.status().message(), ::testing::HasSubstr("stats: bad count"));
}

TEST(SectionCountTest, TablesCountBeyondWhatTheBytesHoldIsDataLoss) {
  std::string raw;
  PutVarint64(&raw, 1'000);  // resources
  raw.append(1'000, '\0');   // an entry takes at least 4 bytes
  absl::StatusOr<BlockTables> tables = BlockTables::Parse(std::move(raw), "data", 100);
  ASSERT_EQ(tables.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(tables.status().message(), ::testing::HasSubstr("bad resource count"));
}

}  // namespace
}  // namespace strand::block
