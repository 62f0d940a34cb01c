// Writes blocks with BlockWriter and reads them back with BlockReader: every field of
// every span must survive, traces come back whole (also when split across row groups),
// absent traces are not found, and scans, statistics and verification see the same data.
#include <cmath>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "block/block_writer.h"
#include "common/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::block {
namespace {

namespace pb = ::opentelemetry::proto;
using testdata::CanonicalSpans;
using testdata::TraceSet;
using ::testing::ElementsAre;
using ::testing::Gt;
using ::testing::Le;
using testing::TempDir;
using testing::WriteTraceSet;

std::string Id(uint8_t first, size_t n) {
  std::string id(n, '\x11');
  id[0] = static_cast<char>(first);
  return id;
}

void SetAttr(pb::common::v1::KeyValue* kv, std::string key, int variant, int depth = 0);

void SetValue(pb::common::v1::AnyValue* v, int variant, int depth) {
  switch (variant % 9) {
    case 0:
      v->set_string_value("GET /api/ünïcode \"quoted\"\n");
      break;
    case 1:
      v->set_bool_value(variant % 2 == 0);
      break;
    case 2:
      v->set_int_value(variant % 4 == 0 ? INT64_MIN : -1234567890123LL);
      break;
    case 3:
      v->set_double_value(variant % 3 == 0 ? NAN : (variant % 5 == 0 ? -0.0 : 3.25e-300));
      break;
    case 4:
      v->set_bytes_value(std::string("\x00\xff\x01 bytes", 9));
      break;
    case 5: {
      auto* array = v->mutable_array_value();
      if (depth < 3) {
        for (int i = 0; i < 4; ++i) SetValue(array->add_values(), variant + i + 1, depth + 1);
      }
      array->add_values();  // an element with no value set
      break;
    }
    case 6: {
      auto* list = v->mutable_kvlist_value();
      if (depth < 3) {
        for (int i = 0; i < 3; ++i) {
          SetAttr(list->add_values(), absl::StrCat("nested.", i), variant + i + 2, depth + 1);
        }
      }
      break;
    }
    case 7:
      v->set_string_value("");
      break;
    case 8:
      break;  // AnyValue present, nothing set
  }
}

void SetAttr(pb::common::v1::KeyValue* kv, std::string key, int variant, int depth) {
  kv->set_key(std::move(key));
  if (variant % 11 == 10) return;  // no value at all
  SetValue(kv->mutable_value(), variant, depth);
}

void AddAttrs(google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* attrs, int n,
              int seed) {
  for (int i = 0; i < n; ++i) SetAttr(attrs->Add(), absl::StrCat("k", (seed + i) % 7), seed + i);
}

// A request that uses every field of the OTLP trace model, with awkward values.
pb::collector::trace::v1::ExportTraceServiceRequest EveryFieldRequest() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  for (int r = 0; r < 3; ++r) {
    auto* rs = req.add_resource_spans();
    if (r != 2) {
      AddAttrs(rs->mutable_resource()->mutable_attributes(), 5 + r, r * 3);
      rs->mutable_resource()->set_dropped_attributes_count(r);
      rs->set_schema_url(absl::StrCat("https://opentelemetry.io/schemas/1.2", r, ".0"));
    }
    for (int s = 0; s < 2; ++s) {
      auto* ss = rs->add_scope_spans();
      if (s == 0) {
        ss->mutable_scope()->set_name(absl::StrCat("scope-", r));
        ss->mutable_scope()->set_version("1.2.3");
        AddAttrs(ss->mutable_scope()->mutable_attributes(), 3, r + s);
        ss->mutable_scope()->set_dropped_attributes_count(7);
        ss->set_schema_url("https://example.com/scope-schema");
      }
      for (int n = 0; n < 6; ++n) {
        const int k = r * 100 + s * 10 + n;
        auto* span = ss->add_spans();
        span->set_trace_id(Id(static_cast<uint8_t>(1 + n % 3), 16));
        span->set_span_id(Id(static_cast<uint8_t>(k % 251 + 1), 8));
        if (n % 3 != 0) span->set_parent_span_id(Id(static_cast<uint8_t>((k - 1) % 251 + 1), 8));
        if (n == 5) span->set_parent_span_id(std::string(8, '\0'));  // all-zero parent
        if (k % 2 == 0) span->set_trace_state("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        span->set_name(n == 4 ? "" : absl::StrCat("span ", k % 4));
        span->set_kind(static_cast<pb::trace::v1::Span::SpanKind>(k % 7));  // 6: unknown
        span->set_start_time_unix_nano(1'700'000'000'000'000'000ULL + 1000ULL * k);
        // End before start and extreme values must survive too.
        span->set_end_time_unix_nano(
            n == 2 ? 5 : (n == 3 ? UINT64_MAX : 1'700'000'000'000'000'000ULL + 5000ULL * k));
        AddAttrs(span->mutable_attributes(), k % 12, k);
        span->set_dropped_attributes_count(k % 3);
        for (int e = 0; e < k % 3; ++e) {
          auto* ev = span->add_events();
          ev->set_time_unix_nano(e == 1 ? 0 : 1'700'000'000'000'000'000ULL + 1000ULL * k + 7);
          ev->set_name(absl::StrCat("event-", e));
          AddAttrs(ev->mutable_attributes(), e + 1, k + e);
          ev->set_dropped_attributes_count(e);
        }
        span->set_dropped_events_count(k % 5);
        for (int l = 0; l < k % 2 + (n == 1 ? 2 : 0); ++l) {
          auto* link = span->add_links();
          link->set_trace_id(Id(static_cast<uint8_t>(200 + l), 16));
          link->set_span_id(Id(static_cast<uint8_t>(100 + l), 8));
          if (l == 0) link->set_trace_state("k=v");
          AddAttrs(link->mutable_attributes(), l + 1, k * 3 + l);
          link->set_dropped_attributes_count(l);
          link->set_flags(l == 0 ? 0x301 : 0);
        }
        span->set_dropped_links_count(k % 4);
        if (k % 4 != 0) {
          span->mutable_status()->set_code(static_cast<pb::trace::v1::Status::StatusCode>(k % 4));
          if (k % 4 == 2) span->mutable_status()->set_message("boom: \x01 control");
        }
        span->set_flags(k % 5 == 0 ? 0 : 0x100 + k);
      }
    }
  }
  return req;
}

class BlockRoundTripTest : public ::testing::Test {
 protected:
  // Writes `set` and opens the block.
  std::unique_ptr<BlockReader> WriteAndOpen(const TraceSet& set, BlockWriterOptions options = {}) {
    absl::StatusOr<BlockMeta> meta = WriteTraceSet(*Env::Default(), dir_.path(), set, options);
    EXPECT_TRUE(meta.ok()) << meta.status();
    if (!meta.ok()) return nullptr;
    meta_ = *meta;
    absl::StatusOr<std::unique_ptr<BlockReader>> reader =
        BlockReader::Open(*Env::Default(), JoinPath(dir_.path(), meta->block_id.ToHex()));
    EXPECT_TRUE(reader.ok()) << reader.status();
    return reader.ok() ? std::move(*reader) : nullptr;
  }

