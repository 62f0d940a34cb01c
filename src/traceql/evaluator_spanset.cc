// Evaluator: spanset expressions — filters over a universe of spans, && and ||, and the
// structural operators (child, descendant, parent, ancestor, sibling; union and negated
// forms), each linear in the trace's spans.
#include <algorithm>
#include <iterator>

#include "absl/container/flat_hash_map.h"
#include "traceql/evaluator.h"

namespace strand::traceql {

namespace {

// A structural operator as its base relation and form: `!>` is the negated child
// relation, `&>` its union form.
struct StructuralForm {
  SpansetOp base;
  bool negated = false;
  bool union_form = false;
};

StructuralForm FormOf(SpansetOp op) {
  switch (op) {
    case SpansetOp::kUnionChild:
      return {SpansetOp::kChild, false, true};
    case SpansetOp::kUnionDescendant:
      return {SpansetOp::kDescendant, false, true};
    case SpansetOp::kUnionParent:
      return {SpansetOp::kParent, false, true};
    case SpansetOp::kUnionAncestor:
      return {SpansetOp::kAncestor, false, true};
    case SpansetOp::kUnionSibling:
      return {SpansetOp::kSibling, false, true};
    case SpansetOp::kNotChild:
      return {SpansetOp::kChild, true, false};
    case SpansetOp::kNotDescendant:
      return {SpansetOp::kDescendant, true, false};
    case SpansetOp::kNotParent:
      return {SpansetOp::kParent, true, false};
    case SpansetOp::kNotAncestor:
      return {SpansetOp::kAncestor, true, false};
    case SpansetOp::kNotSibling:
      return {SpansetOp::kSibling, true, false};
    default:
      return {op};
  }
}

// Whether each span has an ancestor in `in`: one pass over the spans in top-down order
// (linear, whatever the depth).
std::vector<char> HasAncestorIn(const TraceView& t, const std::vector<char>& in) {
  std::vector<char> out(t.size(), 0);
  for (uint32_t i : t.top_down()) {
    const int32_t p = t.parent(i);
    if (p >= 0) out[i] = in[p] || out[p];
  }
  return out;
}

// Whether each span has a descendant in `in` (one bottom-up pass).
std::vector<char> HasDescendantIn(const TraceView& t, const std::vector<char>& in) {
  std::vector<char> out(t.size(), 0);
  const auto& order = t.top_down();
  for (size_t k = order.size(); k-- > 0;) {
    const uint32_t i = order[k];
    const int32_t p = t.parent(i);
    if (p >= 0 && (in[i] || out[i])) out[p] = 1;
  }
  return out;
}

// The spans of each side that take part in the relation: keep_r for the right side,
// keep_l for the left (used by the union forms).
struct Kept {
  std::vector<char> l, r;
};

void KeepSiblings(const TraceView& t, const std::vector<char>& in_l, const std::vector<char>& in_r,
                  Kept& keep) {
  // Siblings share a parent span ID (the parent need not be here); roots have none.
  // Per parent, count the spans of each side: a span has a sibling on a side when the
  // side holds a span of its parent other than itself.
  const size_t n = t.size();
  absl::flat_hash_map<otlp::SpanId, std::pair<uint32_t, uint32_t>> counts;  // (l, r)
  for (uint32_t i = 0; i < n; ++i) {
    if (!t.span(i).has_parent || !(in_l[i] || in_r[i])) continue;
    auto& c = counts[t.span(i).parent_span_id];
    c.first += in_l[i] ? 1 : 0;
    c.second += in_r[i] ? 1 : 0;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!t.span(i).has_parent || !(in_l[i] || in_r[i])) continue;
    const auto& c = counts[t.span(i).parent_span_id];
    keep.r[i] = in_r[i] && c.first > (in_l[i] ? 1u : 0u);
    keep.l[i] = in_l[i] && c.second > (in_r[i] ? 1u : 0u);
  }
}

// Which spans of `lhs` and `rhs` stand in the base relation `base` (child, descendant,
// parent, ancestor, sibling) to one of the other side.
Kept Relate(SpansetOp base, const TraceView& t, const std::vector<uint32_t>& lhs,
            const std::vector<uint32_t>& rhs) {
  const size_t n = t.size();
  std::vector<char> in_l(n, 0), in_r(n, 0);
  for (uint32_t i : lhs) in_l[i] = 1;
  for (uint32_t i : rhs) in_r[i] = 1;
  Kept keep{std::vector<char>(n, 0), std::vector<char>(n, 0)};
  switch (base) {
    case SpansetOp::kChild:  // r's parent is an l
      for (uint32_t r : rhs) {
        const int32_t p = t.parent(r);
        if (p >= 0 && in_l[p]) keep.r[r] = keep.l[p] = 1;
      }
      break;
    case SpansetOp::kDescendant: {  // r has an ancestor l
      const std::vector<char> anc_l = HasAncestorIn(t, in_l);
      const std::vector<char> desc_r = HasDescendantIn(t, in_r);
      for (uint32_t i = 0; i < n; ++i) {
        keep.r[i] = in_r[i] && anc_l[i];
        keep.l[i] = in_l[i] && desc_r[i];
      }
      break;
    }
    case SpansetOp::kParent:  // r is the parent of an l
      for (uint32_t l : lhs) {
        const int32_t p = t.parent(l);
        if (p >= 0 && in_r[p]) keep.r[p] = keep.l[l] = 1;
      }
      break;
    case SpansetOp::kAncestor: {  // r is an ancestor of an l
      const std::vector<char> desc_l = HasDescendantIn(t, in_l);
      const std::vector<char> anc_r = HasAncestorIn(t, in_r);
      for (uint32_t i = 0; i < n; ++i) {
        keep.r[i] = in_r[i] && desc_l[i];
        keep.l[i] = in_l[i] && anc_r[i];
      }
      break;
    }
    case SpansetOp::kSibling:
      KeepSiblings(t, in_l, in_r, keep);
      break;
    default:
      break;
  }
  return keep;
}

// The result of a structural operator over its two sides' spans.
std::vector<uint32_t> Structural(SpansetOp op, const TraceView& t, const std::vector<uint32_t>& lhs,
                                 const std::vector<uint32_t>& rhs) {
  const StructuralForm form = FormOf(op);
  const Kept keep = Relate(form.base, t, lhs, rhs);
  std::vector<uint32_t> out;
  if (form.negated) {
    for (uint32_t r : rhs) {
      if (!keep.r[r]) out.push_back(r);
    }
    return out;
  }
  for (uint32_t i = 0; i < t.size(); ++i) {
    if (keep.r[i] || (form.union_form && keep.l[i])) out.push_back(i);
  }
  return out;
}

}  // namespace

