#include "traceql/searcher.h"

#include <algorithm>
#include <map>
#include <set>

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

// What a search does with one row group of a block.
struct RowGroupPlan {
  bool decode = false;
  std::vector<char> candidates;                    // per trace segment; empty: every segment
  std::unique_ptr<block::RowGroupDecoder> opened;  // kept from the column pass, if any
};

// Decodes the row groups a plan selects, joins traces that continue across row groups,
// and hands each trace with a candidate part to `fn` as a TraceView.
class BlockTraceScanner {
 public:
  BlockTraceScanner(const block::BlockReader& reader, const block::BlockTables& tables)
      : reader_(reader), tables_(tables) {}

  template <typename Fn>
  absl::Status Scan(std::vector<RowGroupPlan>& plans, SearchResult& stats, Fn&& fn) {
    const auto& groups = reader_.footer().row_groups;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (!plans[i].decode) {
        Flush(fn);
        continue;
      }
      absl::StatusOr<block::RowGroupData> data =
          plans[i].opened ? block::BlockReader::DecodeRowGroup(*plans[i].opened, tables_)
                          : reader_.ReadRowGroup(i, tables_);
      plans[i].opened.reset();
      if (!data.ok()) return data.status();
      ++stats.row_groups_read;
      if (plans[i].candidates.empty()) {  // not counted by a column pass
        stats.inspected_bytes += groups[i].size;
        stats.inspected_spans += groups[i].span_count;
      }
      alive_.push_back(std::make_unique<block::RowGroupData>(std::move(*data)));
      const block::RowGroupData& rg = *alive_.back();
      const std::vector<char>& cand = plans[i].candidates;
      for (size_t k = 0; k < rg.traces.size(); ++k) {
        const auto& tr = rg.traces[k];
        if (k == 0 && has_pending_ && pending_id_ != tr.id) Flush(fn);
        if (!has_pending_) {
          has_pending_ = true;
          pending_id_ = tr.id;
          pending_candidate_ = false;
        }
        pending_candidate_ |= cand.empty() || (k < cand.size() && cand[k]);
        for (uint32_t s = tr.begin; s < tr.end; ++s) pending_.push_back({&rg.batch, s});
        const bool continues = k + 1 == rg.traces.size() && i + 1 < groups.size() &&
                               plans[i + 1].decode && groups[i + 1].first_trace == tr.id;
        if (!continues) Flush(fn);
      }
      if (!has_pending_) {
        // Nothing refers to older row groups any more.
        auto last = std::move(alive_.back());
        alive_.clear();
        alive_.push_back(std::move(last));
      }
    }
    Flush(fn);
    return absl::OkStatus();
  }

 private:
  template <typename Fn>
  void Flush(Fn&& fn) {
    if (!has_pending_) return;
    if (pending_candidate_) {
      TraceView view(pending_id_, std::move(pending_));
      fn(view);
    }
    pending_.clear();
    has_pending_ = false;
  }

  const block::BlockReader& reader_;
  const block::BlockTables& tables_;
  std::vector<std::unique_ptr<block::RowGroupData>> alive_;
  bool has_pending_ = false;
  bool pending_candidate_ = false;
  otlp::TraceId pending_id_{};
  std::vector<otlp::SpanRef> pending_;
};

// Row groups whose candidate decoders are kept from the column pass to the decoding pass;
// the others are read again (bounds the memory of broad searches).
constexpr size_t kMaxKeptDecoders = 8;

