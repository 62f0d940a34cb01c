// LocalStorage: the TraceQL storage seam (traceql/storage.h) over one Store: its live
// traces and the local blocks it lists.
//
// A fetch reads live traces first, then blocks newest first (by their latest span
// start). A block is skipped when its time range is outside the request's or when the
// planner rules out every row group by its statistics; otherwise the column filter finds
// the candidate traces of each row group that may match, and those are decoded (newest
// first when the limit can stop the fetch inside the block, in batches of bounded size,
// with only the columns asked for). Traces that continue across row groups are joined.
// `stop` is asked before each block and each batch of candidates.
//
// Damage goes no further than the damaged part: a damaged row group (known, or found
// now and reported with Store::ReportDamage) is skipped and the fetch goes on with the
// rest; a block whose tables or statistics are damaged is skipped whole. Both are counted
// in FetchStats::row_groups_damaged (their traces may be missing from the answer).
//
// Tag values of a block wholly inside a request's time range are cached per (block, tag).
//
// Thread-safe; the store must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "query/tag_value_cache.h"
#include "store/store.h"
#include "traceql/storage.h"

namespace strand::query {

class ColumnFilter;
class Planner;

struct LocalStorageOptions {
  // Candidate traces of a block are decoded in batches of about this many spans at most
  // (bounds a search's memory: ~1.5 KB per decoded span).
  uint64_t decode_batch_spans = 50'000;
};

class LocalStorage : public traceql::Storage {
 public:
  explicit LocalStorage(const store::Store& store, LocalStorageOptions options = {})
      : store_(store), options_(options), cache_(std::make_unique<TagValueCache>()) {}

  absl::StatusOr<traceql::FetchStats> Fetch(
      const traceql::FetchRequest& request,
      const std::function<void(const traceql::TraceView&)>& fn) const override;

  absl::StatusOr<traceql::TagNames> FetchTagNames(const std::string& tenant, uint64_t start,
                                                  uint64_t end) const override;

  absl::StatusOr<std::vector<traceql::TagValue>> FetchTagValues(const std::string& tenant,
                                                                const traceql::FieldExpr& field,
                                                                uint64_t start,
                                                                uint64_t end) const override;

 private:
  // The tenant's live traces overlapping the request's range, decoded in chunks.
  absl::Status FetchLive(const traceql::FetchRequest& request, traceql::FetchStats& stats,
                         const std::function<void(const traceql::TraceView&)>& fn) const;
  // One block: damage checks, planning, then its candidates.
  absl::Status FetchBlock(const store::BlockHandlePtr& block, const traceql::FetchRequest& request,
                          const Planner* planner, const ColumnFilter* filter,
                          traceql::FetchStats& stats,
                          const std::function<void(const traceql::TraceView&)>& fn) const;
  // The values of `field` in one block, sorted (from the cache when the block lies wholly
  // inside [start, end]), or an error other than the block's damage (which is reported
  // and gives no values).
  absl::StatusOr<std::shared_ptr<const std::vector<traceql::TagValue>>> BlockTagValues(
      const store::BlockHandlePtr& block, const traceql::FieldExpr& field,
      const std::string& field_key, uint64_t start, uint64_t end) const;

  const store::Store& store_;
  const LocalStorageOptions options_;
  std::unique_ptr<TagValueCache> cache_;
};

}  // namespace strand::query
