#include "traceql/searcher.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "block/block_reader.h"
#include "common/status_macros.h"
#include "traceql/searcher_internal.h"

namespace strand::traceql {

using internal::BlocksOf;
using internal::kLiveChunkSpans;
using internal::LiveDecoder;
using internal::Overlaps;
using store::BlockHandlePtr;

namespace {

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

// The columns a search decodes (block::RowGroupDecoder::DecodeOptions, owned).
struct Projection {
  std::vector<std::string> span_attribute_keys;
  bool events = false;
  bool links = false;
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
    SearchResult& result) {
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
      p.decode = Overlaps(rg.min_start, rg.max_end, start, end) &&
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

// Decodes and evaluates a block's candidate traces newest first, in growing batches (only
// their segments and the projected columns); asks `stop` with the newest start still
// unread before each batch.
absl::Status ScanBlock(const block::BlockReader& reader, const block::BlockTables& tables,
                       const DamageSink& damaged, std::vector<RowGroupPlan>& plans,
                       const Projection& projection, SearchResult& stats,
                       const std::function<void(const TraceView&)>& fn,
                       const std::function<bool(uint64_t)>& stop, uint32_t limit,
                       uint64_t batch_spans) {
  const auto& groups = reader.footer().row_groups;
  // Newest first matters only when the limit can stop the search inside this block; when
  // every candidate is read anyway, row group order decodes each row group about once.
  size_t candidates = 0;
  for (const RowGroupPlan& p : plans) {
    if (p.decode) candidates += std::count(p.candidates.begin(), p.candidates.end(), 1);
  }
  const bool newest_first = limit != 0 && candidates > limit;
  std::vector<CandidateTrace> traces = CandidateTraces(plans, groups, newest_first);
  block::RowGroupDecoder::DecodeOptions options;
  options.span_attribute_keys = &projection.span_attribute_keys;
  options.events = projection.events;
  options.links = projection.links;
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
    if (stop && stop(newest_left[next])) break;
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
      fn(TraceView(id, std::move(refs)));
    }
    next = end;
  }
  return absl::OkStatus();
}

// Builds the answer for one matched trace (or the part of it one place holds).
SearchTrace Summarize(const TraceView& view, std::vector<SpanSet>&& sets,
                      const Evaluator& evaluator, uint32_t spss) {
  SearchTrace out;
  out.id = view.id();
  out.start_unix_nano = view.min_start();
  out.end_unix_nano = view.max_end();
  if (view.root() >= 0) {
    out.has_root = true;
    out.root_service = std::string(view.RootServiceName());
    out.root_name = std::string(view.RootSpanName());
  }
  // Spans of one resource usually follow each other: look its service up once per run.
  const otlp::SpanBatch* last_batch = nullptr;
  uint32_t last_resource = 0;
  ServiceStat* stat = nullptr;
  for (uint32_t i = 0; i < view.size(); ++i) {
    const otlp::SpanBatch& b = view.batch(i);
    const uint32_t resource = b.scopes[view.span(i).scope_index].resource_index;
    if (stat == nullptr || &b != last_batch || resource != last_resource) {
      stat = &out.service_stats[std::string(view.ResourceString(i, "service.name"))];
      last_batch = &b;
      last_resource = resource;
    }
    ServiceStat& st = *stat;
    ++st.spans;
    if (view.span(i).status_code == static_cast<int32_t>(otlp::StatusCode::kError)) ++st.errors;
  }
  for (SpanSet& set : sets) {
    SearchSpanSet o;
    o.matched = static_cast<uint32_t>(set.spans.size());
    o.labels = std::move(set.labels);
    std::vector<uint32_t> shown = set.spans;
    std::stable_sort(shown.begin(), shown.end(), [&](uint32_t a, uint32_t b) {
      return view.span(a).start_time_unix_nano < view.span(b).start_time_unix_nano;
    });
    if (shown.size() > spss) shown.resize(spss);
    for (uint32_t i : shown) {
      const otlp::Span& s = view.span(i);
      SearchSpan span;
      span.id = s.span_id;
      span.name = std::string(s.name);
      span.start_unix_nano = s.start_time_unix_nano;
      span.duration_nanos = s.end_time_unix_nano >= s.start_time_unix_nano
                                ? s.end_time_unix_nano - s.start_time_unix_nano
                                : 0;
      for (const OutputField& f : evaluator.output_fields()) {
        Value v = evaluator.FieldValue(*f.expr, view, i);
        if (v.type != Value::Type::kNil) span.attributes.emplace_back(f.key, std::move(v));
      }
      o.spans.push_back(std::move(span));
    }
    out.spansets.push_back(std::move(o));
  }
  return out;
}

void Merge(SearchTrace& into, SearchTrace&& part) {
  into.start_unix_nano = std::min(into.start_unix_nano, part.start_unix_nano);
  into.end_unix_nano = std::max(into.end_unix_nano, part.end_unix_nano);
  if (!into.has_root && part.has_root) {
    into.has_root = true;
    into.root_service = std::move(part.root_service);
    into.root_name = std::move(part.root_name);
  }
  for (auto& s : part.spansets) into.spansets.push_back(std::move(s));
  for (const auto& [service, st] : part.service_stats) {
    ServiceStat& to = into.service_stats[service];
    to.spans += st.spans;
    to.errors += st.errors;
  }
}

}  // namespace

