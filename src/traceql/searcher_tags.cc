#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "block/block_reader.h"
#include "traceql/searcher.h"
#include "traceql/searcher_internal.h"

namespace strand::traceql {

using internal::BlocksOf;
using internal::LiveDecoder;
using internal::Overlaps;
using store::BlockHandlePtr;

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
absl::StatusOr<otlp::SpanBatch> TablesBatch(const block::BlockTables& tables) {
  otlp::SpanBatch batch;
  auto map = tables.NewBatchMap();
  for (uint32_t s = 0; s < tables.num_scopes(); ++s) {
    if (auto r = tables.CopyScope(s, batch, map); !r.ok()) return r.status();
  }
  for (uint32_t r = 0; r < tables.num_resources(); ++r) {
    if (auto x = tables.CopyResource(r, batch, map); !x.ok()) return x.status();
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
        store_.ReportDamage(block, store::BlockPart::kStats, 0, stats.status());
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
    auto block_tables = block->reader->ReadTables();
    auto tables = block_tables.ok() ? TablesBatch(*block_tables)
                                    : absl::StatusOr<otlp::SpanBatch>(block_tables.status());
    if (!tables.ok()) {
      if (absl::IsDataLoss(tables.status())) {
        store_.ReportDamage(block, store::BlockPart::kTables, 0, tables.status());
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
      case Intrinsic::kSpanKind: {
        // Every keyword, in the sorted order of the other lists.
        const bool status = field.intrinsic == Intrinsic::kSpanStatus;
        std::vector<TagValue> keywords;
        for (int64_t v = 0; v < (status ? 3 : 6); ++v) {
          keywords.push_back({"keyword", std::string(status ? StatusKeyword(v) : KindKeyword(v))});
        }
        std::sort(keywords.begin(), keywords.end());
        return keywords;
      }
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
    // The part being read, to which damage found is attributed.
    store::BlockPart part = store::BlockPart::kTables;
    size_t part_row_group = 0;
    absl::Status status = [&, &values = block_values]() -> absl::Status {
      // Resource and scope values come from the tables; span names and span attributes
      // from the statistics when they list every value, else from the row groups.
      auto btables = reader.ReadTables();
      if (!btables.ok()) return btables.status();
      auto tables = TablesBatch(*btables);
      if (!tables.ok()) return tables.status();
      CollectValues(*tables, field, values);
      if (FromTablesOnly(field)) return absl::OkStatus();
      part = store::BlockPart::kStats;
      auto stats = reader.ReadStats();
      if (!stats.ok()) return stats.status();
      part = store::BlockPart::kRowGroup;
      for (size_t i = 0; i < stats->row_groups.size() && values.size() < kMaxTagValues; ++i) {
        if (!block->damage->RowGroup(i).ok()) continue;  // known damaged: its values are lost
        part_row_group = i;
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
        store_.ReportDamage(block, part, part_row_group, status);
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
  if (auto s = ForEachTrace(tenant, start, end, /*limit=*/0, planner, &column_filter, &filter,
                            &field, stats, add, stop);
      !s.ok()) {
    return s;
  }
  std::vector<TagValue> out(values.begin(), values.end());
  if (out.size() > kMaxTagValues) out.resize(kMaxTagValues);
  return out;
}

}  // namespace strand::traceql
