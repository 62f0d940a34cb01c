// Block search: how a fetch reads one local block (LocalStorage's block part). Planning
// decides per row group whether it may hold a match (statistics, then the column filter,
// then the neighbours of candidate traces that continue across row groups); scanning
// decodes the candidate traces, newest first when a limit can stop the fetch inside the
// block, in batches of bounded size. Internal to src/query.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "block/block_reader.h"
#include "block/block_stats.h"
#include "block/block_tables.h"
#include "block/row_group_decoder.h"
#include "query/column_filter.h"
#include "query/planner.h"
#include "store/block_damage.h"
#include "traceql/storage.h"

namespace strand::query::internal {

// What a search does with one row group of a block.
struct RowGroupPlan {
  bool decode = false;
  bool damaged = false;               // known or found damaged: never decoded
  std::vector<char> candidates;       // per trace segment
  std::vector<uint64_t> starts;       // per trace segment: its first span's start
  std::vector<uint32_t> span_counts;  // per trace segment
  // The decoder the column pass opened, kept for decoding (its pages are not read twice).
  std::unique_ptr<block::RowGroupDecoder> opened;
};

// Called with damage found in a row group: records a DataLoss (and returns OK) or returns
// any other error, which ends the search.
using DamageSink = std::function<absl::Status(size_t row_group, const absl::Status& error)>;

// Plans a block: statistics first, then the column filter on the row groups they leave
// (every segment is a candidate when it cannot judge), then the neighbours of candidate
// traces that continue across row groups. A row group known damaged (`damage`) or found
// damaged now (passed to `damaged`) is left out.
absl::StatusOr<std::vector<RowGroupPlan>> PlanBlock(
    const block::BlockReader& reader, const block::BlockStats& stats,
    const block::BlockTables& tables, const store::BlockDamage& damage, const DamageSink& damaged,
    const Planner* planner, const ColumnFilter* filter, uint64_t start, uint64_t end,
    traceql::FetchStats& result);

// Decodes a planned block's candidate traces with the request's columns and hands each
// to `fn` (parts joined); asks `request.stop` with the newest start still unread before
// each batch (of at most ~`batch_spans` spans). Row groups found damaged are passed to
// `damaged`, marked and counted, and their traces go on without their part there.
absl::Status ScanBlock(const block::BlockReader& reader, const block::BlockTables& tables,
                       const DamageSink& damaged, std::vector<RowGroupPlan>& plans,
                       const traceql::FetchRequest& request, uint64_t batch_spans,
                       traceql::FetchStats& stats,
                       const std::function<void(const traceql::TraceView&)>& fn);

}  // namespace strand::query::internal
