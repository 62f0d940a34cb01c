// CompactBlocks: disjoint and overlapping inputs come out whole and de-duplicated (also
// when traces are split across row groups and blocks), the output's metadata is right,
// and damaged inputs or failing I/O publish nothing and leave no output behind.
#include "block/block_compactor.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "common/fault_injection_env.h"
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
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteTraceSet;

constexpr char kTenant[] = "tenant-a";

// Canonical spans per trace, each trace's sorted.
using TraceContents = std::map<otlp::TraceId, std::vector<std::string>>;

TraceContents Contents(const TraceSet& set) {
  TraceContents out;
  for (const auto& [id, spans] : set.traces) out[id] = CanonicalSpans(spans);
  return out;
}

// Equal contents, or a short account of the difference (gtest would print every span).
::testing::AssertionResult SameTraces(const TraceContents& actual, const TraceContents& expected) {
  size_t missing = 0, extra = 0, different = 0;
  for (const auto& [id, spans] : expected) {
    auto it = actual.find(id);
    if (it == actual.end()) {
      ++missing;
    } else if (it->second != spans) {
      ++different;
    }
  }
  for (const auto& [id, spans] : actual) extra += expected.count(id) == 0;
  if (missing + extra + different == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << expected.size() << " traces expected, " << actual.size() << " found: " << missing
         << " missing, " << extra << " unexpected, " << different << " with other spans";
}

// The spans of `set` for which `take(trace index, span index in the trace)` holds; the
// result points into `set`'s batches.
TraceSet Part(const TraceSet& set, const std::function<bool(size_t trace, size_t span)>& take) {
  TraceSet part;
  size_t trace = 0;
  for (const auto& [id, spans] : set.traces) {
    for (size_t i = 0; i < spans.size(); ++i) {
      if (take(trace, i)) part.traces[id].push_back(spans[i]);
    }
    ++trace;
  }
  for (const auto& [id, spans] : part.traces) part.span_count += spans.size();
  return part;
}

class BlockCompactorTest : public ::testing::Test {
 protected:
  void SetUp() override { tenant_dir_ = JoinPath(dir_.path(), kTenant); }

  // Adds `n` realistic requests (50 traces of 10 spans each) to all_.
  void Generate(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(all_.AddRequest(testdata::RealisticRequest({}, static_cast<uint64_t>(i))).ok());
    }
  }

  // Writes `set` as a block of kTenant and opens it as the next input.
  const BlockReader* AddInput(const TraceSet& set, BlockWriterOptions options = {}) {
    absl::StatusOr<BlockMeta> meta =
        WriteTraceSet(*Env::Default(), tenant_dir_, set, std::move(options), kTenant);
    EXPECT_TRUE(meta.ok()) << meta.status();
    if (!meta.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<BlockReader>> reader =
        BlockReader::Open(*Env::Default(), JoinPath(tenant_dir_, meta->block_id.ToHex()));
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return nullptr;
    readers_.push_back(std::move(*reader));
    return readers_.back().get();
  }

  std::vector<const BlockReader*> Inputs() const {
    std::vector<const BlockReader*> inputs;
    for (const auto& r : readers_) inputs.push_back(r.get());
    return inputs;
  }

  absl::StatusOr<CompactResult> Compact(CompactOptions options = {}, Env* env = Env::Default()) {
    const std::vector<const BlockReader*> inputs = Inputs();
    return CompactBlocks(*env, inputs, tenant_dir_, kTenant, std::move(options));
  }

  // Opens and verifies the output block and returns its traces, checking that the scan
  // sees them in strictly ascending order with every span carrying its trace's ID.
  TraceContents ReadOutput(const BlockMeta& meta) {
    absl::StatusOr<std::unique_ptr<BlockReader>> reader =
        BlockReader::Open(*Env::Default(), JoinPath(tenant_dir_, meta.block_id.ToHex()));
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    EXPECT_TRUE((*reader)->Verify().ok());
    EXPECT_EQ((*reader)->meta(), meta);
    TraceContents out;
    std::optional<otlp::TraceId> last;
    absl::Status status = (*reader)->Scan([&](RowGroupData&& rg) {
      for (const RowGroupData::Trace& trace : rg.traces) {
        // Only a row group's first trace may continue the previous group's last.
        EXPECT_TRUE(!last.has_value() || *last < trace.id ||
                    (*last == trace.id && &trace == &rg.traces.front()));
        last = trace.id;
        std::vector<otlp::SpanRef> refs;
        for (uint32_t i = trace.begin; i < trace.end; ++i) refs.push_back({&rg.batch, i});
        std::vector<std::string> spans = CanonicalSpans(refs);
        std::vector<std::string>& all = out[trace.id];
        all.insert(all.end(), spans.begin(), spans.end());
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    for (auto& [id, spans] : out) std::sort(spans.begin(), spans.end());
    return out;
  }

  // Names of the directories under the tenant directory.
  std::set<std::string> BlockDirs() const {
    absl::StatusOr<std::vector<std::string>> children = Env::Default()->GetChildren(tenant_dir_);
    EXPECT_TRUE(children.ok());
    return children.ok() ? std::set<std::string>(children->begin(), children->end())
                         : std::set<std::string>();
  }
  std::set<std::string> InputDirs() const {
    std::set<std::string> dirs;
    for (const auto& r : readers_) dirs.insert(r->meta()->block_id.ToHex());
    return dirs;
  }

  TempDir dir_;
  std::string tenant_dir_;
  TraceSet all_;
  std::vector<std::unique_ptr<BlockReader>> readers_;
};

TEST_F(BlockCompactorTest, DisjointBlocksKeepEverySpan) {
  Generate(6);
  BlockWriterOptions small;
  small.spans_per_row_group = 200;  // five row groups per input
  for (size_t b = 0; b < 3; ++b) {
    ASSERT_NE(AddInput(Part(all_, [&](size_t trace, size_t) { return trace % 3 == b; }), small),
              nullptr);
  }
  absl::StatusOr<CompactResult> result = Compact();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->input_spans, all_.span_count);
  EXPECT_EQ(result->output_spans, all_.span_count);
  EXPECT_EQ(result->duplicates_dropped, 0u);
  EXPECT_EQ(result->meta.trace_count, all_.traces.size());
  // Streamed: at most the current and the previous row group of each input at once.
  EXPECT_LE(result->peak_row_groups, 2u * 3);
  EXPECT_GT(result->peak_decoded_bytes, 0u);
  EXPECT_TRUE(SameTraces(ReadOutput(result->meta), Contents(all_)));
}

TEST_F(BlockCompactorTest, OverlappingBlocksComeOutWholeAndDeduplicated) {
  Generate(4);
  // Every trace is split between the first two blocks, sharing spans 4 and 5; the third
  // block repeats the first; the fourth holds every other trace whole.
  const TraceSet head = Part(all_, [](size_t, size_t span) { return span < 6; });
  const TraceSet tail = Part(all_, [](size_t, size_t span) { return span >= 4; });
  const TraceSet even = Part(all_, [](size_t trace, size_t) { return trace % 2 == 0; });
  for (const TraceSet* set : {&head, &tail, &head, &even}) ASSERT_NE(AddInput(*set), nullptr);

  absl::StatusOr<CompactResult> result = Compact();
  ASSERT_TRUE(result.ok()) << result.status();
  const uint64_t input = 2 * head.span_count + tail.span_count + even.span_count;
  EXPECT_EQ(result->input_spans, input);
  EXPECT_EQ(result->output_spans, all_.span_count);
  EXPECT_EQ(result->duplicates_dropped, input - all_.span_count);
  EXPECT_EQ(result->meta.span_count, all_.span_count);
  EXPECT_EQ(result->meta.trace_count, all_.traces.size());
  EXPECT_TRUE(SameTraces(ReadOutput(result->meta), Contents(all_)));
}

TEST_F(BlockCompactorTest, TracesSplitAcrossRowGroupsComeOutWhole) {
  Generate(3);  // 10-span traces
  const TraceSet head = Part(all_, [](size_t, size_t span) { return span < 7; });
  const TraceSet tail = Part(all_, [](size_t, size_t span) { return span >= 2; });
  BlockWriterOptions tiny;
  tiny.spans_per_row_group = 3;  // every trace of `head` spans three or four row groups
  BlockWriterOptions small;
  small.spans_per_row_group = 7;
  const BlockReader* a = AddInput(head, tiny);
  const BlockReader* b = AddInput(tail, small);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (const BlockReader* input : {a, b}) {
    int continued = 0;
    const std::vector<RowGroupInfo>& groups = input->footer().row_groups;
    for (size_t i = 1; i < groups.size(); ++i) {
      continued += groups[i].first_trace == groups[i - 1].last_trace;
    }
    EXPECT_GT(continued, 100);
  }

  CompactOptions options;
  options.writer.spans_per_row_group = 9;
  absl::StatusOr<CompactResult> result = Compact(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->output_spans, all_.span_count);
  EXPECT_EQ(result->duplicates_dropped, head.span_count + tail.span_count - all_.span_count);
  EXPECT_GE(result->meta.row_group_count, all_.span_count / 9);
  // A 7-span trace covers at most three 3-span row groups, an 8-span one at most two
  // 7-span ones: no more are alive at once.
  EXPECT_LE(result->peak_row_groups, 3u + 2u);
  EXPECT_TRUE(SameTraces(ReadOutput(result->meta), Contents(all_)));
}

// A request of one trace whose spans are (span ID byte, kind, name).
struct TestSpan {
  char id;
  pb::trace::v1::Span::SpanKind kind;
  std::string name;
};
pb::collector::trace::v1::ExportTraceServiceRequest OneTrace(const std::vector<TestSpan>& spans) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  ss->mutable_scope()->set_name("scope");
  for (const TestSpan& s : spans) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, '\x7f'));
    span->set_span_id(std::string(8, s.id));
    span->set_kind(s.kind);
    span->set_name(s.name);
    span->set_start_time_unix_nano(1000);
    span->set_end_time_unix_nano(2000);
  }
  return req;
}