  // Four realistic requests and the every-field one, in row groups of 700 spans, for the
  // column-access tests.
  std::unique_ptr<BlockReader> WriteMixedBlock() {
    TraceSet set;
    testdata::GeneratorOptions options;
    for (uint64_t i = 0; i < 4; ++i) {
      EXPECT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
    }
    EXPECT_TRUE(set.AddRequest(EveryFieldRequest()).ok());
    BlockWriterOptions writer_options;
    writer_options.spans_per_row_group = 700;
    return WriteAndOpen(set, writer_options);
  }

  // Every trace of `set` comes back from FindTrace with exactly its spans.
  void ExpectEveryTraceFound(const BlockReader& reader, const TraceSet& set) {
    for (const auto& [id, spans] : set.traces) {
      absl::StatusOr<std::optional<FoundTrace>> found = reader.FindTrace(id);
      ASSERT_TRUE(found.ok()) << found.status();
      ASSERT_TRUE(found->has_value());
      EXPECT_EQ(CanonicalSpans((*found)->spans), CanonicalSpans(spans));
    }
  }

  TempDir dir_;
  BlockMeta meta_;
};

TEST_F(BlockRoundTripTest, EveryFieldOfEverySpanRoundTrips) {
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(EveryFieldRequest()).ok());
  ASSERT_EQ(set.traces.size(), 3u);
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  ExpectEveryTraceFound(*reader, set);
  EXPECT_TRUE(reader->Verify().ok());
}

