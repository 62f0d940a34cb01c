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

namespace strand::traceql {
namespace {

using store::BlockHandlePtr;

// Live traces are decoded in chunks of about this many spans, which bounds the memory a
// search holds (~1.5 KB per decoded span).
constexpr size_t kLiveChunkSpans = 50'000;

bool Overlaps(uint64_t min_start, uint64_t max_end, uint64_t start, uint64_t end) {
  if (start != 0 && max_end < start) return false;
  if (end != 0 && min_start > end) return false;
  return true;
}

// The tenant's blocks that overlap [start, end], newest first.
std::vector<BlockHandlePtr> BlocksOf(const store::Store& store, const std::string& tenant,
                                     uint64_t start, uint64_t end) {
  std::vector<BlockHandlePtr> out;
  auto snapshot = store.blocks();
  for (const BlockHandlePtr& b : *snapshot) {
    if (b->meta.tenant != tenant) continue;
    if (!Overlaps(b->meta.min_start_unix_nano, b->meta.max_end_unix_nano, start, end)) continue;
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const BlockHandlePtr& a, const BlockHandlePtr& b) {
    return a->meta.max_start_unix_nano > b->meta.max_start_unix_nano;
  });
  return out;
}

// Decodes live batches once per chunk of traces.
class LiveDecoder {
 public:
  absl::StatusOr<const otlp::SpanBatch*> Get(const store::LiveBatch* batch) {
    auto it = decoded_.find(batch);
    if (it != decoded_.end()) return it->second.get();
    auto d = batch->Decode();
    if (!d.ok()) return d.status();
    bytes_ += batch->bytes()->size();
    return (decoded_[batch] = std::move(*d)).get();
  }
  void Clear() { decoded_.clear(); }
  uint64_t bytes() const { return bytes_; }

 private:
  absl::flat_hash_map<const store::LiveBatch*, std::shared_ptr<const otlp::SpanBatch>> decoded_;
  uint64_t bytes_ = 0;
};

}  // namespace