std::vector<uint32_t> Evaluator::SortedUnion(const std::vector<uint32_t>& a,
                                             const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<uint32_t> Evaluator::EvalSpanset(const SpansetExpr& e, const TraceView& t,
                                             const std::vector<uint32_t>& universe) const {
  switch (e.kind) {
    case SpansetExpr::Kind::kFilter: {
      std::vector<uint32_t> out;
      for (uint32_t i : universe) {
        if (SpanMatches(e.filter.get(), t, i)) out.push_back(i);
      }
      return out;
    }
    case SpansetExpr::Kind::kPipeline: {
      std::vector<uint32_t> out;
      for (const SpanSet& set : EvalPipeline(*e.pipeline, t, universe)) {
        out = SortedUnion(out, set.spans);
      }
      return out;
    }
    case SpansetExpr::Kind::kBinary:
      break;
  }
  const std::vector<uint32_t> lhs = EvalSpanset(*e.lhs, t, universe);
  if (e.op == SpansetOp::kAnd) {
    if (lhs.empty()) return {};
    std::vector<uint32_t> rhs = EvalSpanset(*e.rhs, t, universe);
    return rhs.empty() ? std::vector<uint32_t>{} : SortedUnion(lhs, rhs);
  }
  const std::vector<uint32_t> rhs = EvalSpanset(*e.rhs, t, universe);
  if (e.op == SpansetOp::kOr) return SortedUnion(lhs, rhs);
  return Structural(e.op, t, lhs, rhs);
}

}  // namespace strand::traceql
