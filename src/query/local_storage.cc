#include "query/local_storage.h"

#include <algorithm>
#include <optional>

#include "common/status_macros.h"
#include "query/block_search.h"
#include "query/column_filter.h"
#include "query/local_storage_internal.h"
#include "query/planner.h"

namespace strand::query {

using internal::BlocksOf;
using internal::kLiveChunkSpans;
using internal::LiveDecoder;
using store::BlockHandlePtr;
using traceql::FetchRequest;
using traceql::FetchStats;
using traceql::Overlaps;
using traceql::TraceView;

absl::StatusOr<FetchStats> LocalStorage::Fetch(
    const FetchRequest& request, const std::function<void(const TraceView&)>& fn) const {
  FetchStats stats;
  // Statistics and the column filter judge the request's conditions.
  std::optional<Planner> planner;
  std::optional<ColumnFilter> filter;
  if (request.conditions != nullptr) {
    planner.emplace(*request.conditions);
    filter.emplace(*request.conditions);
  }
  RETURN_IF_ERROR(FetchLive(request, stats, fn));
  std::vector<BlockHandlePtr> blocks =
      BlocksOf(store_, request.tenant, request.start_unix_nano, request.end_unix_nano);
  stats.total_blocks = static_cast<uint32_t>(blocks.size());
  for (const BlockHandlePtr& block : blocks) {
    if (request.stop && request.stop(block->meta.max_start_unix_nano)) break;
    RETURN_IF_ERROR(FetchBlock(block, request, planner ? &*planner : nullptr,
                               filter ? &*filter : nullptr, stats, fn));
  }
  return stats;
}

absl::Status LocalStorage::FetchLive(const FetchRequest& request, FetchStats& stats,
                                     const std::function<void(const TraceView&)>& fn) const {
  // In chunks; traces are ordered by their first batch so that a batch's traces tend to
  // fall in one chunk and it is decoded once.
  std::vector<store::LiveTrace> live = store_.live().SnapshotTenant(request.tenant);
  std::erase_if(live, [&](const store::LiveTrace& t) {
    return !Overlaps(t.min_start_unix_nano, t.max_end_unix_nano, request.start_unix_nano,
                     request.end_unix_nano);
  });
  std::sort(live.begin(), live.end(), [](const store::LiveTrace& a, const store::LiveTrace& b) {
    return a.batches.front().get() < b.batches.front().get();
  });
  LiveDecoder decoder;
  size_t chunk_spans = 0;
  for (const store::LiveTrace& t : live) {
    if (chunk_spans > kLiveChunkSpans) {
      decoder.Clear();
      chunk_spans = 0;
    }
    std::vector<otlp::SpanRef> refs;
    refs.reserve(t.spans.size());
    for (const store::LiveSpanRef& r : t.spans) {
      auto batch = decoder.Get(r.batch);
      if (!batch.ok()) return batch.status();
      refs.push_back({*batch, r.index});
    }
    chunk_spans += refs.size();
    stats.inspected_spans += refs.size();
    fn(TraceView(t.id, std::move(refs)));
  }
  stats.inspected_bytes += decoder.bytes();
  return absl::OkStatus();
}

absl::Status LocalStorage::FetchBlock(const BlockHandlePtr& block, const FetchRequest& request,
                                      const Planner* planner, const ColumnFilter* filter,
                                      FetchStats& stats,
                                      const std::function<void(const TraceView&)>& fn) const {
  const block::BlockReader& reader = *block->reader;
  // Damage in a section the whole block needs: the block is skipped.
  auto block_damaged = [&](store::BlockPart part, const absl::Status& s) -> absl::Status {
    if (!absl::IsDataLoss(s)) return s;
    store_.ReportDamage(block, part, 0, s);
    stats.row_groups_damaged += reader.num_row_groups();
    return absl::OkStatus();
  };
  const internal::DamageSink row_group_damaged = [&](size_t rg,
                                                     const absl::Status& s) -> absl::Status {
    if (!absl::IsDataLoss(s)) return s;
    store_.ReportDamage(block, store::BlockPart::kRowGroup, rg, s);
    return absl::OkStatus();
  };
  if (!block->damage->Searchable().ok()) {
    stats.row_groups_damaged += reader.num_row_groups();
    return absl::OkStatus();
  }
  auto block_stats = reader.ReadStats();
  if (!block_stats.ok()) return block_damaged(store::BlockPart::kStats, block_stats.status());
  auto tables = reader.ReadTables();
  if (!tables.ok()) return block_damaged(store::BlockPart::kTables, tables.status());
  auto plans =
      internal::PlanBlock(reader, *block_stats, *tables, *block->damage, row_group_damaged, planner,
                          filter, request.start_unix_nano, request.end_unix_nano, stats);
  if (!plans.ok()) {
    // Row group damage is handled inside; what is left concerns the tables.
    return block_damaged(store::BlockPart::kTables, plans.status());
  }
  if (std::none_of(plans->begin(), plans->end(), [](const auto& p) { return p.decode; })) {
    return absl::OkStatus();
  }
  ++stats.blocks_read;
  return internal::ScanBlock(reader, *tables, row_group_damaged, *plans, request,
                             options_.decode_batch_spans, stats, fn);
}

}  // namespace strand::query