std::shared_ptr<const std::vector<TagValue>> TagValueCache::Get(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void TagValueCache::Put(const std::string& key, std::vector<TagValue> values) {
  absl::MutexLock lock(&mu_);
  if (entries_.size() >= kMaxEntries) {
    // Evict the oldest half (insertion order): simple, and blocks are few.
    while (order_.size() > kMaxEntries / 2) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }
  if (entries_.emplace(key, std::make_shared<const std::vector<TagValue>>(std::move(values)))
          .second) {
    order_.push_back(key);
  }
}

namespace {

// What a search does with one row group of a block.
struct RowGroupPlan {
  bool decode = false;
  std::vector<char> candidates;       // per trace segment
  std::vector<uint64_t> starts;       // per trace segment: its first span's start
  std::vector<uint32_t> span_counts;  // per trace segment
};

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

// Plans a block: statistics first, then the column filter on the row groups they leave
// (every segment is a candidate when it cannot judge), then the neighbours of candidate
// traces that continue across row groups.
absl::StatusOr<std::vector<RowGroupPlan>> PlanBlock(const block::BlockReader& reader,
                                                    const block::BlockStats& stats,
                                                    const block::BlockTables& tables,
                                                    const Planner* planner,
                                                    const ColumnFilter* filter, uint64_t start,
                                                    uint64_t end, SearchResult& result) {
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
  // Opens a row group for its segments' starts and, with a filter, its candidates.
  auto examine = [&](size_t i, bool all) -> absl::Status {
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
    return absl::OkStatus();
  };
  for (size_t i = 0; i < n; ++i) {
    RowGroupPlan& p = plans[i];
    p.candidates.assign(groups[i].trace_count, 0);
    if (i < stats.row_groups.size()) {
      const block::RowGroupStats& rg = stats.row_groups[i];
      const bool boundary = cont_before(i) || cont_after[i];
      p.decode = Overlaps(rg.min_start, rg.max_end, start, end) &&
                 (planner == nullptr || planner->MayMatch(rg) ||
                  (boundary && planner->MayMatch(rg, true)));
    }
    if (!p.decode) continue;
    if (auto s = examine(i, false); !s.ok()) return s;
    p.decode = std::find(p.candidates.begin(), p.candidates.end(), 1) != p.candidates.end();
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
      if (plans[j].starts.empty()) {
        // Not examined (statistics ruled it out): read its starts; only the boundary
        // segment becomes a candidate.
        if (auto s = examine(j, true); !s.ok()) return s;
        std::fill(plans[j].candidates.begin(), plans[j].candidates.end(), 0);
      }
      plans[j].decode = true;
    }
    plans[i].candidates.back() = 1;
    plans[i + 1].candidates.front() = 1;
  }
  for (const RowGroupPlan& p : plans) result.row_groups_skipped += p.decode ? 0 : 1;
  return plans;
}

// The candidate traces of a planned block, newest first.
std::vector<CandidateTrace> CandidateTraces(const std::vector<RowGroupPlan>& plans,
                                            const std::vector<block::RowGroupInfo>& groups) {
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
  std::stable_sort(out.begin(), out.end(), [](const CandidateTrace& a, const CandidateTrace& b) {
    return a.start > b.start;
  });
  return out;
}

// Decodes and evaluates a block's candidate traces newest first, in growing batches (only
// their segments and the projected columns); asks `stop` with the newest start still
// unread before each batch.
absl::Status ScanBlock(const block::BlockReader& reader, const block::BlockTables& tables,
                       const std::vector<RowGroupPlan>& plans, const Projection& projection,
                       SearchResult& stats, const std::function<void(const TraceView&)>& fn,
                       const std::function<bool(uint64_t)>& stop) {
  const auto& groups = reader.footer().row_groups;
  std::vector<CandidateTrace> traces = CandidateTraces(plans, groups);
  block::RowGroupDecoder::DecodeOptions options;
  options.span_attribute_keys = &projection.span_attribute_keys;
  options.events = projection.events;
  options.links = projection.links;
  size_t next = 0;
  // Batches grow (few searches need more than the first) but stay under ~50k spans.
  size_t batch_size = 64;
  std::vector<char> decoded_once(groups.size(), 0);
  while (next < traces.size()) {
    if (stop && stop(traces[next].start)) break;
    size_t end = next;
    uint64_t spans = 0;
    while (end < traces.size() && end < next + batch_size &&
           (end == next || spans < kLiveChunkSpans)) {
      for (const TracePart& part : traces[end].parts) {
        spans += plans[part.row_group].span_counts[part.segment];
      }
      ++end;
    }
    batch_size *= 4;
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
      auto decoder = reader.OpenRowGroup(rg);
      if (!decoder.ok()) return decoder.status();
      auto batch = std::make_unique<otlp::SpanBatch>();
      auto map = tables.NewBatchMap();
      options.segments = &sel;
      const uint32_t n = (*decoder)->num_traces();
      if (auto s = (*decoder)->DecodeTraces(0, n, tables, map, *batch, options); !s.ok()) return s;
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
}

}  // namespace

absl::Status Searcher::ForEachTrace(const std::string& tenant, uint64_t start, uint64_t end,
                                    const Planner* planner, const ColumnFilter* filter,
                                    const Evaluator* evaluator, const FieldExpr* extra_field,
                                    SearchResult& stats,
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
    auto damaged = [&](const absl::Status& s) -> absl::Status {
      if (!absl::IsDataLoss(s)) return s;
      store_.QuarantineBlock(block, s);
      return absl::OkStatus();
    };
    auto block_stats = reader.ReadStats();
    if (!block_stats.ok()) {
      if (auto s = damaged(block_stats.status()); !s.ok()) return s;
      continue;
    }
    auto tables = reader.ReadTables();
    if (!tables.ok()) {
      if (auto s = damaged(tables.status()); !s.ok()) return s;
      continue;
    }
    auto plans = PlanBlock(reader, *block_stats, *tables, planner, filter, start, end, stats);
    if (!plans.ok()) {
      if (auto s = damaged(plans.status()); !s.ok()) return s;
      continue;
    }
    if (std::none_of(plans->begin(), plans->end(), [](const auto& p) { return p.decode; })) {
      continue;
    }
    ++stats.blocks_read;
    if (auto s = ScanBlock(reader, *tables, *plans, projection, stats, consider, stop); !s.ok()) {
      if (auto d = damaged(s); !d.ok()) return d;
    }
  }
  return absl::OkStatus();
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
  if (auto s = ForEachTrace(req.tenant, req.start_unix_nano, req.end_unix_nano, req.planner,
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

namespace {

void AddKeys(const otlp::SpanBatch& b, otlp::Range r, absl::flat_hash_set<std::string>& out) {
  for (uint32_t a = r.begin; a < r.end; ++a) out.emplace(b.attributes[a].key);
}

// Every attribute key of a batch, by scope.
struct KeySets {
  absl::flat_hash_set<std::string> span, resource, event, link, instrumentation;
  void AddBatch(const otlp::SpanBatch& b) {
    for (const auto& r : b.resources) AddKeys(b, r.attributes, resource);
    for (const auto& s : b.scopes) AddKeys(b, s.attributes, instrumentation);
    for (const auto& s : b.spans) AddKeys(b, s.attributes, span);
    for (const auto& e : b.events) AddKeys(b, e.attributes, event);
    for (const auto& l : b.links) AddKeys(b, l.attributes, link);
  }
};

std::vector<std::string> Sorted(const absl::flat_hash_set<std::string>& s) {
  std::vector<std::string> v(s.begin(), s.end());
  std::sort(v.begin(), v.end());
  return v;
}

// Reads the block's resources and scopes into one batch.
absl::StatusOr<otlp::SpanBatch> TablesBatch(const block::BlockReader& reader) {
  auto tables = reader.ReadTables();
  if (!tables.ok()) return tables.status();
  otlp::SpanBatch batch;
  auto map = tables->NewBatchMap();
  for (uint32_t s = 0; s < tables->num_scopes(); ++s) {
    if (auto r = tables->CopyScope(s, batch, map); !r.ok()) return r.status();
  }
  for (uint32_t r = 0; r < tables->num_resources(); ++r) {
    if (auto x = tables->CopyResource(r, batch, map); !x.ok()) return x.status();
  }
  return batch;
}

// A value as the tag values API lists it, if it is listable.
std::optional<TagValue> ToTagValue(const Value& v) {
  switch (v.type) {
    case Value::Type::kString:
      return TagValue{"string", v.s};
    case Value::Type::kInt:
      return TagValue{"int", absl::StrCat(v.i)};
    case Value::Type::kFloat:
      return TagValue{"float", ValueToText(v)};
    case Value::Type::kBool:
      return TagValue{"bool", v.b ? "true" : "false"};
    case Value::Type::kStatus:
    case Value::Type::kKind:
      return TagValue{"keyword", ValueToText(v)};
    default:
      return std::nullopt;
  }
}

void AddValue(const otlp::SpanBatch& b, const otlp::AnyValue& v, std::set<TagValue>& out) {
  Value x;
  switch (v.type) {
    case otlp::ValueType::kString:
      x.type = Value::Type::kString;
      x.s = std::string(v.str);
      break;
    case otlp::ValueType::kInt:
      x.type = Value::Type::kInt;
      x.i = v.int_value;
      break;
    case otlp::ValueType::kDouble:
      x.type = Value::Type::kFloat;
      x.f = v.double_value;
      break;
    case otlp::ValueType::kBool:
      x.type = Value::Type::kBool;
      x.b = v.bool_value;
      break;
    case otlp::ValueType::kArray:
      for (uint32_t k = v.children.begin; k < v.children.end; ++k) {
        if (b.array_values[k].type != otlp::ValueType::kArray) AddValue(b, b.array_values[k], out);
      }
      return;
    default:
      return;
  }
  if (auto t = ToTagValue(x)) out.insert(std::move(*t));
}

void AddAttr(const otlp::SpanBatch& b, otlp::Range r, const std::string& key,
             std::set<TagValue>& out) {
  if (const otlp::AnyValue* v = FindAttribute(b, r, key)) AddValue(b, *v, out);
}

// The values of `field` in the spans (and their resources, events, ...) of a batch.
void CollectValues(const otlp::SpanBatch& b, const FieldExpr& field, std::set<TagValue>& out) {
  if (field.kind == FieldExpr::Kind::kIntrinsic) {
    for (const auto& s : b.spans) {
      switch (field.intrinsic) {
        case Intrinsic::kSpanName:
          out.insert({"string", std::string(s.name)});
          break;
        case Intrinsic::kSpanStatusMessage:
          if (!s.status_message.empty()) out.insert({"string", std::string(s.status_message)});
          break;
        case Intrinsic::kTraceRootName:
          if (!s.has_parent) out.insert({"string", std::string(s.name)});
          break;
        case Intrinsic::kTraceRootService:
          if (!s.has_parent && s.scope_index < b.scopes.size()) {
            const uint32_t r = b.scopes[s.scope_index].resource_index;
            if (r < b.resources.size()) {
              const otlp::AnyValue* v = FindAttribute(b, b.resources[r].attributes, "service.name");
              if (v != nullptr && v->type == otlp::ValueType::kString) {
                out.insert({"string", std::string(v->str)});
              }
            }
          }
          break;
        default:
          break;
      }
    }
    for (const auto& e : b.events) {
      if (field.intrinsic == Intrinsic::kEventName) out.insert({"string", std::string(e.name)});
    }
    for (const auto& sc : b.scopes) {
      if (field.intrinsic == Intrinsic::kInstrumentationName && !sc.name.empty()) {
        out.insert({"string", std::string(sc.name)});
      }
      if (field.intrinsic == Intrinsic::kInstrumentationVersion && !sc.version.empty()) {
        out.insert({"string", std::string(sc.version)});
      }
    }
    return;
  }
  const std::string& key = field.name;
  switch (field.scope) {
    case AttributeScope::kResource:
      for (const auto& r : b.resources) AddAttr(b, r.attributes, key, out);
      break;
    case AttributeScope::kSpan:
      for (const auto& s : b.spans) AddAttr(b, s.attributes, key, out);
      break;
    case AttributeScope::kNone:
      for (const auto& r : b.resources) AddAttr(b, r.attributes, key, out);
      for (const auto& s : b.spans) AddAttr(b, s.attributes, key, out);
      break;
    case AttributeScope::kEvent:
      for (const auto& e : b.events) AddAttr(b, e.attributes, key, out);
      break;
    case AttributeScope::kLink:
      for (const auto& l : b.links) AddAttr(b, l.attributes, key, out);
      break;
    case AttributeScope::kInstrumentation:
      for (const auto& s : b.scopes) AddAttr(b, s.attributes, key, out);
      break;
  }
}

// Whether the values of `field` in a block are all in its tables section (resources and
// scopes), so no row group needs reading.
bool FromTablesOnly(const FieldExpr& f) {
  if (f.kind == FieldExpr::Kind::kAttribute) {
    return f.scope == AttributeScope::kResource || f.scope == AttributeScope::kInstrumentation;
  }
  return f.intrinsic == Intrinsic::kInstrumentationName ||
         f.intrinsic == Intrinsic::kInstrumentationVersion;
}

}  // namespace

absl::StatusOr<TagNames> Searcher::Tags(const std::string& tenant, uint64_t start,
                                        uint64_t end) const {
  KeySets keys;
  {
    absl::flat_hash_set<const store::LiveBatch*> seen;
    for (const store::LiveTrace& t : store_.live().SnapshotTenant(tenant)) {
      for (const auto& b : t.batches) {
        if (!seen.insert(b.get()).second) continue;
        auto batch = b->Decode();
        if (!batch.ok()) return batch.status();
        keys.AddBatch(**batch);
      }
    }
  }
  for (const BlockHandlePtr& block : BlocksOf(store_, tenant, start, end)) {
    auto stats = block->reader->ReadStats();
    if (!stats.ok()) {
      if (absl::IsDataLoss(stats.status())) {
        store_.QuarantineBlock(block, stats.status());
        continue;
      }
      return stats.status();
    }
    for (const auto& rg : stats->row_groups) {
      for (const auto& c : rg.columns) {
        auto& set = c.owner == block::Owner::kSpan    ? keys.span
                    : c.owner == block::Owner::kEvent ? keys.event
                                                      : keys.link;
        set.insert(c.key);
      }
    }
    auto tables = TablesBatch(*block->reader);
    if (!tables.ok()) {
      if (absl::IsDataLoss(tables.status())) {
        store_.QuarantineBlock(block, tables.status());
        continue;
      }
      return tables.status();
    }
    keys.AddBatch(*tables);
  }
  TagNames out;
  out.span = Sorted(keys.span);
  out.resource = Sorted(keys.resource);
  out.event = Sorted(keys.event);
  out.link = Sorted(keys.link);
  out.instrumentation = Sorted(keys.instrumentation);
  out.intrinsic = {"duration",
                   "event:name",
                   "event:timeSinceStart",
                   "instrumentation:name",
                   "instrumentation:version",
                   "kind",
                   "link:spanID",
                   "link:traceID",
                   "name",
                   "rootName",
                   "rootServiceName",
                   "span:duration",
                   "span:id",
                   "span:kind",
                   "span:name",
                   "span:parentID",
                   "span:status",
                   "span:statusMessage",
                   "status",
                   "statusMessage",
                   "trace:duration",
                   "trace:id",
                   "trace:rootName",
                   "trace:rootService",
                   "traceDuration"};
  return out;
}

absl::StatusOr<std::vector<TagValue>> Searcher::TagValuesOf(const std::string& tenant,
                                                            const FieldExpr& field, uint64_t start,
                                                            uint64_t end) const {
  if (field.kind == FieldExpr::Kind::kIntrinsic) {
    switch (field.intrinsic) {
      case Intrinsic::kSpanStatus:
        return std::vector<TagValue>{{"keyword", "error"}, {"keyword", "ok"}, {"keyword", "unset"}};
      case Intrinsic::kSpanKind:
        return std::vector<TagValue>{{"keyword", "client"},   {"keyword", "consumer"},
                                     {"keyword", "internal"}, {"keyword", "producer"},
                                     {"keyword", "server"},   {"keyword", "unspecified"}};
      case Intrinsic::kSpanName:
      case Intrinsic::kSpanStatusMessage:
      case Intrinsic::kTraceRootName:
      case Intrinsic::kTraceRootService:
      case Intrinsic::kEventName:
      case Intrinsic::kInstrumentationName:
      case Intrinsic::kInstrumentationVersion:
        break;
      default:
        return absl::InvalidArgumentError(
            "not supported: values of this intrinsic are not listed (durations and IDs are "
            "not enumerable)");
    }
  }
  std::set<TagValue> values;
  {
    absl::flat_hash_set<const store::LiveBatch*> seen;
    for (const store::LiveTrace& t : store_.live().SnapshotTenant(tenant)) {
      for (const auto& b : t.batches) {
        if (!seen.insert(b.get()).second) continue;
        auto batch = b->Decode();
        if (!batch.ok()) return batch.status();
        CollectValues(**batch, field, values);
      }
      if (values.size() >= kMaxTagValues) break;
    }
  }
  const std::string field_key = ToString(field);
  // Blocks are independent: two threads read them (tag values answer an interactive
  // picker), each block's values merged under `mu`.
  absl::Mutex mu;
  std::atomic<size_t> found{values.size()};
  absl::Status first_error;
  auto process = [&](const BlockHandlePtr& block) {
    if (found.load() >= kMaxTagValues) return;
    const block::BlockReader& reader = *block->reader;
    // A block wholly inside the range gives the same values every time: cached.
    const bool cacheable = (start == 0 || block->meta.min_start_unix_nano >= start) &&
                           (end == 0 || block->meta.max_end_unix_nano <= end);
    const std::string cache_key = absl::StrCat(block->dir, "\n", field_key);
    if (cacheable) {
      if (auto hit = cache_->Get(cache_key)) {
        absl::MutexLock lock(&mu);
        values.insert(hit->begin(), hit->end());
        found.store(values.size());
        return;
      }
    }
    std::set<TagValue> block_values;
    absl::Status status = [&, &values = block_values]() -> absl::Status {
      // Resource and scope values come from the tables; span names and span attributes
      // from the statistics when they list every value, else from the row groups.
      auto tables = TablesBatch(reader);
      if (!tables.ok()) return tables.status();
      CollectValues(*tables, field, values);
      if (FromTablesOnly(field)) return absl::OkStatus();
      if (field.kind == FieldExpr::Kind::kAttribute && field.scope == AttributeScope::kResource) {
        return absl::OkStatus();
      }
      auto stats = reader.ReadStats();
      if (!stats.ok()) return stats.status();
      auto btables = reader.ReadTables();
      if (!btables.ok()) return btables.status();
      for (size_t i = 0; i < stats->row_groups.size() && values.size() < kMaxTagValues; ++i) {
        const block::RowGroupStats& rg = stats->row_groups[i];
        if (!Overlaps(rg.min_start, rg.max_end, start, end)) continue;
        bool from_stats = false;
        if (field.kind == FieldExpr::Kind::kIntrinsic && field.intrinsic == Intrinsic::kSpanName &&
            rg.span_names.complete) {
          for (const auto& n : rg.span_names.values) values.insert({"string", n});
          from_stats = true;
        } else if (field.kind == FieldExpr::Kind::kAttribute &&
                   field.scope == AttributeScope::kSpan) {
          // Usable when every column of the key is a string column with its values listed.
          from_stats = true;
          for (const auto& c : rg.columns) {
            if (c.owner != block::Owner::kSpan || c.key != field.name) continue;
            if (c.type != otlp::ValueType::kString || !c.values.complete) from_stats = false;
          }
          if (from_stats) {
            for (const auto& c : rg.columns) {
              if (c.owner != block::Owner::kSpan || c.key != field.name) continue;
              for (const auto& v : c.values.values) values.insert({"string", v});
            }
          }
        }
        if (from_stats) continue;
        // Span attributes and span names from their columns alone; anything else (events,
        // links, root names) from the decoded row group.
        const bool span_attr =
            field.kind == FieldExpr::Kind::kAttribute &&
            (field.scope == AttributeScope::kSpan || field.scope == AttributeScope::kNone);
        const bool span_string = field.kind == FieldExpr::Kind::kIntrinsic &&
                                 (field.intrinsic == Intrinsic::kSpanName ||
                                  field.intrinsic == Intrinsic::kSpanStatusMessage);
        const bool arrays = std::any_of(rg.columns.begin(), rg.columns.end(), [&](const auto& c) {
          return c.owner == block::Owner::kSpan && c.key == field.name &&
                 c.type == otlp::ValueType::kArray;
        });
        if ((span_attr && !arrays) || span_string) {
          auto opened = reader.OpenRowGroup(i, /*load_traces=*/false);
          if (!opened.ok()) return opened.status();
          if (span_string) {
            auto col = (*opened)->SpanStrings(field.intrinsic == Intrinsic::kSpanName
                                                  ? block::ColumnId::kSpanName
                                                  : block::ColumnId::kSpanStatusMessage);
            if (!col.ok()) return col.status();
            for (std::string_view v : *col) {
              if (!v.empty()) values.insert({"string", std::string(v)});
            }
            continue;
          }
          // Distinct raw values first (views into the page), converted once each.
          absl::flat_hash_set<int64_t> ints;
          absl::flat_hash_set<std::string_view> strings;
          absl::flat_hash_set<double> doubles;
          bool bools[2] = {false, false};
          int64_t last_int = 0;
          bool have_last_int = false;
          absl::Status st =
              (*opened)->ForEachSpanAttribute(field.name, [&](uint32_t, const auto& v) {
                switch (v.type) {
                  case otlp::ValueType::kInt:
                    // Runs of one value are common (rows are grouped by trace).
                    if (!have_last_int || v.int_value != last_int) ints.insert(v.int_value);
                    last_int = v.int_value;
                    have_last_int = true;
                    break;
                  case otlp::ValueType::kString:
                    strings.insert(v.str);
                    break;
                  case otlp::ValueType::kDouble:
                    doubles.insert(v.double_value);
                    break;
                  case otlp::ValueType::kBool:
                    bools[v.bool_value ? 1 : 0] = true;
                    break;
                  default:
                    break;
                }
              });
          for (int64_t v : ints) values.insert({"int", absl::StrCat(v)});
          for (std::string_view v : strings) values.insert({"string", std::string(v)});
          for (double v : doubles) {
            Value f;
            f.type = Value::Type::kFloat;
            f.f = v;
            values.insert({"float", ValueToText(f)});
          }
          for (int b = 0; b < 2; ++b) {
            if (bools[b]) values.insert({"bool", b ? "true" : "false"});
          }
          if (!st.ok()) return st;
          continue;
        }
        auto data = reader.ReadRowGroup(i, *btables);
        if (!data.ok()) return data.status();
        CollectValues(data->batch, field, values);
      }
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      if (absl::IsDataLoss(status)) {
        store_.QuarantineBlock(block, status);
      } else {
        absl::MutexLock lock(&mu);
        if (first_error.ok()) first_error = status;
      }
      return;
    }
    if (cacheable && block_values.size() < kMaxTagValues) {
      cache_->Put(cache_key, std::vector<TagValue>(block_values.begin(), block_values.end()));
    }
    absl::MutexLock lock(&mu);
    values.insert(block_values.begin(), block_values.end());
    found.store(values.size());
  };
  const std::vector<BlockHandlePtr> blocks = BlocksOf(store_, tenant, start, end);
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t i = next++; i < blocks.size(); i = next++) process(blocks[i]);
  };
  std::thread helper;
  if (blocks.size() > 1) helper = std::thread(worker);
  worker();
  if (helper.joinable()) helper.join();
  if (!first_error.ok()) return first_error;
  std::vector<TagValue> out(values.begin(), values.end());
  if (out.size() > kMaxTagValues) out.resize(kMaxTagValues);
  return out;
}

absl::StatusOr<std::vector<TagValue>> Searcher::TagValuesMatching(
    const std::string& tenant, const FieldExpr& field, const Evaluator& filter,
    const Planner* planner, uint64_t start, uint64_t end) const {
  std::set<TagValue> values;
  SearchResult stats;
  auto add = [&](const TraceView& view) {
    for (const SpanSet& set : filter.Evaluate(view)) {
      for (uint32_t i : set.spans) {
        // Event and link fields have a value per event / link of the span.
        const otlp::Span& span = view.span(i);
        const bool events = field.kind == FieldExpr::Kind::kAttribute
                                ? field.scope == AttributeScope::kEvent
                                : field.intrinsic == Intrinsic::kEventName;
        const bool links =
            field.kind == FieldExpr::Kind::kAttribute && field.scope == AttributeScope::kLink;
        if (events) {
          for (uint32_t e = span.events.begin; e < span.events.end; ++e) {
            if (auto t = ToTagValue(filter.FieldValue(field, view, i, static_cast<int32_t>(e)))) {
              values.insert(std::move(*t));
            }
          }
        } else if (links) {
          for (uint32_t l = span.links.begin; l < span.links.end; ++l) {
            if (auto t =
                    ToTagValue(filter.FieldValue(field, view, i, -1, static_cast<int32_t>(l)))) {
              values.insert(std::move(*t));
            }
          }
        } else if (auto t = ToTagValue(filter.FieldValue(field, view, i))) {
          values.insert(std::move(*t));
        }
      }
    }
  };
  auto stop = [&](uint64_t) { return values.size() >= kMaxTagValues; };
  ColumnFilter column_filter(filter.query());
  if (auto s = ForEachTrace(tenant, start, end, planner, &column_filter, &filter, &field, stats,
                            add, stop);
      !s.ok()) {
    return s;
  }
  std::vector<TagValue> out(values.begin(), values.end());
  if (out.size() > kMaxTagValues) out.resize(kMaxTagValues);
  return out;
}

}  // namespace strand::traceql