TEST_F(BlockRoundTripTest, ComparisonNoticesAChangedValue) {
  // Guards the other tests against comparing nothing.
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(EveryFieldRequest()).ok());
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  const auto& [id, spans] = *set.traces.begin();
  absl::StatusOr<std::optional<FoundTrace>> found = reader->FindTrace(id);
  ASSERT_TRUE(found.ok() && found->has_value());
  otlp::SpanBatch& batch = (*found)->spans;
  EXPECT_EQ(CanonicalSpans(batch).size(), spans.size());
  EXPECT_EQ(CanonicalSpans(batch), CanonicalSpans(spans));
  batch.spans.back().end_time_unix_nano ^= 1;
  EXPECT_NE(CanonicalSpans(batch), CanonicalSpans(spans));
  batch.spans.back().end_time_unix_nano ^= 1;
  ASSERT_FALSE(batch.attributes.empty());
  batch.attributes.back().key = "changed";
  EXPECT_NE(CanonicalSpans(batch), CanonicalSpans(spans));
}

TEST_F(BlockRoundTripTest, EveryFieldRoundTripsWithOneSpanPerRowGroup) {
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(EveryFieldRequest()).ok());
  BlockWriterOptions options;
  options.spans_per_row_group = 1;
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set, options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->num_row_groups(), set.span_count);
  ExpectEveryTraceFound(*reader, set);
  EXPECT_TRUE(reader->Verify().ok());
}

TEST_F(BlockRoundTripTest, RealisticTracesRoundTrip) {
  TraceSet set;
  testdata::GeneratorOptions options;
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
  }
  ASSERT_EQ(set.span_count, 8u * 50 * 10);
  BlockWriterOptions writer_options;
  writer_options.spans_per_row_group = 1000;
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set, writer_options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->num_row_groups(), 4u);
  ExpectEveryTraceFound(*reader, set);
  EXPECT_EQ(meta_.span_count, set.span_count);
  EXPECT_EQ(meta_.trace_count, set.traces.size());
}

