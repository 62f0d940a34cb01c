// Planner: decides from a block's row-group statistics (docs/format/block.md,
// "Statistics section") whether a query can match anything there, so the search skips
// row groups (and blocks) without reading them.
//
// The answer is conservative: false only when no span of the row group can satisfy what
// every match needs — a spanset filter whose conditions the statistics rule out (a service
// or span name not in the complete list, a status or kind absent, a duration outside the
// range, an attribute key with no column, an int outside a column's range, a string not
// among a column's complete distinct values, a regex matching none of them). Anything it
// cannot judge counts as a possible match.
//
// Thread-safe after construction.
#pragma once

#include <memory>
#include <vector>

#include "block/block_stats.h"
#include "traceql/ast.h"

namespace re2 {
class RE2;
}

namespace strand::query {

class Planner {
 public:
  explicit Planner(const traceql::Query& query);
  ~Planner();

  // False when no trace of the row group can match. `loose` counts every spanset operator
  // as "either side": for a row group holding part of a trace that continues in a
  // neighbouring row group (the rest of the match may be there).
  bool MayMatch(const block::RowGroupStats& stats, bool loose = false) const;

 private:
  bool SpansetMay(const traceql::SpansetExpr& e, const block::RowGroupStats& s, bool loose) const;
  bool PipelineMay(const traceql::Pipeline& p, const block::RowGroupStats& s, bool loose) const;
  bool FieldMay(const traceql::FieldExpr& e, const block::RowGroupStats& s) const;
  bool ComparisonMay(const traceql::FieldExpr& field, traceql::Op op,
                     const traceql::FieldExpr& literal, const block::RowGroupStats& s) const;
  const re2::RE2* RegexFor(const traceql::FieldExpr& comparison) const;

  const traceql::Query& query_;
  std::vector<std::pair<const traceql::FieldExpr*, std::unique_ptr<re2::RE2>>> regexes_;
};

}  // namespace strand::query
