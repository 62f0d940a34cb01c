#include "block/block_compactor.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace strand::block {
namespace {

// `status` from reading `reader`, its message prefixed with the input block's directory.
absl::Status InputError(const BlockReader& reader, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("compaction input ", DirName(reader.path()), ": ",
                                                  status.message()));
}

// Decoded input row groups alive at once: what bounds the compaction's memory.
struct Residency {
  uint64_t groups = 0;
  uint64_t bytes = 0;
  uint64_t peak_groups = 0;
  uint64_t peak_bytes = 0;

  void Load(const RowGroupData& group) {
    ++groups;
    bytes += group.batch.MemoryUsage();
    peak_groups = std::max(peak_groups, groups);
    peak_bytes = std::max(peak_bytes, bytes);
  }
  void Release(const RowGroupData& group) {
    --groups;
    bytes -= group.batch.MemoryUsage();
  }
};

// Streams one input's trace segments in ascending trace-ID order, decoding one row group
// at a time, and only when the merge reaches it. Not thread-safe.
class InputCursor {
 public:
  explicit InputCursor(const BlockReader& reader) : reader_(reader) {}

  // Reads the input's resource and scope tables.
  absl::Status Init() {
    absl::StatusOr<BlockTables> tables = reader_.ReadTables();
    if (!tables.ok()) return InputError(reader_, tables.status());
    tables_.emplace(std::move(*tables));
    return absl::OkStatus();
  }

  bool done() const { return group_ == nullptr && next_group_ >= reader_.num_row_groups(); }

  // The ID of the next trace segment. Requires !done(). Before the row group is decoded
  // this is the footer's first trace ID, which the decoder checks against the rows.
  const otlp::TraceId& next_id() const {
    return group_ != nullptr ? group_->traces[pos_].id
                             : reader_.footer().row_groups[next_group_].first_trace;
  }

  // Appends to `out` every span of trace `id` (== next_id()), following it into later
  // row groups. Row groups used up on the way move to `retired`: `out` points into them,
  // so they must live until `out` is written. Decoded row groups are counted in `held`.
  absl::Status TakeTrace(const otlp::TraceId& id, std::vector<otlp::SpanRef>& out,
                         std::vector<std::unique_ptr<RowGroupData>>& retired, Residency& held) {
    for (;;) {
      if (group_ == nullptr) {
        RETURN_IF_ERROR(LoadNextGroup());
        held.Load(*group_);
      }
      const RowGroupData::Trace& trace = group_->traces[pos_++];
      for (uint32_t row = trace.begin; row < trace.end; ++row) {
        out.push_back({&group_->batch, row});
      }
      // A row group holds each ID once, so the trace can only continue in the next group.
      if (pos_ < group_->traces.size()) return absl::OkStatus();
      retired.push_back(std::move(group_));
      pos_ = 0;
      if (done() || next_id() != id) return absl::OkStatus();
    }
  }

 private:
  absl::Status LoadNextGroup() {
    absl::StatusOr<RowGroupData> data = reader_.ReadRowGroup(next_group_, *tables_);
    if (!data.ok()) return InputError(reader_, data.status());
    ++next_group_;
    // On the heap before any SpanRef points at its batch: the batch must not move.
    group_ = std::make_unique<RowGroupData>(std::move(*data));
    pos_ = 0;
    return absl::OkStatus();
  }

  const BlockReader& reader_;
  std::optional<BlockTables> tables_;
  size_t next_group_ = 0;                // the next row group to decode
  std::unique_ptr<RowGroupData> group_;  // when set, traces[pos_] is the next segment
  size_t pos_ = 0;
};

struct MergeCounts {
  uint64_t input_spans = 0;
  uint64_t output_spans = 0;
  Residency held;
};