// Plans a block: statistics first, then the column filter on the row groups they leave,
// then the neighbours of candidate traces that continue across row groups.
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
  for (size_t i = 0; i + 1 < n; ++i)
    cont_after[i] = groups[i].last_trace == groups[i + 1].first_trace;
  auto cont_before = [&](size_t i) { return i > 0 && cont_after[i - 1]; };
  std::optional<ColumnFilter::BlockContext> ctx;
  if (filter != nullptr && filter->useful()) {
    auto c = filter->Prepare(tables);
    if (!c.ok()) return c.status();
    ctx = std::move(*c);
  }
  size_t kept = 0;
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
    if (!p.decode) {
      ++result.row_groups_skipped;
      continue;
    }
    if (!ctx) {
      p.candidates.clear();  // every segment
      continue;
    }
    auto opened = reader.OpenRowGroup(i);
    if (!opened.ok()) return opened.status();
    ++result.row_groups_filtered;
    result.inspected_bytes += groups[i].size;
    result.inspected_spans += groups[i].span_count;
    auto cand = filter->Candidates(**opened, *ctx, cont_before(i), cont_after[i]);
    if (!cand.ok()) return cand.status();
    p.candidates = std::move(*cand);
    p.decode = std::find(p.candidates.begin(), p.candidates.end(), 1) != p.candidates.end();
    if (!p.decode) {
      ++result.row_groups_skipped;
    } else if (kept < kMaxKeptDecoders) {
      p.opened = std::move(*opened);
      ++kept;
    }
  }
  // A candidate trace that continues across row groups needs all of its parts: mark the
  // boundary, carry it through row groups that hold nothing else, then decode both sides.
  std::vector<char> boundary(n, 0);  // boundary between i and i + 1 is a candidate trace
  auto first = [&](size_t i) {
    return !plans[i].candidates.empty() && plans[i].candidates.front();
  };
  auto last = [&](size_t i) { return !plans[i].candidates.empty() && plans[i].candidates.back(); };
  auto all_segments = [&](size_t i) { return plans[i].decode && plans[i].candidates.empty(); };
  for (size_t i = 0; i + 1 < n; ++i) {
    boundary[i] =
        cont_after[i] && (last(i) || first(i + 1) || all_segments(i) || all_segments(i + 1));
  }
  for (size_t i = 0; i + 2 < n; ++i) {  // forward through single-segment row groups
    if (boundary[i] && groups[i + 1].trace_count == 1 && cont_after[i + 1]) boundary[i + 1] = 1;
  }
  for (size_t i = n >= 2 ? n - 2 : 0; i-- > 0;) {  // and backward
    if (boundary[i + 1] && groups[i + 1].trace_count == 1 && cont_after[i]) boundary[i] = 1;
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!boundary[i]) continue;
    for (size_t j : {i, i + 1}) {
      if (!plans[j].decode) {
        plans[j].decode = true;
        --result.row_groups_skipped;
      }
    }
    if (!plans[i].candidates.empty()) plans[i].candidates.back() = 1;
    if (!plans[i + 1].candidates.empty()) plans[i + 1].candidates.front() = 1;
  }
  return plans;
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
      span.duration_nanos = s.end_time_unix_nano - s.start_time_unix_nano;
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

absl::Status Searcher::ForEachTrace(
    const std::string& tenant, uint64_t start, uint64_t end, const Planner* planner,
    const ColumnFilter* filter, SearchResult& stats,
    const std::function<void(const TraceView&)>& fn,
    const std::function<bool(const store::BlockHandle&)>& stop) const {
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
    if (stop && stop(*block)) break;
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
    BlockTraceScanner scanner(reader, *tables);
    if (auto s = scanner.Scan(*plans, stats, consider); !s.ok()) {
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
  auto stop = [&](const store::BlockHandle& block) {
    if (req.limit == 0) return false;
    std::vector<uint64_t> starts;
    for (const auto& [id, t] : found) {
      if (qualifies(t)) starts.push_back(t.start_unix_nano);
    }
    if (starts.size() < req.limit) return false;
    std::nth_element(starts.begin(), starts.begin() + (req.limit - 1), starts.end(),
                     std::greater<uint64_t>());
    return block.meta.max_start_unix_nano < starts[req.limit - 1];
  };
  if (auto s = ForEachTrace(req.tenant, req.start_unix_nano, req.end_unix_nano, req.planner,
                            req.column_filter, result, consider, stop);
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
      return TagValue{"float", absl::StrCat(v.f)};
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
  for (const BlockHandlePtr& block : BlocksOf(store_, tenant, start, end)) {
    if (values.size() >= kMaxTagValues) break;
    const block::BlockReader& reader = *block->reader;
    absl::Status status = [&]() -> absl::Status {
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
        auto data = reader.ReadRowGroup(i, *btables);
        if (!data.ok()) return data.status();
        CollectValues(data->batch, field, values);
      }
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      if (!absl::IsDataLoss(status)) return status;
      store_.QuarantineBlock(block, status);
    }
  }
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
        if (auto t = ToTagValue(filter.FieldValue(field, view, i))) values.insert(std::move(*t));
      }
    }
  };
  auto stop = [&](const store::BlockHandle&) { return values.size() >= kMaxTagValues; };
  ColumnFilter column_filter(filter.query());
  if (auto s = ForEachTrace(tenant, start, end, planner, &column_filter, stats, add, stop);
      !s.ok()) {
    return s;
  }
  std::vector<TagValue> out(values.begin(), values.end());
  if (out.size() > kMaxTagValues) out.resize(kMaxTagValues);
  return out;
}

}  // namespace strand::traceql