TEST_F(BlockRoundTripTest, ColumnAccessAgreesWithDecodedSpans) {
  // The search prefilter reads single columns; they must say what full decoding says.
  std::unique_ptr<BlockReader> reader = WriteMixedBlock();
  ASSERT_NE(reader, nullptr);
  absl::StatusOr<BlockTables> tables = reader->ReadTables();
  ASSERT_TRUE(tables.ok());
  size_t attribute_values = 0;
  for (size_t g = 0; g < reader->num_row_groups(); ++g) {
    absl::StatusOr<std::unique_ptr<RowGroupDecoder>> rg = reader->OpenRowGroup(g);
    ASSERT_TRUE(rg.ok()) << rg.status();
    auto durations = (*rg)->SpanVarints(ColumnId::kSpanDuration);
    auto kinds = (*rg)->SpanVarints(ColumnId::kSpanKind);
    auto names = (*rg)->SpanStrings(ColumnId::kSpanName);
    ASSERT_TRUE(durations.ok() && kinds.ok() && names.ok());
    EXPECT_FALSE((*rg)->SpanVarints(ColumnId::kSpanName).ok()) << "not a varint column";
    // Every (row, key, value) of the span attributes, by column...
    std::set<std::tuple<uint32_t, std::string, std::string>> from_columns;
    std::set<std::string> keys;
    absl::StatusOr<RowGroupData> data = BlockReader::DecodeRowGroup(**rg, *tables);
    ASSERT_TRUE(data.ok()) << data.status();
    // The lazily opened row group decodes to what reading it whole does.
    absl::StatusOr<RowGroupData> eager = reader->ReadRowGroup(g, *tables);
    ASSERT_TRUE(eager.ok()) << eager.status();
    EXPECT_EQ(CanonicalSpans(data->batch), CanonicalSpans(eager->batch));
    const otlp::SpanBatch& b = data->batch;
    for (const auto& kv : b.attributes) keys.insert(std::string(kv.key));
    auto text = [](otlp::ValueType type, int64_t i, double d, bool flag, std::string_view s) {
      switch (type) {
        case otlp::ValueType::kString:
          return "s:" + std::string(s);
        case otlp::ValueType::kInt:
          return "i:" + std::to_string(i);
        case otlp::ValueType::kDouble:
          return "d:" + std::to_string(d);
        case otlp::ValueType::kBool:
          return std::string(flag ? "b:1" : "b:0");
        default:
          return "t:" + std::to_string(static_cast<int>(type));
      }
    };
    for (const std::string& key : keys) {
      ASSERT_TRUE(
          (*rg)
              ->ForEachSpanAttribute(
                  key,
                  [&](uint32_t row, const auto& v) {
                    from_columns.insert(
                        {row, key, text(v.type, v.int_value, v.double_value, v.bool_value, v.str)});
                  })
              .ok());
    }
    // ...and by decoding.
    std::set<std::tuple<uint32_t, std::string, std::string>> decoded;
    ASSERT_EQ(durations->size(), b.spans.size());
    for (uint32_t row = 0; row < b.spans.size(); ++row) {
      const otlp::Span& s = b.spans[row];
      EXPECT_EQ((*durations)[row], s.end_time_unix_nano - s.start_time_unix_nano);
      EXPECT_EQ(ZigZagDecode((*kinds)[row]), s.kind);
      EXPECT_EQ((*names)[row], s.name);
      for (uint32_t a = s.attributes.begin; a < s.attributes.end; ++a) {
        const otlp::AnyValue& v = b.attributes[a].value;
        decoded.insert({row, std::string(b.attributes[a].key),
                        text(v.type, v.int_value, v.double_value, v.bool_value, v.str)});
      }
    }
    EXPECT_EQ(from_columns, decoded);
    attribute_values += decoded.size();
    EXPECT_TRUE((*rg)
                    ->ForEachSpanAttribute(
                        "no such key",
                        [](uint32_t, const auto&) { ADD_FAILURE() << "a value of an absent key"; })
                    .ok());
  }
  EXPECT_GT(attribute_values, 1000u);
}