absl::Status Searcher::ForEachTrace(const std::string& tenant, uint64_t start, uint64_t end,
                                    uint32_t limit, const Planner* planner,
                                    const ColumnFilter* filter, const Evaluator* evaluator,
                                    const FieldExpr* extra_field, SearchResult& stats,
                                    const std::function<void(const TraceView&)>& fn,
                                    const std::function<bool(uint64_t)>& stop) const {
  // Span attributes and events / links the evaluation (and the extra field) reads.
  Projection projection;
  if (evaluator != nullptr) {
    projection.span_attribute_keys = evaluator->span_attribute_keys();
    projection.events = evaluator->uses_events();
    projection.links = evaluator->uses_links();
  }
  if (extra_field != nullptr) {
    if (extra_field->kind == FieldExpr::Kind::kAttribute) {
      projection.span_attribute_keys.push_back(extra_field->name);
      projection.events |= extra_field->scope == AttributeScope::kEvent;
      projection.links |= extra_field->scope == AttributeScope::kLink;
    } else {
      projection.events |= extra_field->intrinsic == Intrinsic::kEventName;
    }
  }
  auto consider = [&](const TraceView& view) {
    ++stats.inspected_traces;
    if (view.size() == 0 || !Overlaps(view.min_start(), view.max_end(), start, end)) return;
    fn(view);
  };
  // Live traces, in chunks; traces are ordered by their first batch so that a batch's
  // traces tend to fall in one chunk and it is decoded once.
  {
    std::vector<store::LiveTrace> live = store_.live().SnapshotTenant(tenant);
    std::erase_if(live, [&](const store::LiveTrace& t) {
      return !Overlaps(t.min_start_unix_nano, t.max_end_unix_nano, start, end);
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
      consider(TraceView(t.id, std::move(refs)));
    }
    stats.inspected_bytes += decoder.bytes();
  }

  std::vector<BlockHandlePtr> blocks = BlocksOf(store_, tenant, start, end);
  stats.total_blocks = static_cast<uint32_t>(blocks.size());
  for (const BlockHandlePtr& block : blocks) {
    if (stop && stop(block->meta.max_start_unix_nano)) break;
    const block::BlockReader& reader = *block->reader;
    // Damage in a section the whole block needs: the block is skipped.
    auto block_damaged = [&](store::BlockPart part, const absl::Status& s) -> absl::Status {
      if (!absl::IsDataLoss(s)) return s;
      store_.ReportDamage(block, part, 0, s);
      stats.row_groups_damaged += reader.num_row_groups();
      return absl::OkStatus();
    };
    const DamageSink row_group_damaged = [&](size_t rg, const absl::Status& s) -> absl::Status {
      if (!absl::IsDataLoss(s)) return s;
      store_.ReportDamage(block, store::BlockPart::kRowGroup, rg, s);
      return absl::OkStatus();
    };
    if (!block->damage->Searchable().ok()) {
      stats.row_groups_damaged += reader.num_row_groups();
      continue;
    }
    auto block_stats = reader.ReadStats();
    if (!block_stats.ok()) {
      RETURN_IF_ERROR(block_damaged(store::BlockPart::kStats, block_stats.status()));
      continue;
    }
    auto tables = reader.ReadTables();
    if (!tables.ok()) {
      RETURN_IF_ERROR(block_damaged(store::BlockPart::kTables, tables.status()));
      continue;
    }
    auto plans = PlanBlock(reader, *block_stats, *tables, *block->damage, row_group_damaged,
                           planner, filter, start, end, stats);
    if (!plans.ok()) {
      // Row group damage is handled inside; what is left concerns the tables.
      RETURN_IF_ERROR(block_damaged(store::BlockPart::kTables, plans.status()));
      continue;
    }
    if (std::none_of(plans->begin(), plans->end(), [](const auto& p) { return p.decode; })) {
      continue;
    }
    ++stats.blocks_read;
    RETURN_IF_ERROR(ScanBlock(reader, *tables, row_group_damaged, *plans, projection, stats,
                              consider, stop, limit, options_.decode_batch_spans));
  }
  return absl::OkStatus();
}

absl::Status Searcher::ScanTraces(const std::string& tenant, uint64_t start_unix_nano,
                                  uint64_t end_unix_nano,
                                  const std::function<void(const TraceView&)>& fn,
                                  const std::function<bool()>& stop) const {
  SearchResult stats;
  return ForEachTrace(tenant, start_unix_nano, end_unix_nano, /*limit=*/0, nullptr, nullptr,
                      nullptr, nullptr, stats, fn, [&](uint64_t) { return stop && stop(); });
}

absl::StatusOr<SearchResult> Searcher::Search(const SearchRequest& req) const {
  if (req.evaluator == nullptr) return absl::InvalidArgumentError("search without a query");
  SearchResult result;
  absl::flat_hash_map<otlp::TraceId, SearchTrace> found;

  auto qualifies = [&](const SearchTrace& t) {
    const uint64_t d = t.end_unix_nano - t.start_unix_nano;
    if (req.min_duration_nanos != 0 && d < req.min_duration_nanos) return false;
    if (req.max_duration_nanos != 0 && d > req.max_duration_nanos) return false;
    return true;
  };
  auto consider = [&](const TraceView& view) {
    std::vector<SpanSet> sets = req.evaluator->Evaluate(view);
    if (sets.empty()) return;
    SearchTrace part = Summarize(view, std::move(sets), *req.evaluator, req.spans_per_spanset);
    auto [it, inserted] = found.try_emplace(view.id());
    if (inserted) {
      it->second = std::move(part);
    } else {
      Merge(it->second, std::move(part));
    }
  };
  // Stops before a block when `limit` traces are found that are all newer than anything
  // the block holds.
  // Stops when `limit` traces are found that are all newer than anything left to read.
  auto stop = [&](uint64_t newest_start_left) {
    if (req.limit == 0) return false;
    std::vector<uint64_t> starts;
    for (const auto& [id, t] : found) {
      if (qualifies(t)) starts.push_back(t.start_unix_nano);
    }
    if (starts.size() < req.limit) return false;
    std::nth_element(starts.begin(), starts.begin() + (req.limit - 1), starts.end(),
                     std::greater<uint64_t>());
    return newest_start_left < starts[req.limit - 1];
  };
  if (auto s =
          ForEachTrace(req.tenant, req.start_unix_nano, req.end_unix_nano, req.limit, req.planner,
                       req.column_filter, req.evaluator, nullptr, result, consider, stop);
      !s.ok()) {
    return s;
  }

  for (auto& [id, t] : found) {
    if (qualifies(t)) result.traces.push_back(std::move(t));
  }
  std::sort(result.traces.begin(), result.traces.end(),
            [](const SearchTrace& a, const SearchTrace& b) {
              if (a.start_unix_nano != b.start_unix_nano) {
                return a.start_unix_nano > b.start_unix_nano;
              }
              return a.id < b.id;
            });
  if (req.limit != 0 && result.traces.size() > req.limit) result.traces.resize(req.limit);
  return result;
}

}  // namespace strand::traceql
