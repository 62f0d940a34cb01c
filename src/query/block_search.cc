#include "query/block_search.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "common/status_macros.h"

namespace strand::query::internal {

namespace {

// Decoders kept from the column pass, at most (~50 KB each before decoding).
constexpr size_t kMaxKeptDecoders = 1024;

// One candidate trace of a block: its segments (one, or several when it continues across
// row groups) and the earliest of their starts.
struct TracePart {
  uint32_t row_group;
  uint32_t segment;
};
struct CandidateTrace {
  uint64_t start = 0;
  std::vector<TracePart> parts;
};

// The candidate traces of a planned block, newest first when `newest_first`, else in row
// group order.
std::vector<CandidateTrace> CandidateTraces(const std::vector<RowGroupPlan>& plans,
                                            const std::vector<block::RowGroupInfo>& groups,
                                            bool newest_first) {
  std::vector<CandidateTrace> out;
  for (uint32_t i = 0; i < plans.size(); ++i) {
    if (!plans[i].decode) continue;
    const RowGroupPlan& p = plans[i];
    for (uint32_t k = 0; k < p.candidates.size(); ++k) {
      if (!p.candidates[k]) continue;
      // The first segment continues the previous row group's last candidate trace.
      const bool joins = k == 0 && i > 0 && groups[i - 1].last_trace == groups[i].first_trace &&
                         !out.empty() && out.back().parts.back().row_group == i - 1 &&
                         out.back().parts.back().segment + 1 == groups[i - 1].trace_count;
      if (joins) {
        out.back().parts.push_back({i, k});
        out.back().start = std::min(out.back().start, p.starts[k]);
      } else {
        out.push_back(CandidateTrace{p.starts[k], {{i, k}}});
      }
    }
  }
  if (newest_first) {
    std::stable_sort(out.begin(), out.end(), [](const CandidateTrace& a, const CandidateTrace& b) {
      return a.start > b.start;
    });
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<RowGroupPlan>> PlanBlock(
    const block::BlockReader& reader, const block::BlockStats& stats,
    const block::BlockTables& tables, const store::BlockDamage& damage, const DamageSink& damaged,
    const Planner* planner, const ColumnFilter* filter, uint64_t start, uint64_t end,
    traceql::FetchStats& result) {
  const auto& groups = reader.footer().row_groups;
  const size_t n = groups.size();
  std::vector<RowGroupPlan> plans(n);
  std::vector<char> cont_after(n, 0);  // row group i's last trace continues in i + 1
  for (size_t i = 0; i + 1 < n; ++i) {
    cont_after[i] = groups[i].last_trace == groups[i + 1].first_trace;
  }
  auto cont_before = [&](size_t i) { return i > 0 && cont_after[i - 1]; };
  std::optional<ColumnFilter::BlockContext> ctx;
  if (filter != nullptr && filter->useful()) {
    auto c = filter->Prepare(tables);
    if (!c.ok()) return c.status();
    ctx = std::move(*c);
  }
  size_t kept = 0;
  auto examine_once = [&](size_t i, bool all) -> absl::Status {
    RowGroupPlan& p = plans[i];
    auto opened = reader.OpenRowGroup(i);
    if (!opened.ok()) return opened.status();
    ++result.row_groups_filtered;
    result.inspected_bytes += groups[i].size;
    result.inspected_spans += groups[i].span_count;
    block::RowGroupDecoder& rg = **opened;
    p.starts.resize(rg.num_traces());
    p.span_counts.resize(rg.num_traces());
    for (uint32_t k = 0; k < rg.num_traces(); ++k) {
      p.starts[k] = rg.trace_start(k);
      p.span_counts[k] = rg.row_count(k);
    }
    if (ctx && !all) {
      auto cand = filter->Candidates(rg, *ctx, cont_before(i), cont_after[i]);
      if (!cand.ok()) return cand.status();
      p.candidates = std::move(*cand);
    } else {
      p.candidates.assign(rg.num_traces(), 1);
    }
    if (kept < kMaxKeptDecoders &&
        std::find(p.candidates.begin(), p.candidates.end(), 1) != p.candidates.end()) {
      p.opened = std::move(*opened);
      ++kept;
    }
    return absl::OkStatus();
  };
  // Opens a row group for its segments' starts and, with a filter, its candidates. A
  // damaged one is marked and left out.
  auto examine = [&](size_t i, bool all) -> absl::Status {
    absl::Status s = examine_once(i, all);
    if (s.ok()) return s;
    RETURN_IF_ERROR(damaged(i, s));
    RowGroupPlan& p = plans[i];
    p.damaged = true;
    p.decode = false;
    p.starts.clear();
    p.span_counts.clear();
    p.opened.reset();
    p.candidates.assign(groups[i].trace_count, 0);
    return absl::OkStatus();
  };
  for (size_t i = 0; i < n; ++i) {
    RowGroupPlan& p = plans[i];
    p.candidates.assign(groups[i].trace_count, 0);
    if (!damage.RowGroup(i).ok()) {
      p.damaged = true;
      continue;
    }
    if (i < stats.row_groups.size()) {
      const block::RowGroupStats& rg = stats.row_groups[i];
      const bool boundary = cont_before(i) || cont_after[i];
      p.decode = traceql::Overlaps(rg.min_start, rg.max_end, start, end) &&
                 (planner == nullptr || planner->MayMatch(rg) ||
                  (boundary && planner->MayMatch(rg, true)));
    }
    if (!p.decode) continue;
    if (auto s = examine(i, false); !s.ok()) return s;
    p.decode =
        !p.damaged && std::find(p.candidates.begin(), p.candidates.end(), 1) != p.candidates.end();
  }
  // A candidate trace that continues across row groups needs all of its parts: mark the
  // boundary, carry it through row groups that hold nothing else, and select both sides.
  std::vector<char> boundary(n, 0);  // the trace between i and i + 1 is a candidate
  auto first = [&](size_t i) { return plans[i].decode && plans[i].candidates.front(); };
  auto last = [&](size_t i) { return plans[i].decode && plans[i].candidates.back(); };
  for (size_t i = 0; i + 1 < n; ++i) boundary[i] = cont_after[i] && (last(i) || first(i + 1));
  for (size_t i = 0; i + 2 < n; ++i) {  // forward through single-segment row groups
    if (boundary[i] && groups[i + 1].trace_count == 1 && cont_after[i + 1]) boundary[i + 1] = 1;
  }
  for (size_t i = n >= 2 ? n - 2 : 0; i-- > 0;) {  // and backward
    if (boundary[i + 1] && groups[i + 1].trace_count == 1 && cont_after[i]) boundary[i] = 1;
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!boundary[i]) continue;
    for (size_t j : {i, i + 1}) {
      if (plans[j].damaged) continue;  // the trace is read without its part there
      if (plans[j].starts.empty()) {
        // Not examined (statistics ruled it out): read its starts; only the boundary
        // segment becomes a candidate.
        if (auto s = examine(j, true); !s.ok()) return s;
        if (plans[j].damaged) continue;
        std::fill(plans[j].candidates.begin(), plans[j].candidates.end(), 0);
      }
      plans[j].decode = true;
      (j == i ? plans[j].candidates.back() : plans[j].candidates.front()) = 1;
    }
  }
  for (const RowGroupPlan& p : plans) {
    result.row_groups_skipped += p.decode || p.damaged ? 0 : 1;
    result.row_groups_damaged += p.damaged ? 1 : 0;
  }
  return plans;
}

absl::Status ScanBlock(const block::BlockReader& reader, const block::BlockTables& tables,
                       const DamageSink& damaged, std::vector<RowGroupPlan>& plans,
                       const traceql::FetchRequest& request, uint64_t batch_spans,
                       traceql::FetchStats& stats,
                       const std::function<void(const traceql::TraceView&)>& fn) {
  const auto& groups = reader.footer().row_groups;
  // Newest first matters only when the limit can stop the search inside this block; when
  // every candidate is read anyway, row group order decodes each row group about once.
  size_t candidates = 0;
  for (const RowGroupPlan& p : plans) {
    if (p.decode) candidates += std::count(p.candidates.begin(), p.candidates.end(), 1);
  }
  const bool newest_first = request.limit != 0 && candidates > request.limit;
  std::vector<CandidateTrace> traces = CandidateTraces(plans, groups, newest_first);
  block::RowGroupDecoder::DecodeOptions options;
  options.span_attribute_keys = &request.span_attribute_keys;
  options.events = request.events;
  options.links = request.links;
  size_t next = 0;
  // Newest first, batches grow (few searches need more than the first); in row group order
  // they are as big as the span bound allows. Either way under ~50k spans.
  size_t batch_size = newest_first ? 64 : size_t{1} << 40;
  std::vector<char> decoded_once(groups.size(), 0);
  // The newest start among traces[i..]: traces[i].start newest first, a suffix maximum in
  // row group order (`stop` must see the newest trace still unread).
  std::vector<uint64_t> newest_left(traces.size() + 1, 0);
  for (size_t i = traces.size(); i-- > 0;) {
    newest_left[i] = newest_first ? traces[i].start : std::max(newest_left[i + 1], traces[i].start);
  }
  while (next < traces.size()) {
    if (request.stop && request.stop(newest_left[next])) break;
    size_t end = next;
    uint64_t spans = 0;
    while (end < traces.size() && end < next + batch_size && (end == next || spans < batch_spans)) {
      for (const TracePart& part : traces[end].parts) {
        spans += plans[part.row_group].span_counts[part.segment];
      }
      ++end;
    }
    if (batch_size < (size_t{1} << 40)) batch_size *= 4;
    // The segments each row group decodes for this batch.
    std::map<uint32_t, std::vector<char>> wanted;
    for (size_t t = next; t < end; ++t) {
      for (const TracePart& part : traces[t].parts) {
        auto& sel = wanted[part.row_group];
        if (sel.empty()) sel.assign(groups[part.row_group].trace_count, 0);
        sel[part.segment] = 1;
      }
    }
    std::vector<std::unique_ptr<otlp::SpanBatch>> batches;
    struct Rows {
      const otlp::SpanBatch* batch;
      uint32_t begin, end;
    };
    absl::flat_hash_map<uint64_t, Rows> where;  // (row group << 32 | segment) -> its rows
    for (const auto& [rg, sel] : wanted) {
      // The column pass's decoder the first time (then released: decoded pages are big).
      if (plans[rg].damaged) continue;  // found damaged by an earlier batch
      absl::StatusOr<std::unique_ptr<block::RowGroupDecoder>> decoder =
          plans[rg].opened ? std::move(plans[rg].opened) : reader.OpenRowGroup(rg);
      plans[rg].opened.reset();
      auto batch = std::make_unique<otlp::SpanBatch>();
      absl::Status s = decoder.status();
      if (s.ok()) {
        auto map = tables.NewBatchMap();
        options.segments = &sel;
        s = (*decoder)->DecodeTraces(0, (*decoder)->num_traces(), tables, map, *batch, options);
      }
      if (!s.ok()) {
        // Its traces go on without their part here (a trace wholly in it is left out).
        RETURN_IF_ERROR(damaged(rg, s));
        plans[rg].damaged = true;
        ++stats.row_groups_damaged;
        continue;
      }
      const uint32_t n = (*decoder)->num_traces();
      if (!decoded_once[rg]) {
        decoded_once[rg] = 1;
        ++stats.row_groups_read;
      }
      uint32_t row = 0;
      for (uint32_t k = 0; k < n; ++k) {
        if (!sel[k]) continue;
        const uint32_t count = (*decoder)->row_count(k);
        where[(uint64_t{rg} << 32) | k] = Rows{batch.get(), row, row + count};
        row += count;
      }
      if (row != batch->spans.size()) return absl::InternalError("selected rows do not add up");
      batches.push_back(std::move(batch));
    }
    for (size_t t = next; t < end; ++t) {
      std::vector<otlp::SpanRef> refs;
      otlp::TraceId id{};
      for (const TracePart& part : traces[t].parts) {
        const Rows& rows = where[(uint64_t{part.row_group} << 32) | part.segment];
        for (uint32_t r = rows.begin; r < rows.end; ++r) refs.push_back({rows.batch, r});
        if (rows.begin < rows.end) id = rows.batch->spans[rows.begin].trace_id;
      }
      fn(traceql::TraceView(id, std::move(refs)));
    }
    next = end;
  }
  return absl::OkStatus();
}

}  // namespace strand::query::internal