TEST_F(BlockRoundTripTest, SelectedSegmentsAndProjectedColumnsDecodeAsTheFullRowGroup) {
  std::unique_ptr<BlockReader> reader = WriteMixedBlock();
  ASSERT_NE(reader, nullptr);
  absl::StatusOr<BlockTables> tables = reader->ReadTables();
  ASSERT_TRUE(tables.ok());
  // A canonical text of the spans with only `keys` among span attributes, and events and
  // links dropped unless `with_events_links`.
  auto project = [](const otlp::SpanBatch& b, const std::vector<std::string>& keys,
                    bool with_events_links) {
    otlp::SpanBatch copy;
    std::vector<std::string> out;
    for (const otlp::Span& s : b.spans) {
      std::string line =
          absl::StrCat(HexEncode(otlp::IdBytes(s.span_id)), " ", std::string(s.name), " ",
                       s.start_time_unix_nano, " ", s.end_time_unix_nano, " ", s.kind, " ",
                       s.status_code, " ", std::string(s.status_message));
      for (uint32_t a = s.attributes.begin; a < s.attributes.end; ++a) {
        const auto& kv = b.attributes[a];
        if (std::find(keys.begin(), keys.end(), kv.key) == keys.end()) continue;
        absl::StrAppend(&line, " ", std::string(kv.key), "=", static_cast<int>(kv.value.type), ":",
                        std::string(kv.value.str), kv.value.int_value);
      }
      if (with_events_links) absl::StrAppend(&line, " e", s.events.size(), " l", s.links.size());
      out.push_back(line);
    }
    return out;
  };
  const std::vector<std::string> keys = {"http.method", "http.status_code", "no.such.key"};
  for (size_t g = 0; g < reader->num_row_groups(); ++g) {
    absl::StatusOr<std::unique_ptr<RowGroupDecoder>> full = reader->OpenRowGroup(g);
    absl::StatusOr<std::unique_ptr<RowGroupDecoder>> part = reader->OpenRowGroup(g);
    ASSERT_TRUE(full.ok() && part.ok());
    const uint32_t n = (*full)->num_traces();
    otlp::SpanBatch all;
    auto map = tables->NewBatchMap();
    ASSERT_TRUE((*full)->DecodeTraces(0, n, *tables, map, all).ok());
    // Every third segment, projected.
    std::vector<char> pick(n, 0);
    otlp::SpanBatch expected_spans;
    std::vector<std::string> expected;
    const auto all_lines = project(all, keys, false);
    for (uint32_t i = 0; i < n; i += 3) {
      pick[i] = 1;
      for (uint32_t r = (*full)->first_row(i); r < (*full)->first_row(i) + (*full)->row_count(i);
           ++r) {
        expected.push_back(all_lines[r]);
      }
    }
    RowGroupDecoder::DecodeOptions opts;
    opts.segments = &pick;
    opts.span_attribute_keys = &keys;
    opts.events = false;
    opts.links = false;
    otlp::SpanBatch some;
    auto map2 = tables->NewBatchMap();
    absl::Status st = (*part)->DecodeTraces(0, n, *tables, map2, some, opts);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(project(some, keys, false), expected) << "row group " << g;
    EXPECT_TRUE(some.events.empty() && some.links.empty());
    // Events and links asked for: the same counts as the full decode.
    opts.events = opts.links = true;
    otlp::SpanBatch with;
    auto map3 = tables->NewBatchMap();
    absl::StatusOr<std::unique_ptr<RowGroupDecoder>> again = reader->OpenRowGroup(g);
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE((*again)->DecodeTraces(0, n, *tables, map3, with, opts).ok());
    std::vector<std::string> expected_el;
    const auto all_el = project(all, keys, true);
    for (uint32_t i = 0; i < n; i += 3) {
      for (uint32_t r = (*full)->first_row(i); r < (*full)->first_row(i) + (*full)->row_count(i);
           ++r) {
        expected_el.push_back(all_el[r]);
      }
    }
    EXPECT_EQ(project(with, keys, true), expected_el) << "row group " << g;
  }
}

TEST_F(BlockRoundTripTest, TracesSpanningRowGroupsComeBackWhole) {
  TraceSet set;
  testdata::GeneratorOptions options;
  options.traces_per_request = 20;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, 0)).ok());
  options.spans_per_trace = 95;  // traces far larger than a row group
  options.traces_per_request = 3;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, 1)).ok());
  BlockWriterOptions writer_options;
  writer_options.spans_per_row_group = 7;
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set, writer_options);
  ASSERT_NE(reader, nullptr);
  ExpectEveryTraceFound(*reader, set);
  size_t multi = 0;
  for (const auto& [id, spans] : set.traces) {
    absl::StatusOr<std::optional<FoundTrace>> found = reader->FindTrace(id);
    ASSERT_TRUE(found.ok() && found->has_value());
    if ((*found)->row_groups_read > 1) ++multi;
    EXPECT_THAT((*found)->row_groups_read, Le(spans.size() / 7 + 2));
  }
  EXPECT_THAT(multi, Gt(20u));
  EXPECT_TRUE(reader->Verify().ok());
}

TEST_F(BlockRoundTripTest, TraceFromSeveralBatchesComesBackWhole) {
  // One trace whose spans arrived in three requests with different resources.
  TraceSet set;
  pb::collector::trace::v1::ExportTraceServiceRequest full = EveryFieldRequest();
  for (int r = 0; r < full.resource_spans_size(); ++r) {
    pb::collector::trace::v1::ExportTraceServiceRequest one;
    *one.add_resource_spans() = full.resource_spans(r);
    ASSERT_TRUE(set.AddRequest(one).ok());
  }
  ASSERT_EQ(set.batches.size(), 3u);
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  ExpectEveryTraceFound(*reader, set);
}

