// Searcher: runs TraceQL searches and tag lookups over a store's live traces and blocks
// (the executor behind /api/search and the tag endpoints).
//
// Search reads live traces first, then blocks newest first (by their latest span start).
// A block is skipped when its time range is outside the request's or when the planner
// rules out every row group by its statistics; otherwise each row group that may match
// is decoded and its traces evaluated. Traces that continue across row groups are joined.
// A trace stored in several places (live and blocks, or several blocks not compacted yet)
// is evaluated per place, as Tempo does, and its results merged. The search stops once it
// holds `limit` traces and no unread block can hold a newer one, so the answer is the
// newest `limit` matches.
//
// Damage goes no further than the damaged part: a damaged row group (known, or found
// now and reported with Store::ReportDamage) is skipped and the search goes on with the
// rest; a block whose tables or statistics are damaged is skipped whole. Both are counted
// in SearchResult::row_groups_damaged (their traces may be missing from the answer).
// Thread-safe: each call keeps its state on the stack; the store must outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/store.h"
#include "traceql/ast.h"
#include "traceql/column_filter.h"
#include "traceql/evaluator.h"
#include "traceql/planner.h"

namespace strand::traceql {

struct SearchRequest {
  std::string tenant;
  const Evaluator* evaluator = nullptr;         // required
  const Planner* planner = nullptr;             // optional: without it no row group is skipped
  const ColumnFilter* column_filter = nullptr;  // optional: without it every trace of a
                                                // row group that may match is evaluated
  uint64_t start_unix_nano = 0;                 // traces overlapping [start, end]; 0 = open
  uint64_t end_unix_nano = 0;
  uint64_t min_duration_nanos = 0;  // trace duration bounds; 0 = none
  uint64_t max_duration_nanos = 0;
  uint32_t limit = 20;             // traces
  uint32_t spans_per_spanset = 3;  // spans shown per span set (all are counted)
};

using Labeled = std::pair<std::string, Value>;

struct SearchSpan {
  otlp::SpanId id{};
  std::string name;
  uint64_t start_unix_nano = 0;
  uint64_t duration_nanos = 0;
  std::vector<Labeled> attributes;
};

struct SearchSpanSet {
  std::vector<SearchSpan> spans;  // at most spans_per_spanset, by start time
  uint32_t matched = 0;           // spans in the set
  std::vector<Labeled> labels;    // by() values
};

// Spans and error spans of one service in a trace (Tempo's serviceStats).
struct ServiceStat {
  uint32_t spans = 0;
  uint32_t errors = 0;
};

struct SearchTrace {
  otlp::TraceId id{};
  bool has_root = false;
  std::string root_service;
  std::string root_name;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  std::vector<SearchSpanSet> spansets;
  // Per service.name, over the spans the search read of this trace.
  std::map<std::string, ServiceStat> service_stats;
};

struct SearchResult {
  std::vector<SearchTrace> traces;   // newest first
  uint64_t inspected_traces = 0;     // traces evaluated
  uint64_t inspected_spans = 0;      // live spans decoded, and spans of the row groups read
  uint64_t inspected_bytes = 0;      // live request bytes decoded, row group bytes read
  uint32_t total_blocks = 0;         // blocks of the tenant in the time range
  uint32_t blocks_read = 0;          // of those, blocks with a row group decoded
  uint64_t row_groups_filtered = 0;  // read for the column filter
  uint64_t row_groups_read = 0;      // decoded in full
  uint64_t row_groups_skipped = 0;   // ruled out by statistics or the column filter
  uint64_t row_groups_damaged = 0;   // not read because damaged (matches there are missing)
};

// Tag names by scope.
struct TagNames {
  std::vector<std::string> span;
  std::vector<std::string> resource;
  std::vector<std::string> event;
  std::vector<std::string> link;
  std::vector<std::string> instrumentation;
  std::vector<std::string> intrinsic;
};

struct TagValue {
  std::string type;  // string, int, float, bool, duration, keyword
  std::string value;
  bool operator<(const TagValue& o) const {
    return std::tie(type, value) < std::tie(o.type, o.value);
  }
  bool operator==(const TagValue& o) const { return type == o.type && value == o.value; }
};

// At most this many values are returned for one tag.
inline constexpr size_t kMaxTagValues = 1000;

// Tag values per (block, tag): blocks are immutable, so the values of a block wholly
// inside a request's time range never change. Bounded; thread-safe.
class TagValueCache {
 public:
  std::shared_ptr<const std::vector<TagValue>> Get(const std::string& key);
  void Put(const std::string& key, std::vector<TagValue> values);

 private:
  static constexpr size_t kMaxEntries = 4096;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const std::vector<TagValue>>> entries_
      ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
};

struct SearcherOptions {
  // Candidate traces of a block are decoded in batches of about this many spans at most
  // (bounds a search's memory: ~1.5 KB per decoded span).
  uint64_t decode_batch_spans = 50'000;
};

class Searcher {
 public:
  explicit Searcher(store::Store& store, SearcherOptions options = {})
      : store_(store), options_(options), cache_(std::make_unique<TagValueCache>()) {}

  absl::StatusOr<SearchResult> Search(const SearchRequest& request) const;

  // Attribute keys seen in the tenant's spans within [start, end] (0 = open).
  absl::StatusOr<TagNames> Tags(const std::string& tenant, uint64_t start_unix_nano,
                                uint64_t end_unix_nano) const;

  // Values of one tag: `scope` and `name` as in TraceQL (`resource` + `service.name`,
  // kNone for the unscoped `.x`), or an intrinsic (`name`, `status`, `kind`, ...) when
  // `intrinsic` is set.
  absl::StatusOr<std::vector<TagValue>> TagValuesOf(const std::string& tenant,
                                                    const FieldExpr& field,
                                                    uint64_t start_unix_nano,
                                                    uint64_t end_unix_nano) const;

  // The values of `field` among the spans that `filter` matches (the `q` of the tag
  // values API): a search over the time range.
  absl::StatusOr<std::vector<TagValue>> TagValuesMatching(
      const std::string& tenant, const FieldExpr& field, const Evaluator& filter,
      const Planner* planner, uint64_t start_unix_nano, uint64_t end_unix_nano) const;

  // Hands every trace (part) of the tenant overlapping [start, end] to `fn`, live traces
  // first, then blocks newest first, with fixed span fields and resources decoded (no
  // span attributes, events or links); `stop()` is asked before each block. A trace
  // stored in several places arrives once per place. For whole-data views such as the
  // service map.
  absl::Status ScanTraces(const std::string& tenant, uint64_t start_unix_nano,
                          uint64_t end_unix_nano, const std::function<void(const TraceView&)>& fn,
                          const std::function<bool()>& stop) const;

 private:
  // Hands every trace (part) of the tenant overlapping [start, end] that may match to
  // `fn`: live traces, then blocks newest first (statistics and the column filter skip
  // what cannot match; candidate traces are decoded newest first, with only the columns
  // `evaluator` and `extra_field` read). `stop(newest start left)` is asked before each
  // block and each batch of candidates.
  // `limit` (0: none) says whether reading candidates newest first can pay off.
  absl::Status ForEachTrace(const std::string& tenant, uint64_t start, uint64_t end, uint32_t limit,
                            const Planner* planner, const ColumnFilter* filter,
                            const Evaluator* evaluator, const FieldExpr* extra_field,
                            SearchResult& stats, const std::function<void(const TraceView&)>& fn,
                            const std::function<bool(uint64_t)>& stop) const;

  store::Store& store_;
  const SearcherOptions options_;
  std::unique_ptr<TagValueCache> cache_;
};

}  // namespace strand::traceql
