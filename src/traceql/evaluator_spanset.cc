// Evaluator: spanset expressions — filters over a universe of spans, && and ||, and the
// structural operators (child, descendant, parent, ancestor, sibling; union and negated
// forms), each linear in the trace's spans.
#include <algorithm>
#include <iterator>

#include "absl/container/flat_hash_map.h"
#include "traceql/evaluator.h"

namespace strand::traceql {

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

  const size_t n = t.size();
  std::vector<char> in_l(n, 0), in_r(n, 0);
  for (uint32_t i : lhs) in_l[i] = 1;
  for (uint32_t i : rhs) in_r[i] = 1;
  // keep_r: rhs spans that take part; keep_l: lhs spans that take part (union forms).
  std::vector<char> keep_r(n, 0), keep_l(n, 0);
  // Whether a span has an ancestor / a descendant in a set: one pass each over the spans
  // in top-down order (linear, whatever the depth).
  auto has_ancestor_in = [&](const std::vector<char>& in) {
    std::vector<char> out(n, 0);
    for (uint32_t i : t.top_down()) {
      const int32_t p = t.parent(i);
      if (p >= 0) out[i] = in[p] || out[p];
    }
    return out;
  };
  auto has_descendant_in = [&](const std::vector<char>& in) {
    std::vector<char> out(n, 0);
    const auto& order = t.top_down();
    for (size_t k = order.size(); k-- > 0;) {
      const uint32_t i = order[k];
      const int32_t p = t.parent(i);
      if (p >= 0 && (in[i] || out[i])) out[p] = 1;
    }
    return out;
  };
  SpansetOp base = e.op;
  bool negated = false, union_form = false;
  switch (e.op) {
    case SpansetOp::kUnionChild:
      base = SpansetOp::kChild;
      union_form = true;
      break;
    case SpansetOp::kUnionDescendant:
      base = SpansetOp::kDescendant;
      union_form = true;
      break;
    case SpansetOp::kUnionParent:
      base = SpansetOp::kParent;
      union_form = true;
      break;
    case SpansetOp::kUnionAncestor:
      base = SpansetOp::kAncestor;
      union_form = true;
      break;
    case SpansetOp::kUnionSibling:
      base = SpansetOp::kSibling;
      union_form = true;
      break;
    case SpansetOp::kNotChild:
      base = SpansetOp::kChild;
      negated = true;
      break;
    case SpansetOp::kNotDescendant:
      base = SpansetOp::kDescendant;
      negated = true;
      break;
    case SpansetOp::kNotParent:
      base = SpansetOp::kParent;
      negated = true;
      break;
    case SpansetOp::kNotAncestor:
      base = SpansetOp::kAncestor;
      negated = true;
      break;
    case SpansetOp::kNotSibling:
      base = SpansetOp::kSibling;
      negated = true;
      break;
    default:
      break;
  }
  switch (base) {
    case SpansetOp::kChild:  // r's parent is an l
      for (uint32_t r : rhs) {
        const int32_t p = t.parent(r);
        if (p >= 0 && in_l[p]) keep_r[r] = keep_l[p] = 1;
      }
      break;
    case SpansetOp::kDescendant: {  // r has an ancestor l
      const std::vector<char> anc_l = has_ancestor_in(in_l);
      const std::vector<char> desc_r = has_descendant_in(in_r);
      for (uint32_t i = 0; i < n; ++i) {
        keep_r[i] = in_r[i] && anc_l[i];
        keep_l[i] = in_l[i] && desc_r[i];
      }
      break;
    }
    case SpansetOp::kParent:  // r is the parent of an l
      for (uint32_t l : lhs) {
        const int32_t p = t.parent(l);
        if (p >= 0 && in_r[p]) keep_r[p] = keep_l[l] = 1;
      }
      break;
    case SpansetOp::kAncestor: {  // r is an ancestor of an l
      const std::vector<char> desc_l = has_descendant_in(in_l);
      const std::vector<char> anc_r = has_ancestor_in(in_r);
      for (uint32_t i = 0; i < n; ++i) {
        keep_r[i] = in_r[i] && desc_l[i];
        keep_l[i] = in_l[i] && anc_r[i];
      }
      break;
    }
    case SpansetOp::kSibling: {
      // Siblings share a parent span ID (the parent need not be here); roots have none.
      // Per parent, count the spans of each side: a span has a sibling on a side when the
      // side holds a span of its parent other than itself.
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
        keep_r[i] = in_r[i] && c.first > (in_l[i] ? 1u : 0u);
        keep_l[i] = in_l[i] && c.second > (in_r[i] ? 1u : 0u);
      }
      break;
    }
    default:
      break;
  }
  std::vector<uint32_t> out;
  if (negated) {
    for (uint32_t r : rhs) {
      if (!keep_r[r]) out.push_back(r);
    }
    return out;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (keep_r[i] || (union_form && keep_l[i])) out.push_back(i);
  }
  return out;
}

}  // namespace strand::traceql