TEST_F(BlockRoundTripTest, AbsentTraceIsNotFound) {
  TraceSet set;
  testdata::GeneratorOptions options;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, 0)).ok());
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  // IDs inside the block's range (between two stored IDs) and outside it.
  otlp::TraceId between = set.traces.begin()->first;
  between[15] ^= 1;
  for (const otlp::TraceId& id : {between, otlp::TraceId{}, otlp::TraceId{0xff, 0xff}}) {
    absl::StatusOr<std::optional<FoundTrace>> found = reader->FindTrace(id);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_FALSE(found->has_value());
  }
}

// The traces of `requests` realistic requests (50 traces each).
TraceSet RealisticSet(uint64_t requests) {
  TraceSet set;
  testdata::GeneratorOptions options;
  for (uint64_t i = 0; i < requests; ++i) {
    EXPECT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
  }
  return set;
}

TEST_F(BlockRoundTripTest, BloomFilterRejectsAlmostAllAbsentIds) {
  const TraceSet set = RealisticSet(20);
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  std::mt19937_64 rng(7);
  int positives = 0;
  constexpr int kProbes = 20000;
  for (int i = 0; i < kProbes; ++i) {
    otlp::TraceId id;
    for (auto& b : id) b = static_cast<uint8_t>(rng());
    if (reader->MayContain(id)) ++positives;
  }
  EXPECT_LT(positives, kProbes * 2 / 100);  // target 1%
  for (const auto& [id, spans] : set.traces) EXPECT_TRUE(reader->MayContain(id));
}

TEST_F(BlockRoundTripTest, BloomFilterProbedOnDiskAnswersLikeTheOneInMemory) {
  const TraceSet set = RealisticSet(20);
  std::unique_ptr<BlockReader> in_memory = WriteAndOpen(set);
  ASSERT_NE(in_memory, nullptr);
  BlockReaderOptions disk_options;
  disk_options.bloom_in_memory = false;
  absl::StatusOr<std::unique_ptr<BlockReader>> on_disk = BlockReader::Open(
      *Env::Default(), JoinPath(dir_.path(), meta_.block_id.ToHex()), disk_options);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    otlp::TraceId id;
    for (auto& b : id) b = static_cast<uint8_t>(rng());
    ASSERT_EQ((*on_disk)->MayContain(id), in_memory->MayContain(id));
  }
  for (const auto& [id, spans] : set.traces) EXPECT_TRUE((*on_disk)->MayContain(id));
  ExpectEveryTraceFound(**on_disk, set);
  // It holds the footer alone: the filter's bytes less than the in-memory reader.
  EXPECT_LE((*on_disk)->MemoryUsage() + meta_.bloom_bytes - 64, in_memory->MemoryUsage());
}

