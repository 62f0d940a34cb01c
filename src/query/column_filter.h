// ColumnFilter: the first pass of a search over a row group. It evaluates the conditions
// of the query's first spanset expression on the few columns they name (span.name,
// span.status_code, span.kind, span.duration, span.status_message, the attribute columns
// of the keys they test, and resource and scope values through span.scope) and answers,
// per trace segment, whether it may hold a match. Only row groups with a candidate are
// decoded in full, and only candidate traces are evaluated.
//
// The answer is a superset: a condition the columns cannot judge (`!`, event and link
// fields, trace-level intrinsics, arithmetic, arrays, nil) counts as true, and for a
// segment that continues into a neighbouring row group the spanset operators count as
// "either side" (the other part of the trace may hold the rest).
//
// Thread-safe after construction (const methods only).
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "block/block_tables.h"
#include "block/row_group_decoder.h"
#include "traceql/ast.h"

namespace re2 {
class RE2;
}

namespace strand::query {

class ColumnFilter {
 public:
  explicit ColumnFilter(const traceql::Query& query);
  ~ColumnFilter();

  // False when no condition can be judged from columns (`{ }`): every span is a candidate.
  bool useful() const { return useful_; }

  // Per block: the resource- and scope-level conditions evaluated for each scope of the
  // block's tables.
  struct BlockContext {
    std::vector<std::vector<char>> scope_match;  // [scope atom][block scope index]
  };
  absl::StatusOr<BlockContext> Prepare(const block::BlockTables& tables) const;

  // Per trace segment of `rg` (after LoadTraces): 1 when it may hold a match.
  // `continues_before` / `continues_after`: the first / last segment is part of a trace
  // that continues in the previous / next row group.
  absl::StatusOr<std::vector<char>> Candidates(block::RowGroupDecoder& rg, const BlockContext& ctx,
                                               bool continues_before, bool continues_after) const;

  struct Atom;
  struct Node;
  struct SetNode;

 private:
  Node Compile(const traceql::FieldExpr& e);
  SetNode CompileSet(const traceql::SpansetExpr& e);
  SetNode CompilePipeline(const traceql::Pipeline& p);

  std::vector<Atom> atoms_;
  std::unique_ptr<SetNode> root_;
  int scope_atoms_ = 0;
  bool useful_ = false;
};

}  // namespace strand::query
