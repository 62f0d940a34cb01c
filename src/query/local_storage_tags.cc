// LocalStorage: tag names and values of live traces and local blocks.
#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "block/block_reader.h"
#include "common/status_macros.h"
#include "query/local_storage.h"
#include "query/local_storage_internal.h"
#include "traceql/evaluator.h"
#include "traceql/tag_values.h"

namespace strand::query {

using internal::BlocksOf;
using store::BlockHandlePtr;
using traceql::AttributeScope;
using traceql::CollectTagValues;
using traceql::FieldExpr;
using traceql::Intrinsic;
using traceql::kMaxTagValues;
using traceql::Overlaps;
using traceql::TagNames;
using traceql::TagValue;
using traceql::Value;

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

// Whether the values of `field` in a block are all in its tables section (resources and
// scopes), so no row group needs reading.
bool FromTablesOnly(const FieldExpr& f) {
  if (f.kind == FieldExpr::Kind::kAttribute) {
    return f.scope == AttributeScope::kResource || f.scope == AttributeScope::kInstrumentation;
  }
  return f.intrinsic == Intrinsic::kInstrumentationName ||
         f.intrinsic == Intrinsic::kInstrumentationVersion;
}

// The part of a block being read, to which damage found is attributed.
struct ReadingPart {
  store::BlockPart part = store::BlockPart::kTables;
  size_t row_group = 0;
};

// Adds the values of a span name or status message column of row group `i`.
absl::Status SpanStringValues(block::RowGroupDecoder& rg, const FieldExpr& field,
                              std::set<TagValue>& values) {
  auto col =
      rg.SpanStrings(field.intrinsic == Intrinsic::kSpanName ? block::ColumnId::kSpanName
                                                             : block::ColumnId::kSpanStatusMessage);
  if (!col.ok()) return col.status();
  for (std::string_view v : *col) {
    if (!v.empty()) values.insert({"string", std::string(v)});
  }
  return absl::OkStatus();
}

// Adds the values of the span attribute columns of `field.name` in row group `rg`.
absl::Status SpanAttributeValues(block::RowGroupDecoder& rg, const FieldExpr& field,
                                 std::set<TagValue>& values) {
  // Distinct raw values first (views into the page), converted once each.
  absl::flat_hash_set<int64_t> ints;
  absl::flat_hash_set<std::string_view> strings;
  absl::flat_hash_set<double> doubles;
  bool bools[2] = {false, false};
  int64_t last_int = 0;
  bool have_last_int = false;
  absl::Status st = rg.ForEachSpanAttribute(field.name, [&](uint32_t, const auto& v) {
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
    values.insert({"float", traceql::ValueToText(f)});
  }
  for (int b = 0; b < 2; ++b) {
    if (bools[b]) values.insert({"bool", b ? "true" : "false"});
  }
  return st;
}

// Adds the values of `field` that the statistics of a row group list in full (span names,
// string span attributes); false when they do not.
bool StatsValues(const block::RowGroupStats& rg, const FieldExpr& field,
                 std::set<TagValue>& values) {
  if (field.kind == FieldExpr::Kind::kIntrinsic && field.intrinsic == Intrinsic::kSpanName &&
      rg.span_names.complete) {
    for (const auto& n : rg.span_names.values) values.insert({"string", n});
    return true;
  }
  if (field.kind != FieldExpr::Kind::kAttribute || field.scope != AttributeScope::kSpan) {
    return false;
  }
  // Usable when every column of the key is a string column with its values listed.
  for (const auto& c : rg.columns) {
    if (c.owner != block::Owner::kSpan || c.key != field.name) continue;
    if (c.type != otlp::ValueType::kString || !c.values.complete) return false;
  }
  for (const auto& c : rg.columns) {
    if (c.owner != block::Owner::kSpan || c.key != field.name) continue;
    for (const auto& v : c.values.values) values.insert({"string", v});
  }
  return true;
}

// Adds the values of `field` in row group `i`: from its statistics when they list every
// value; span attributes and span names from their columns alone; anything else (events,
// links, root names) from the decoded row group.
absl::Status RowGroupValues(const block::BlockReader& reader, const block::BlockTables& tables,
                            size_t i, const block::RowGroupStats& rg, const FieldExpr& field,
                            std::set<TagValue>& values) {
  if (StatsValues(rg, field, values)) return absl::OkStatus();
  const bool span_attr =
      field.kind == FieldExpr::Kind::kAttribute &&
      (field.scope == AttributeScope::kSpan || field.scope == AttributeScope::kNone);
  const bool span_string =
      field.kind == FieldExpr::Kind::kIntrinsic &&
      (field.intrinsic == Intrinsic::kSpanName || field.intrinsic == Intrinsic::kSpanStatusMessage);
  const bool arrays = std::any_of(rg.columns.begin(), rg.columns.end(), [&](const auto& c) {
    return c.owner == block::Owner::kSpan && c.key == field.name &&
           c.type == otlp::ValueType::kArray;
  });
  if ((span_attr && !arrays) || span_string) {
    auto opened = reader.OpenRowGroup(i, /*load_traces=*/false);
    if (!opened.ok()) return opened.status();
    return span_string ? SpanStringValues(**opened, field, values)
                       : SpanAttributeValues(**opened, field, values);
  }
  auto data = reader.ReadRowGroup(i, tables);
  if (!data.ok()) return data.status();
  CollectTagValues(data->batch, field, values);
  return absl::OkStatus();
}

// Adds the values of `field` in a block: resource and scope values from the tables, the
// rest from the row groups overlapping [start, end] (not those known damaged, whose
// values are lost), until there are kMaxTagValues. `part` follows what is being read.
absl::Status ReadBlockValues(const store::BlockHandle& block, const FieldExpr& field,
                             uint64_t start, uint64_t end, std::set<TagValue>& values,
                             ReadingPart& part) {
  const block::BlockReader& reader = *block.reader;
  auto btables = reader.ReadTables();
  if (!btables.ok()) return btables.status();
  auto tables = TablesBatch(*btables);
  if (!tables.ok()) return tables.status();
  CollectTagValues(*tables, field, values);
  if (FromTablesOnly(field)) return absl::OkStatus();
  part.part = store::BlockPart::kStats;
  auto stats = reader.ReadStats();
  if (!stats.ok()) return stats.status();
  part.part = store::BlockPart::kRowGroup;
  for (size_t i = 0; i < stats->row_groups.size() && values.size() < kMaxTagValues; ++i) {
    if (!block.damage->RowGroup(i).ok()) continue;
    part.row_group = i;
    const block::RowGroupStats& rg = stats->row_groups[i];
    if (!Overlaps(rg.min_start, rg.max_end, start, end)) continue;
    RETURN_IF_ERROR(RowGroupValues(reader, *btables, i, rg, field, values));
  }
  return absl::OkStatus();
}

// Adds the values of `field` in the tenant's live traces (each request decoded once),
// stopping after a trace that brings them to kMaxTagValues.
absl::Status LiveValues(const store::Store& store, const std::string& tenant,
                        const FieldExpr& field, std::set<TagValue>& values) {
  absl::flat_hash_set<const store::LiveBatch*> seen;
  for (const store::LiveTrace& t : store.live().SnapshotTenant(tenant)) {
    for (const auto& b : t.batches) {
      if (!seen.insert(b.get()).second) continue;
      auto batch = b->Decode();
      if (!batch.ok()) return batch.status();
      CollectTagValues(**batch, field, values);
    }
    if (values.size() >= kMaxTagValues) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TagNames> LocalStorage::FetchTagNames(const std::string& tenant, uint64_t start,
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
  return out;
}

absl::StatusOr<std::vector<TagValue>> LocalStorage::FetchTagValues(const std::string& tenant,
                                                                   const FieldExpr& field,
                                                                   uint64_t start,
                                                                   uint64_t end) const {
  std::set<TagValue> values;
  RETURN_IF_ERROR(LiveValues(store_, tenant, field, values));
  const std::string field_key = traceql::ToString(field);
  // Blocks are independent: two threads read them (tag values answer an interactive
  // picker), each block's values merged under `mu`.
  absl::Mutex mu;
  std::atomic<size_t> found{values.size()};
  absl::Status first_error;
  auto process = [&](const BlockHandlePtr& block) {
    if (found.load() >= kMaxTagValues) return;
    auto block_values = BlockTagValues(block, field, field_key, start, end);
    absl::MutexLock lock(&mu);
    if (!block_values.ok()) {
      if (first_error.ok()) first_error = block_values.status();
      return;
    }
    values.insert((*block_values)->begin(), (*block_values)->end());
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
  return std::vector<TagValue>(values.begin(), values.end());
}

absl::StatusOr<TagValueCache::Values> LocalStorage::BlockTagValues(const BlockHandlePtr& block,
                                                                   const FieldExpr& field,
                                                                   const std::string& field_key,
                                                                   uint64_t start,
                                                                   uint64_t end) const {
  // A block wholly inside the range gives the same values every time: cached.
  const bool cacheable = (start == 0 || block->meta.min_start_unix_nano >= start) &&
                         (end == 0 || block->meta.max_end_unix_nano <= end);
  const std::string cache_key = absl::StrCat(block->dir, "\n", field_key);
  if (cacheable) {
    if (auto hit = cache_->Get(cache_key)) return hit;
  }
  std::set<TagValue> values;
  ReadingPart part;
  if (absl::Status s = ReadBlockValues(*block, field, start, end, values, part); !s.ok()) {
    if (!absl::IsDataLoss(s)) return s;
    store_.ReportDamage(block, part.part, part.row_group, s);
    return std::make_shared<const std::vector<TagValue>>();
  }
  auto out = std::make_shared<const std::vector<TagValue>>(values.begin(), values.end());
  if (cacheable && values.size() < kMaxTagValues) cache_->Put(cache_key, out);
  return out;
}

}  // namespace strand::query