TEST_F(BlockRoundTripTest, ScanYieldsEverySpanOnceInTraceOrder) {
  TraceSet set;
  testdata::GeneratorOptions options;
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
  }
  ASSERT_TRUE(set.AddRequest(EveryFieldRequest()).ok());
  BlockWriterOptions writer_options;
  writer_options.spans_per_row_group = 333;
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set, writer_options);
  ASSERT_NE(reader, nullptr);

  std::map<otlp::TraceId, std::vector<std::string>> scanned;
  otlp::TraceId previous{};
  uint64_t spans = 0;
  absl::Status status = reader->Scan([&](RowGroupData&& rg) {
    for (const RowGroupData::Trace& t : rg.traces) {
      EXPECT_FALSE(t.id < previous);
      previous = t.id;
      std::vector<otlp::SpanRef> refs;
      uint64_t last_start = 0;
      for (uint32_t i = t.begin; i < t.end; ++i) {
        EXPECT_EQ(rg.batch.spans[i].trace_id, t.id);
        EXPECT_GE(rg.batch.spans[i].start_time_unix_nano, last_start);
        last_start = rg.batch.spans[i].start_time_unix_nano;
        refs.push_back({&rg.batch, i});
      }
      for (std::string& s : CanonicalSpans(refs)) scanned[t.id].push_back(std::move(s));
      spans += t.end - t.begin;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(spans, set.span_count);
  ASSERT_EQ(scanned.size(), set.traces.size());
  for (auto& [id, canon] : scanned) {
    std::sort(canon.begin(), canon.end());
    EXPECT_EQ(canon, CanonicalSpans(set.traces.at(id)));
  }
}

TEST_F(BlockRoundTripTest, StatisticsDescribeEachRowGroup) {
  TraceSet set;
  testdata::GeneratorOptions options;
  options.error_rate = 0;  // no failed spans: every http.status_code is 200
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
  }
  BlockWriterOptions writer_options;
  writer_options.spans_per_row_group = 500;
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set, writer_options);
  ASSERT_NE(reader, nullptr);
  absl::StatusOr<BlockStats> stats = reader->ReadStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->row_groups.size(), 4u);
  const RowGroupStats& rg = stats->row_groups[0];
  EXPECT_EQ(rg.span_count, 500u);
  EXPECT_TRUE(rg.service_names.complete);
  EXPECT_THAT(rg.service_names.values,
              ::testing::IsSupersetOf({"frontend", "productcatalog", "cart"}));
  EXPECT_THAT(rg.span_names.values, ::testing::Contains("POST /api/checkout"));
  EXPECT_THAT(rg.kinds, ::testing::IsSupersetOf({1, 2, 3}));
  EXPECT_THAT(rg.resource_keys.values, ::testing::Contains("k8s.pod.name"));
  EXPECT_LE(rg.min_start, rg.max_start);
  EXPECT_GE(rg.min_start, meta_.min_start_unix_nano);
  bool saw_status_code = false;
  for (const AttributeColumnStats& c : rg.columns) {
    if (c.owner == Owner::kSpan && c.key == "http.status_code") {
      saw_status_code = true;
      EXPECT_TRUE(c.has_range);
      EXPECT_EQ(c.min_int, 200);
      EXPECT_LE(c.max_int, 200);
    }
    if (c.owner == Owner::kSpan && c.key == "http.method") {
      EXPECT_TRUE(c.values.complete);
      EXPECT_THAT(c.values.values, ElementsAre("GET", "POST"));
    }
  }
  EXPECT_TRUE(saw_status_code);
}

TEST_F(BlockRoundTripTest, ParentsOutsideTheTraceAndClockSkewRoundTrip) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  const std::string trace = Id(9, 16);
  // A child that starts before its parent, a parent that is not in the block, and two
  // spans with the same ID.
  for (int i = 0; i < 5; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(trace);
    span->set_span_id(Id(static_cast<uint8_t>(i == 4 ? 3 : i + 1), 8));
    span->set_start_time_unix_nano(1000 - 100 * i);
    span->set_end_time_unix_nano(2000);
    if (i > 0) span->set_parent_span_id(Id(static_cast<uint8_t>(i), 8));
    if (i == 2) span->set_parent_span_id(Id(0x77, 8));
  }
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(req).ok());
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  ExpectEveryTraceFound(*reader, set);
  EXPECT_TRUE(reader->Verify().ok());
}

TEST_F(BlockRoundTripTest, MemoryHeldWhileOpenIsUnderOnePercentOfTheData) {
  TraceSet set;
  testdata::GeneratorOptions options;
  for (uint64_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest(options, i)).ok());
  }
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set);
  ASSERT_NE(reader, nullptr);
  EXPECT_LT(reader->MemoryUsage(), meta_.data_size / 100)
      << reader->MemoryUsage() << " bytes held for " << meta_.data_size << " on disk";
}

