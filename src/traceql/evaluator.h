// Evaluator: a parsed TraceQL query compiled for execution (regular expressions compiled
// once, field references resolved), applied to one trace at a time.
//
// Semantics (docs/traceql.md): a spanset filter keeps the spans for which its condition
// holds; a missing attribute makes every comparison false except `= nil`; numbers (int,
// float, duration) compare numerically; regular expressions are fully anchored; on arrays
// `=`/`=~` hold if an element matches and `!=`/`!~` if none does; event and link
// conditions hold if one event (link) satisfies the whole filter. Spanset operators,
// structural relations and pipeline stages (scalar filters, by, select, coalesce) act on
// the spans of the one trace given.
//
// Thread-safe: Evaluate() is const and keeps its state on the stack.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "traceql/ast.h"
#include "traceql/trace_view.h"

namespace re2 {
class RE2;
}

namespace strand::traceql {

// One result span set of a trace.
struct SpanSet {
  std::vector<uint32_t> spans;  // indices into the TraceView, ascending
  // by() labels: ("by(resource.service.name)", value).
  std::vector<std::pair<std::string, Value>> labels;
};

// A field shown with each matched span in search answers.
struct OutputField {
  const FieldExpr* expr;
  std::string key;  // the attribute key or intrinsic name as Tempo shows it
};

class Evaluator {
 public:
  // Compiles a parsed query. Metrics queries are InvalidArgument "not supported: ...".
  static absl::StatusOr<std::unique_ptr<Evaluator>> Compile(Query query);
  ~Evaluator();

  const Query& query() const { return query_; }

  // The result span sets of the trace (none when it does not match).
  std::vector<SpanSet> Evaluate(const TraceView& trace) const;

  // The fields the query's conditions and select() refer to, in query order, deduplicated.
  const std::vector<OutputField>& output_fields() const { return output_fields_; }
  // The value of `field` for span `i` (kNil when absent); `event` / `link` index the
  // batch's events / links for event and link fields (-1: none).
  Value FieldValue(const FieldExpr& field, const TraceView& trace, uint32_t i, int32_t event = -1,
                   int32_t link = -1) const;

  // Whether the query is the plain `{ }` (every span of every trace).
  bool MatchesEverything() const;

  // What evaluation reads of a span besides its fixed fields, resource and scope: the span
  // attribute keys (scoped `span.x` and unscoped `.x`), events, links. Decoders may leave
  // the rest out.
  const std::vector<std::string>& span_attribute_keys() const { return span_keys_; }
  bool uses_events() const { return uses_event_fields_; }
  bool uses_links() const { return uses_link_fields_; }

  // Internal: the evaluation state (defined in evaluator.cc).
  struct Context;
  struct RtValue;

 private:
  static bool Compare(Op op, const RtValue& a, const RtValue& b, const re2::RE2* re);
  // The union of two ascending index lists.
  static std::vector<uint32_t> SortedUnion(const std::vector<uint32_t>& a,
                                           const std::vector<uint32_t>& b);
  explicit Evaluator(Query query);
  absl::Status Prepare();
  absl::Status PrepareField(const FieldExpr& e);
  absl::Status PrepareSpanset(const SpansetExpr& e);
  absl::Status PreparePipeline(const Pipeline& p);

  RtValue Eval(const FieldExpr& e, const Context& ctx) const;
  bool Test(const FieldExpr& e, const Context& ctx) const;
  bool SpanMatches(const FieldExpr* filter, const TraceView& t, uint32_t i) const;
  std::vector<SpanSet> EvalPipeline(const Pipeline& p, const TraceView& t,
                                    const std::vector<uint32_t>& universe) const;
  std::vector<uint32_t> EvalSpanset(const SpansetExpr& e, const TraceView& t,
                                    const std::vector<uint32_t>& universe) const;
  RtValue EvalScalar(const ScalarExpr& e, const TraceView& t, const SpanSet& set) const;

  Query query_;
  std::vector<std::pair<const FieldExpr*, std::unique_ptr<re2::RE2>>> regexes_;
  std::vector<OutputField> output_fields_;
  // Spanset filters whose condition refers to events / links (evaluated once per event /
  // link of the span).
  absl::flat_hash_set<const FieldExpr*> uses_events_;
  absl::flat_hash_set<const FieldExpr*> uses_links_;
  std::vector<std::string> span_keys_;
  bool uses_event_fields_ = false;
  bool uses_link_fields_ = false;
};

// Formats a value the way search answers and errors show it (strings unquoted).
std::string ValueToText(const Value& v);

}  // namespace strand::traceql
