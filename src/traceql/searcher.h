// Searcher: the TraceQL engine behind /api/search and the tag endpoints. It runs
// searches and tag lookups over a Storage (storage.h), which it asks for the trace parts
// that may match; it evaluates each part, merges a trace's results across the places
// storage holds it in, and keeps the newest `limit` matches.
//
// A trace stored in several places (live and blocks, or several blocks not compacted yet)
// is evaluated per place, as Tempo does, and its results merged. The search tells storage
// to stop once it holds `limit` traces and nothing left unread can be newer, so the answer
// is the newest `limit` matches.
//
// Thread-safe: each call keeps its state on the stack; the storage must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "traceql/ast.h"
#include "traceql/evaluator.h"
#include "traceql/storage.h"

namespace strand::traceql {

struct SearchRequest {
  std::string tenant;
  const Evaluator* evaluator = nullptr;  // required; its query's conditions go to storage
  uint64_t start_unix_nano = 0;          // traces overlapping [start, end]; 0 = open
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

// The storage counters (FetchStats) of the search, and its answer.
struct SearchResult : FetchStats {
  std::vector<SearchTrace> traces;  // newest first
  uint64_t inspected_traces = 0;    // trace parts evaluated
};

class Searcher {
 public:
  explicit Searcher(const Storage& storage) : storage_(storage) {}

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
  absl::StatusOr<std::vector<TagValue>> TagValuesMatching(const std::string& tenant,
                                                          const FieldExpr& field,
                                                          const Evaluator& filter,
                                                          uint64_t start_unix_nano,
                                                          uint64_t end_unix_nano) const;

  // Hands every trace (part) of the tenant overlapping [start, end] to `fn`, in the order
  // storage reads them (for the local store: live traces, then blocks newest first), with
  // fixed span fields and resources (no span attributes, events or links); `stop()` is
  // asked before each unit of storage work. A trace stored in several places arrives once
  // per place. For whole-data views such as the service map.
  absl::Status ScanTraces(const std::string& tenant, uint64_t start_unix_nano,
                          uint64_t end_unix_nano, const std::function<void(const TraceView&)>& fn,
                          const std::function<bool()>& stop) const;

 private:
  // Fetches with `request` (its columns widened by what `evaluator` and `extra_field`
  // read, either may be null) and hands each part that overlaps the time range to `fn`,
  // counting it in `stats.inspected_traces`; the storage counters go to `stats`.
  absl::Status ForEachTrace(FetchRequest request, const Evaluator* evaluator,
                            const FieldExpr* extra_field, SearchResult& stats,
                            const std::function<void(const TraceView&)>& fn) const;

  const Storage& storage_;
};

}  // namespace strand::traceql
