// Storage: the seam between the TraceQL engine and whatever holds the spans
// (docs/architecture.md, "The TraceQL storage seam").
//
// The engine (Searcher) parses, compiles and evaluates queries; it asks a Storage for the
// trace parts of a tenant within a time range that may satisfy a query's conditions,
// with the columns evaluation reads, and for tag names and values. A Storage decides how
// to find them (live traces in memory, local blocks with their statistics and columns;
// object storage or remote query nodes later) and knows nothing of evaluation: what it
// hands over is a superset of what matches, and the engine evaluates every part.
//
// This header includes nothing of `block/` or `store/`, and no implementation may be
// named in `src/traceql` (src/query/ holds the local one).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "traceql/ast.h"
#include "traceql/trace_view.h"

namespace strand::traceql {

// Whether something spanning [min_start, max_end] overlaps the range [start, end], where
// 0 leaves that end open. The time-range rule of every request below.
inline bool Overlaps(uint64_t min_start, uint64_t max_end, uint64_t start, uint64_t end) {
  if (start != 0 && max_end < start) return false;
  if (end != 0 && min_start > end) return false;
  return true;
}

// What a fetch asks for.
struct FetchRequest {
  std::string tenant;
  uint64_t start_unix_nano = 0;  // trace parts overlapping [start, end]; 0 = open
  uint64_t end_unix_nano = 0;
  // The query whose conditions (the first spanset expression of its pipeline) storage may
  // use to leave out parts that cannot match; null: every part. Outlives the fetch.
  const Query* conditions = nullptr;
  // What evaluation reads besides each span's fixed fields, resource and scope: span
  // attribute keys (scoped and unscoped), events, links. Storage may leave the rest out.
  std::vector<std::string> span_attribute_keys;
  bool events = false;
  bool links = false;
  // The number of traces the caller keeps (0: all): whether reading newest first pays off.
  uint32_t limit = 0;
  // Asked, when set, with the newest start among the parts not handed over yet, before
  // each unit of work (a block, a batch of candidates); true ends the fetch early.
  std::function<bool(uint64_t newest_start_left)> stop;
};

// What a fetch read (the counters of the search answer's metrics).
struct FetchStats {
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

// Implementations are thread-safe: searches run concurrently.
class Storage {
 public:
  virtual ~Storage() = default;

  // Hands every trace part of the request's tenant that overlaps its time range and may
  // satisfy its conditions to `fn`, one call per part. A trace held in several places
  // (in memory and in blocks, in several blocks) arrives once per place; a trace split
  // inside one place arrives joined. Damage that costs only part of the data is counted
  // in FetchStats::row_groups_damaged, not returned.
  virtual absl::StatusOr<FetchStats> Fetch(
      const FetchRequest& request, const std::function<void(const TraceView&)>& fn) const = 0;

  // The attribute keys of the tenant's spans within [start, end] (0 = open), by scope
  // (`intrinsic` left empty: the engine knows them).
  virtual absl::StatusOr<TagNames> FetchTagNames(const std::string& tenant, uint64_t start,
                                                 uint64_t end) const = 0;

  // The distinct values of an attribute or an enumerable intrinsic (span and root names,
  // status message, event name, instrumentation name and version) within [start, end],
  // sorted; at least kMaxTagValues of them when there are that many (more may come).
  virtual absl::StatusOr<std::vector<TagValue>> FetchTagValues(const std::string& tenant,
                                                               const FieldExpr& field,
                                                               uint64_t start,
                                                               uint64_t end) const = 0;
};

}  // namespace strand::traceql