// Merges the cursors' traces into `writer` (without finishing it).
absl::StatusOr<MergeCounts> Merge(std::vector<InputCursor>& cursors, BlockWriter& writer) {
  // Min-heap of (next trace ID, input index): equal IDs pop in input order, which makes
  // the first copy of a duplicated span the one from the earliest input.
  using Entry = std::pair<otlp::TraceId, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (!cursors[i].done()) heap.push({cursors[i].next_id(), i});
  }

  MergeCounts counts;
  std::vector<otlp::SpanRef> gathered;
  std::vector<otlp::SpanRef> kept;
  std::vector<std::unique_ptr<RowGroupData>> retired;
  absl::flat_hash_set<otlp::SpanCopyKey> seen;
  while (!heap.empty()) {
    const otlp::TraceId id = heap.top().first;
    gathered.clear();
    while (!heap.empty() && heap.top().first == id) {
      const size_t i = heap.top().second;
      heap.pop();
      RETURN_IF_ERROR(cursors[i].TakeTrace(id, gathered, retired, counts.held));
      // Each input's IDs ascend (the reader checks it), so the cursor is now past `id`.
      if (!cursors[i].done()) heap.push({cursors[i].next_id(), i});
    }
    kept.clear();
    seen.clear();
    for (const otlp::SpanRef& ref : gathered) {
      if (seen.insert(otlp::CopyKeyOf(ref.span())).second) kept.push_back(ref);
    }
    RETURN_IF_ERROR(writer.Add(id, kept));
    counts.input_spans += gathered.size();
    counts.output_spans += kept.size();
    for (const std::unique_ptr<RowGroupData>& group : retired) counts.held.Release(*group);
    retired.clear();
  }
  return counts;
}

}  // namespace

absl::StatusOr<CompactResult> CompactBlocks(Env& env, std::span<const BlockReader* const> inputs,
                                            const std::string& parent_dir,
                                            const std::string& tenant, CompactOptions options) {
  if (inputs.empty()) return absl::InvalidArgumentError("compaction needs at least one input");
  uint32_t max_level = 0;
  TimeRange inputs_range;
  std::vector<InputCursor> cursors;
  cursors.reserve(inputs.size());
  for (const BlockReader* input : inputs) {
    if (input == nullptr) return absl::InvalidArgumentError("compaction input is null");
    inputs_range.Merge(input->footer().time_range());
    if (input->meta().has_value()) {
      if (input->meta()->tenant != tenant) {
        return absl::InvalidArgumentError(
            absl::StrCat("compaction input ", DirName(input->path()), " belongs to tenant '",
                         input->meta()->tenant, "', not '", tenant, "'"));
      }
      max_level = std::max(max_level, input->meta()->compaction_level);
      options.writer.compacted_from.push_back(input->meta()->block_id);
    }
    cursors.emplace_back(*input);
    RETURN_IF_ERROR(cursors.back().Init());
  }
  // The inputs' ranges already place out-of-range spans by their ingest time; recomputing
  // the range from the spans' own times would undo that.
  if (!options.writer.time_range.has_value()) options.writer.time_range = inputs_range;
  options.writer.compaction_level = options.compaction_level.value_or(
      max_level == std::numeric_limits<uint32_t>::max() ? max_level : max_level + 1);

  ASSIGN_OR_RETURN(std::unique_ptr<BlockWriter> writer,
                   BlockWriter::Create(env, parent_dir, tenant, std::move(options.writer)));
  absl::StatusOr<MergeCounts> counts = Merge(cursors, *writer);
  if (!counts.ok()) {
    writer->Abandon();
    return counts.status();
  }
  // Finish() abandons the output itself when it fails.
  ASSIGN_OR_RETURN(BlockMeta meta, writer->Finish());
  CompactResult result;
  result.meta = std::move(meta);
  result.input_spans = counts->input_spans;
  result.output_spans = counts->output_spans;
  result.duplicates_dropped = counts->input_spans - counts->output_spans;
  result.peak_row_groups = counts->held.peak_groups;
  result.peak_decoded_bytes = counts->held.peak_bytes;
  return result;
}

}  // namespace strand::block