TEST_F(BlockCompactorTest, SameSpanIdAndKindKeepsTheFirstInputsCopy) {
  using Kind = pb::trace::v1::Span;
  TraceSet first;
  ASSERT_TRUE(first.AddRequest(OneTrace({{1, Kind::SPAN_KIND_SERVER, "first"}})).ok());
  TraceSet second;
  // Span 1 again as the server (dropped) and as the client (a shared span: kept).
  ASSERT_TRUE(second
                  .AddRequest(OneTrace({{1, Kind::SPAN_KIND_SERVER, "second"},
                                        {1, Kind::SPAN_KIND_CLIENT, "client"},
                                        {2, Kind::SPAN_KIND_INTERNAL, "child"}}))
                  .ok());
  const BlockReader* a = AddInput(first);
  const BlockReader* b = AddInput(second);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  auto names = [&](std::vector<const BlockReader*> inputs) {
    std::vector<std::string> out;
    absl::StatusOr<CompactResult> result =
        CompactBlocks(*Env::Default(), inputs, tenant_dir_, kTenant);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return out;
    EXPECT_EQ(result->duplicates_dropped, 1u);
    absl::StatusOr<std::unique_ptr<BlockReader>> reader =
        BlockReader::Open(*Env::Default(), JoinPath(tenant_dir_, result->meta.block_id.ToHex()));
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return out;
    absl::StatusOr<std::optional<FoundTrace>> found =
        (*reader)->FindTrace(first.traces.begin()->first);
    EXPECT_TRUE(found.ok() && found->has_value());
    if (!found.ok() || !found->has_value()) return out;
    for (const otlp::Span& span : (*found)->spans.spans) out.emplace_back(span.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_THAT(names({a, b}), ElementsAre("child", "client", "first"));
  EXPECT_THAT(names({b, a}), ElementsAre("child", "client", "second"));
}

TEST_F(BlockCompactorTest, OutputMetadataCoversTheInputs) {
  Generate(4);
  const TraceSet early = Part(all_, [](size_t trace, size_t) { return trace < 120; });
  const TraceSet late = Part(all_, [](size_t trace, size_t) { return trace >= 80; });
  BlockWriterOptions level2;
  level2.compaction_level = 2;
  const BlockReader* a = AddInput(early);
  const BlockReader* b = AddInput(late, level2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const BlockMeta& ma = *a->meta();
  const BlockMeta& mb = *b->meta();

  absl::StatusOr<CompactResult> result = Compact();
  ASSERT_TRUE(result.ok()) << result.status();
  const BlockMeta& meta = result->meta;
  EXPECT_EQ(meta.compaction_level, 3u);
  EXPECT_EQ(meta.tenant, kTenant);
  EXPECT_EQ(meta.trace_count, all_.traces.size());
  EXPECT_EQ(meta.span_count, all_.span_count);
  EXPECT_EQ(result->output_spans, meta.span_count);
  EXPECT_EQ(result->input_spans, ma.span_count + mb.span_count);
  EXPECT_EQ(meta.min_start_unix_nano, std::min(ma.min_start_unix_nano, mb.min_start_unix_nano));
  EXPECT_EQ(meta.max_start_unix_nano, std::max(ma.max_start_unix_nano, mb.max_start_unix_nano));
  EXPECT_EQ(meta.min_end_unix_nano, std::min(ma.min_end_unix_nano, mb.min_end_unix_nano));
  EXPECT_EQ(meta.max_end_unix_nano, std::max(ma.max_end_unix_nano, mb.max_end_unix_nano));
  EXPECT_TRUE(SameTraces(ReadOutput(meta), Contents(all_)));

  CompactOptions options;
  options.compaction_level = 7;
  options.writer.compaction_level = 1;  // replaced
  result = Compact(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->meta.compaction_level, 7u);
}

// The inputs' ranges may place spans elsewhere than their own times (the store places a
// span stamped 1970 by its ingest time): the output keeps their union.
TEST_F(BlockCompactorTest, OutputTimeRangeIsTheUnionOfTheInputsNotOfTheSpans) {
  Generate(2);
  BlockWriterOptions early, late;
  early.time_range = TimeRange{5000, 6000, 5100, 6100};
  late.time_range = TimeRange{7000, 8000, 7100, 8100};
  ASSERT_NE(AddInput(Part(all_, [](size_t t, size_t) { return t % 2 == 0; }), early), nullptr);
  ASSERT_NE(AddInput(Part(all_, [](size_t t, size_t) { return t % 2 == 1; }), late), nullptr);

  absl::StatusOr<CompactResult> result = Compact();
  ASSERT_TRUE(result.ok()) << result.status();
  const BlockMeta& meta = result->meta;
  EXPECT_EQ(meta.min_start_unix_nano, 5000u);
  EXPECT_EQ(meta.max_start_unix_nano, 8000u);
  EXPECT_EQ(meta.min_end_unix_nano, 5100u);
  EXPECT_EQ(meta.max_end_unix_nano, 8100u);
  EXPECT_TRUE(SameTraces(ReadOutput(meta), Contents(all_))) << "the spans keep their times";
}

TEST_F(BlockCompactorTest, InputsAreLeftUntouched) {
  Generate(2);
  ASSERT_NE(AddInput(Part(all_, [](size_t t, size_t) { return t % 2 == 0; })), nullptr);
  ASSERT_NE(AddInput(Part(all_, [](size_t, size_t s) { return s < 5; })), nullptr);
  std::map<std::string, std::string> before;
  for (const std::string& block : InputDirs()) {
    for (const char* file : {"data", "meta.json"}) {
      const std::string path = JoinPath(JoinPath(tenant_dir_, block), file);
      absl::StatusOr<std::string> bytes = Env::Default()->ReadFileToString(path);
      ASSERT_TRUE(bytes.ok());
      before[path] = *bytes;
    }
  }
  absl::StatusOr<CompactResult> result = Compact();
  ASSERT_TRUE(result.ok()) << result.status();
  for (const auto& [path, bytes] : before) {
    absl::StatusOr<std::string> after = Env::Default()->ReadFileToString(path);
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(*after == bytes) << path;
  }
  std::set<std::string> expected = InputDirs();
  expected.insert(result->meta.block_id.ToHex());
  EXPECT_EQ(BlockDirs(), expected);
}

TEST_F(BlockCompactorTest, DamagedInputFailsCleanlyAndLeavesNoOutput) {
  Generate(3);
  BlockWriterOptions small;
  small.spans_per_row_group = 100;
  const TraceSet a_set = Part(all_, [](size_t t, size_t) { return t % 2 == 0; });
  const TraceSet b_set = Part(all_, [](size_t t, size_t) { return t % 2 == 1; });
  ASSERT_NE(AddInput(a_set, small), nullptr);
  // Write the second block, damage a byte in the middle of its last row group, then
  // open it: opening checks the framing, not the row groups, so the damage is found
  // only once the merge reaches it, after output row groups were written.
  absl::StatusOr<BlockMeta> meta =
      WriteTraceSet(*Env::Default(), tenant_dir_, b_set, small, kTenant);
  ASSERT_TRUE(meta.ok());
  const std::string block_dir = JoinPath(tenant_dir_, meta->block_id.ToHex());
  {
    absl::StatusOr<std::unique_ptr<BlockReader>> intact =
        BlockReader::Open(*Env::Default(), block_dir);
    ASSERT_TRUE(intact.ok());
    const RowGroupInfo& last = (*intact)->footer().row_groups.back();
    const std::string path = JoinPath(block_dir, "data");
    absl::StatusOr<std::string> data = Env::Default()->ReadFileToString(path);
    ASSERT_TRUE(data.ok());
    (*data)[last.offset + last.size / 2] ^= 0x20;
    ASSERT_TRUE(WriteFileAtomically(*Env::Default(), path, *data).ok());
  }
  absl::StatusOr<std::unique_ptr<BlockReader>> damaged =
      BlockReader::Open(*Env::Default(), block_dir);
  ASSERT_TRUE(damaged.ok()) << damaged.status();
  readers_.push_back(std::move(*damaged));

  CompactOptions options;
  options.writer.spans_per_row_group = 100;
  absl::StatusOr<CompactResult> result = Compact(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("compaction input " + block_dir));
  EXPECT_EQ(BlockDirs(), InputDirs());
}

TEST_F(BlockCompactorTest, FailedIoPublishesNothingAndLeavesNoOutput) {
  Generate(2);
  BlockWriterOptions small;
  small.spans_per_row_group = 100;
  ASSERT_NE(AddInput(Part(all_, [](size_t t, size_t) { return t % 2 == 0; }), small), nullptr);
  ASSERT_NE(AddInput(Part(all_, [](size_t t, size_t s) { return t % 2 == 1 || s >= 3; }), small),
            nullptr);
  using Op = FaultInjectionEnv::Op;
  for (Op op : {Op::kOpenWritable, Op::kWrite, Op::kSync, Op::kSyncDir, Op::kRename}) {
    SCOPED_TRACE(static_cast<int>(op));
    FaultInjectionEnv env(*Env::Default());
    env.FailNext(op, 1);
    absl::StatusOr<CompactResult> result = Compact({}, &env);
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(BlockDirs(), InputDirs());
  }
  // The same inputs compact once the faults are gone.
  FaultInjectionEnv env(*Env::Default());
  absl::StatusOr<CompactResult> result = Compact({}, &env);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(SameTraces(ReadOutput(result->meta), Contents(all_)));
}

TEST_F(BlockCompactorTest, RejectsNoInputsAndOtherTenants) {
  Generate(1);
  EXPECT_EQ(Compact().status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_NE(AddInput(all_), nullptr);
  absl::StatusOr<CompactResult> result =
      CompactBlocks(*Env::Default(), Inputs(), tenant_dir_, "tenant-b");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BlockDirs(), InputDirs());
}

}  // namespace
}  // namespace strand::block