TEST_F(BlockRoundTripTest, MetaDescribesTheBlock) {
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest({}, 0)).ok());
  BlockWriterOptions options;
  options.block_id = BlockId::FromHex("00112233445566778899aabbccddeeff");
  FakeClock clock(1'234);
  options.clock = &clock;
  std::unique_ptr<BlockReader> reader = WriteAndOpen(set, options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(meta_.block_id.ToHex(), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(meta_.tenant, "single-tenant");
  EXPECT_EQ(meta_.created_unix_nano, 1'234);
  EXPECT_EQ(meta_.span_count, 500u);
  EXPECT_EQ(meta_.trace_count, 50u);
  EXPECT_EQ(meta_.row_group_count, 1u);
  uint64_t min_start = UINT64_MAX, max_start = 0;
  for (const auto& [id, spans] : set.traces) {
    for (const otlp::SpanRef& s : spans) {
      min_start = std::min(min_start, s.span().start_time_unix_nano);
      max_start = std::max(max_start, s.span().start_time_unix_nano);
    }
  }
  EXPECT_EQ(meta_.min_start_unix_nano, min_start);
  EXPECT_EQ(meta_.max_start_unix_nano, max_start);
  uint64_t total = 0;
  for (const auto& [name, size] : meta_.column_sizes) total += size;
  EXPECT_EQ(total, meta_.data_size);
  ASSERT_TRUE(reader->meta().has_value());
  EXPECT_EQ(*reader->meta(), meta_);
  std::string json;
  ASSERT_TRUE(
      Env::Default()
          ->ReadFileToString(JoinPath(JoinPath(dir_.path(), meta_.block_id.ToHex()), "meta.json"))
          .ok());
}

TEST(BlockWriterTest, RejectsTracesOutOfOrder) {
  TempDir dir;
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest({}, 0)).ok());
  auto writer = BlockWriter::Create(*Env::Default(), dir.path(), "t");
  ASSERT_TRUE(writer.ok());
  auto second = std::next(set.traces.begin());
  ASSERT_TRUE((*writer)->Add(second->first, second->second).ok());
  EXPECT_EQ((*writer)->Add(set.traces.begin()->first, set.traces.begin()->second).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Add(second->first, second->second).code(),
            absl::StatusCode::kInvalidArgument);
  // A refused trace does not poison the writer.
  auto third = std::next(second);
  EXPECT_TRUE((*writer)->Add(third->first, third->second).ok());
  EXPECT_TRUE((*writer)->Finish().ok());
}

TEST(BlockWriterTest, RejectsSpansOfAnotherTraceAndEmptyTraces) {
  TempDir dir;
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest({}, 0)).ok());
  auto writer = BlockWriter::Create(*Env::Default(), dir.path(), "t");
  ASSERT_TRUE(writer.ok());
  auto first = set.traces.begin();
  auto second = std::next(first);
  EXPECT_EQ((*writer)->Add(first->first, second->second).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Add(first->first, {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(BlockWriterTest, EmptyBlockIsNotPublished) {
  TempDir dir;
  auto writer = BlockWriter::Create(*Env::Default(), dir.path(), "t");
  ASSERT_TRUE(writer.ok());
  const std::string block_dir = (*writer)->dir();
  EXPECT_EQ((*writer)->Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(Env::Default()->FileExists(block_dir));
}

TEST(BlockWriterTest, AbandonedWriterLeavesNothing) {
  TempDir dir;
  TraceSet set;
  ASSERT_TRUE(set.AddRequest(testdata::RealisticRequest({}, 0)).ok());
  std::string block_dir;
  {
    auto writer = BlockWriter::Create(*Env::Default(), dir.path(), "t");
    ASSERT_TRUE(writer.ok());
    block_dir = (*writer)->dir();
    ASSERT_TRUE((*writer)->Add(set.traces.begin()->first, set.traces.begin()->second).ok());
  }
  EXPECT_FALSE(Env::Default()->FileExists(block_dir));
  auto children = Env::Default()->GetChildren(dir.path());
  ASSERT_TRUE(children.ok());
  EXPECT_TRUE(children->empty());
}

TEST(BlockWriterTest, RefusesAnExistingBlockDirectory) {
  TempDir dir;
  BlockWriterOptions options;
  options.block_id = BlockId::FromHex("00000000000000000000000000000001");
  ASSERT_TRUE(Env::Default()->CreateDirs(JoinPath(dir.path(), options.block_id->ToHex())).ok());
  EXPECT_EQ(BlockWriter::Create(*Env::Default(), dir.path(), "t", options).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Env::Default()->FileExists(JoinPath(dir.path(), options.block_id->ToHex())));
}

}  // namespace
}  // namespace strand::block
