#include "query/column_filter.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "block/block_format.h"
#include "common/coding.h"
#include "re2/re2.h"
#include "traceql/trace_view.h"

namespace strand::query {

using traceql::AttributeScope;
using traceql::CompareOrdered;
using traceql::FieldExpr;
using traceql::FindAttribute;
using traceql::FlipComparison;
using traceql::Intrinsic;
using traceql::IsComparison;
using traceql::Op;
using traceql::Pipeline;
using traceql::Query;
using traceql::SpansetExpr;
using traceql::SpansetOp;
using traceql::Stage;
using traceql::Value;

struct ColumnFilter::Atom {
  enum class Kind {
    kName,
    kStatusMessage,
    kStatus,
    kKind,
    kDuration,
    kSpanAttr,
    kScope,
    kUnscoped
  };
  Kind kind = Kind::kName;
  Op op = Op::kEq;
  Value lit;
  std::shared_ptr<RE2> re;  // =~ and !~
  std::string key;          // attribute key
  const FieldExpr* field = nullptr;
  int scope_slot = -1;  // kScope, kUnscoped: index into BlockContext::scope_match
};

struct ColumnFilter::Node {
  enum class Kind { kTrue, kFalse, kAtom, kAnd, kOr };
  Kind kind = Kind::kTrue;
  int atom = -1;
  std::vector<Node> kids;
};

struct ColumnFilter::SetNode {
  enum class Kind { kAll, kFilter, kBoth, kEither, kRight };
  Kind kind = Kind::kAll;
  Node filter;
  std::vector<SetNode> kids;
};

namespace {

using Kind = ColumnFilter::Atom::Kind;

bool Integral(const Value& v) {
  return v.type == Value::Type::kInt || v.type == Value::Type::kDuration;
}

// An attribute value as the filter sees it (arrays and kvlists are not looked into).
struct Scalar {
  otlp::ValueType type = otlp::ValueType::kNone;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string_view s;
};

Scalar FromAny(const otlp::AnyValue& v) {
  return Scalar{v.type, v.int_value, v.double_value, v.bool_value, v.str};
}
Scalar FromColumn(const block::RowGroupDecoder::ColumnValue& v) {
  return Scalar{v.type, v.int_value, v.double_value, v.bool_value, v.str};
}

// Whether `v op lit` may hold, with the evaluator's semantics (types that never compare
// give false; what is not looked into gives true).
bool Matches(const ColumnFilter::Atom& a, const Scalar& v) {
  if (v.type == otlp::ValueType::kArray || v.type == otlp::ValueType::kKvList) return true;
  const Value& lit = a.lit;
  if (lit.IsNumber()) {
    if (v.type == otlp::ValueType::kInt) {
      if (Integral(lit)) return CompareOrdered(a.op, v.i, lit.i);
      return CompareOrdered(a.op, static_cast<double>(v.i), lit.f);
    }
    if (v.type == otlp::ValueType::kDouble) return CompareOrdered(a.op, v.d, lit.AsDouble());
    return false;
  }
  if (lit.type == Value::Type::kString) {
    if (v.type != otlp::ValueType::kString) return false;
    if (a.op == Op::kRegex) return RE2::FullMatch(v.s, *a.re);
    if (a.op == Op::kNotRegex) return !RE2::FullMatch(v.s, *a.re);
    return CompareOrdered(a.op, v.s, std::string_view(lit.s));
  }
  if (lit.type == Value::Type::kBool) {
    if (v.type != otlp::ValueType::kBool) return false;
    return (a.op == Op::kEq || a.op == Op::kNeq) && CompareOrdered(a.op, v.b, lit.b);
  }
  return true;
}

bool MatchesString(const ColumnFilter::Atom& a, std::string_view s) {
  return Matches(a, Scalar{otlp::ValueType::kString, 0, 0, false, s});
}

}  // namespace

ColumnFilter::ColumnFilter(const Query& query) {
  if (query.pipeline) root_ = std::make_unique<SetNode>(CompilePipeline(*query.pipeline));
  useful_ = root_ != nullptr && !atoms_.empty();
}

ColumnFilter::~ColumnFilter() = default;

ColumnFilter::SetNode ColumnFilter::CompilePipeline(const Pipeline& p) {
  // Later stages only narrow what the first stage gives; the first is what a match needs.
  if (p.stages.empty() || p.stages[0].kind != Stage::Kind::kSpanset) return SetNode();
  return CompileSet(*p.stages[0].spanset);
}

ColumnFilter::SetNode ColumnFilter::CompileSet(const SpansetExpr& e) {
  SetNode n;
  switch (e.kind) {
    case SpansetExpr::Kind::kFilter:
      if (e.filter) {
        n.kind = SetNode::Kind::kFilter;
        n.filter = Compile(*e.filter);
      }
      return n;
    case SpansetExpr::Kind::kPipeline:
      return CompilePipeline(*e.pipeline);
    case SpansetExpr::Kind::kBinary:
      break;
  }
  n.kids.push_back(CompileSet(*e.lhs));
  n.kids.push_back(CompileSet(*e.rhs));
  switch (e.op) {
    case SpansetOp::kOr:
      n.kind = SetNode::Kind::kEither;
      break;
    case SpansetOp::kNotChild:
    case SpansetOp::kNotDescendant:
    case SpansetOp::kNotParent:
    case SpansetOp::kNotAncestor:
    case SpansetOp::kNotSibling:
      n.kind = SetNode::Kind::kRight;  // the left side may be empty
      break;
    default:
      n.kind = SetNode::Kind::kBoth;
      break;
  }
  return n;
}

ColumnFilter::Node ColumnFilter::Compile(const FieldExpr& e) {
  Node n;
  if (e.kind == FieldExpr::Kind::kLiteral) {
    if (e.literal.type == Value::Type::kBool && !e.literal.b) n.kind = Node::Kind::kFalse;
    return n;
  }
  if (e.kind != FieldExpr::Kind::kBinary) return n;
  if (e.op == Op::kAnd || e.op == Op::kOr) {
    n.kind = e.op == Op::kAnd ? Node::Kind::kAnd : Node::Kind::kOr;
    n.kids.push_back(Compile(*e.lhs));
    n.kids.push_back(Compile(*e.rhs));
    return n;
  }
  if (!IsComparison(e.op)) return n;
  const FieldExpr* field = nullptr;
  const FieldExpr* literal = nullptr;
  Op op = e.op;
  auto is_field = [](const FieldExpr& f) {
    return f.kind == FieldExpr::Kind::kAttribute || f.kind == FieldExpr::Kind::kIntrinsic;
  };
  if (is_field(*e.lhs) && e.rhs->kind == FieldExpr::Kind::kLiteral) {
    field = e.lhs.get();
    literal = e.rhs.get();
  } else if (is_field(*e.rhs) && e.lhs->kind == FieldExpr::Kind::kLiteral && op != Op::kRegex &&
             op != Op::kNotRegex) {
    field = e.rhs.get();
    literal = e.lhs.get();
    op = FlipComparison(op);
  } else {
    return n;
  }
  Atom a;
  a.op = op;
  a.lit = literal->literal;
  a.field = field;
  if (a.lit.type == Value::Type::kNil) return n;
  if (op == Op::kRegex || op == Op::kNotRegex) {
    if (a.lit.type != Value::Type::kString) return n;
    RE2::Options opts;
    opts.set_log_errors(false);
    a.re = std::make_shared<RE2>(a.lit.s, opts);
    if (!a.re->ok()) return n;
  }
  if (field->kind == FieldExpr::Kind::kIntrinsic) {
    switch (field->intrinsic) {
      case Intrinsic::kSpanName:
        if (a.lit.type != Value::Type::kString) return n;
        a.kind = Kind::kName;
        break;
      case Intrinsic::kSpanStatusMessage:
        if (a.lit.type != Value::Type::kString) return n;
        a.kind = Kind::kStatusMessage;
        break;
      case Intrinsic::kSpanStatus:
        if (a.lit.type != Value::Type::kStatus || (op != Op::kEq && op != Op::kNeq)) return n;
        a.kind = Kind::kStatus;
        break;
      case Intrinsic::kSpanKind:
        if (a.lit.type != Value::Type::kKind || (op != Op::kEq && op != Op::kNeq)) return n;
        a.kind = Kind::kKind;
        break;
      case Intrinsic::kSpanDuration:
        if (!a.lit.IsNumber()) return n;
        a.kind = Kind::kDuration;
        break;
      case Intrinsic::kInstrumentationName:
      case Intrinsic::kInstrumentationVersion:
        if (a.lit.type != Value::Type::kString) return n;
        a.kind = Kind::kScope;
        break;
      default:
        return n;
    }
  } else {
    a.key = field->name;
    switch (field->scope) {
      case AttributeScope::kSpan:
        a.kind = Kind::kSpanAttr;
        break;
      case AttributeScope::kResource:
      case AttributeScope::kInstrumentation:
        a.kind = Kind::kScope;
        break;
      case AttributeScope::kNone:
        a.kind = Kind::kUnscoped;
        break;
      default:
        return n;  // events and links are not filtered by columns
    }
  }
  if (a.kind == Kind::kScope || a.kind == Kind::kUnscoped) a.scope_slot = scope_atoms_++;
  n.kind = Node::Kind::kAtom;
  n.atom = static_cast<int>(atoms_.size());
  atoms_.push_back(std::move(a));
  return n;
}

absl::StatusOr<ColumnFilter::BlockContext> ColumnFilter::Prepare(
    const block::BlockTables& tables) const {
  BlockContext ctx;
  ctx.scope_match.resize(scope_atoms_);
  if (scope_atoms_ == 0) return ctx;
  otlp::SpanBatch batch;
  auto map = tables.NewBatchMap();
  std::vector<uint32_t> batch_scope(tables.num_scopes());
  for (uint32_t s = 0; s < tables.num_scopes(); ++s) {
    auto bs = tables.CopyScope(s, batch, map);
    if (!bs.ok()) return bs.status();
    batch_scope[s] = *bs;
  }
  for (const Atom& a : atoms_) {
    if (a.scope_slot < 0) continue;
    std::vector<char>& out = ctx.scope_match[a.scope_slot];
    out.assign(tables.num_scopes(), 0);
    for (uint32_t s = 0; s < tables.num_scopes(); ++s) {
      const otlp::Scope& scope = batch.scopes[batch_scope[s]];
      const otlp::Resource& resource = batch.resources[scope.resource_index];
      const FieldExpr& f = *a.field;
      bool m = false;
      if (f.kind == FieldExpr::Kind::kIntrinsic) {
        m = MatchesString(
            a, f.intrinsic == Intrinsic::kInstrumentationName ? scope.name : scope.version);
      } else {
        const otlp::Range range =
            f.scope == AttributeScope::kInstrumentation ? scope.attributes : resource.attributes;
        const otlp::AnyValue* v = FindAttribute(batch, range, f.name);
        m = v != nullptr && Matches(a, FromAny(*v));
      }
      out[s] = m ? 1 : 0;
    }
  }
  return ctx;
}

namespace {

// The columns one evaluation has read, each read once.
struct Columns {
  block::RowGroupDecoder& rg;
  std::optional<std::vector<std::string_view>> names, messages;
  std::optional<std::vector<uint64_t>> status, kind, duration, scope;

  absl::StatusOr<const std::vector<uint64_t>*> Varints(std::optional<std::vector<uint64_t>>& c,
                                                       block::ColumnId id) {
    if (!c) {
      auto v = rg.SpanVarints(id);
      if (!v.ok()) return v.status();
      c = std::move(*v);
    }
    return &*c;
  }
  absl::StatusOr<const std::vector<std::string_view>*> Strings(
      std::optional<std::vector<std::string_view>>& c, block::ColumnId id) {
    if (!c) {
      auto v = rg.SpanStrings(id);
      if (!v.ok()) return v.status();
      c = std::move(*v);
    }
    return &*c;
  }
};

// One row group's pass: the atoms' answers per row (each computed on first use), the
// condition trees per row, and the spanset trees per trace segment.
class RowGroupPass {
 public:
  RowGroupPass(const std::vector<ColumnFilter::Atom>& atoms, block::RowGroupDecoder& rg,
               const ColumnFilter::BlockContext& ctx)
      : atoms_(atoms), rg_(rg), ctx_(ctx), cols_{rg}, atom_rows_(atoms.size()) {
    segments_ = rg.num_traces();
    rows_ = segments_ == 0 ? 0 : rg.first_row(segments_ - 1) + rg.row_count(segments_ - 1);
  }

  uint32_t segments() const { return segments_; }

  // Per segment; `either` treats every spanset operator as "either side".
  absl::StatusOr<std::vector<char>> Set(const ColumnFilter::SetNode& n, bool either);

 private:
  using Atom = ColumnFilter::Atom;
  using Node = ColumnFilter::Node;
  using SetNode = ColumnFilter::SetNode;

  // Per row.
  absl::StatusOr<std::vector<char>> Condition(const Node& n);
  absl::StatusOr<const std::vector<char>*> AtomRows(int i);
  // The steps of AtomRows, each setting out[r] for every row.
  absl::Status StringRows(const Atom& a, block::ColumnId id,
                          std::optional<std::vector<std::string_view>>& c, std::vector<char>& out);
  absl::Status ScopeRows(const Atom& a, std::vector<char>& out);
  absl::Status SpanAttributeRows(const Atom& a, std::vector<char>& out);
  absl::Status EnumRows(const Atom& a, std::vector<char>& out);
  absl::Status DurationRows(const Atom& a, std::vector<char>& out);

  const std::vector<Atom>& atoms_;
  block::RowGroupDecoder& rg_;
  const ColumnFilter::BlockContext& ctx_;
  Columns cols_;
  std::vector<std::optional<std::vector<char>>> atom_rows_;
  uint32_t segments_ = 0;
  uint32_t rows_ = 0;
};

absl::Status RowGroupPass::StringRows(const Atom& a, block::ColumnId id,
                                      std::optional<std::vector<std::string_view>>& c,
                                      std::vector<char>& out) {
  auto col = cols_.Strings(c, id);
  if (!col.ok()) return col.status();
  // Dictionary pages repeat the same view: match each distinct value once.
  absl::flat_hash_map<std::pair<const char*, size_t>, char> memo;
  for (uint32_t r = 0; r < rows_; ++r) {
    const std::string_view s = (**col)[r];
    auto [it, fresh] = memo.try_emplace(std::pair{s.data(), s.size()}, 0);
    if (fresh) it->second = MatchesString(a, s) ? 1 : 0;
    out[r] = it->second;
  }
  return absl::OkStatus();
}

absl::Status RowGroupPass::ScopeRows(const Atom& a, std::vector<char>& out) {
  auto sc = cols_.Varints(cols_.scope, block::ColumnId::kSpanScope);
  if (!sc.ok()) return sc.status();
  const std::vector<char>& m = ctx_.scope_match[a.scope_slot];
  for (uint32_t r = 0; r < rows_; ++r) {
    const uint64_t s = (**sc)[r];
    if (s >= m.size()) return absl::DataLossError("span.scope index out of range");
    out[r] |= m[s];
  }
  return absl::OkStatus();
}

absl::Status RowGroupPass::SpanAttributeRows(const Atom& a, std::vector<char>& out) {
  return rg_.ForEachSpanAttribute(a.key, [&](uint32_t r, const auto& v) {
    if (!out[r] && Matches(a, FromColumn(v))) out[r] = 1;
  });
}

absl::Status RowGroupPass::EnumRows(const Atom& a, std::vector<char>& out) {
  auto col = a.kind == Kind::kStatus ? cols_.Varints(cols_.status, block::ColumnId::kSpanStatusCode)
                                     : cols_.Varints(cols_.kind, block::ColumnId::kSpanKind);
  if (!col.ok()) return col.status();
  for (uint32_t r = 0; r < rows_; ++r) {
    out[r] = CompareOrdered(a.op, block::ZigZagDecode((**col)[r]), a.lit.i) ? 1 : 0;
  }
  return absl::OkStatus();
}

absl::Status RowGroupPass::DurationRows(const Atom& a, std::vector<char>& out) {
  auto col = cols_.Varints(cols_.duration, block::ColumnId::kSpanDuration);
  if (!col.ok()) return col.status();
  for (uint32_t r = 0; r < rows_; ++r) {
    // (end - start) mod 2^64 in the column; an end before the start counts as 0.
    const uint64_t raw = (**col)[r];
    const int64_t d = raw > static_cast<uint64_t>(INT64_MAX) ? 0 : static_cast<int64_t>(raw);
    out[r] = (Integral(a.lit) ? CompareOrdered(a.op, d, a.lit.i)
                              : CompareOrdered(a.op, static_cast<double>(d), a.lit.f))
                 ? 1
                 : 0;
  }
  return absl::OkStatus();
}

absl::StatusOr<const std::vector<char>*> RowGroupPass::AtomRows(int i) {
  if (atom_rows_[i]) return &*atom_rows_[i];
  const Atom& a = atoms_[i];
  std::vector<char> out(rows_, 0);
  absl::Status s;
  switch (a.kind) {
    case Kind::kName:
      s = StringRows(a, block::ColumnId::kSpanName, cols_.names, out);
      break;
    case Kind::kStatusMessage:
      s = StringRows(a, block::ColumnId::kSpanStatusMessage, cols_.messages, out);
      break;
    case Kind::kStatus:
    case Kind::kKind:
      s = EnumRows(a, out);
      break;
    case Kind::kDuration:
      s = DurationRows(a, out);
      break;
    case Kind::kSpanAttr:
      s = SpanAttributeRows(a, out);
      break;
    case Kind::kScope:
      s = ScopeRows(a, out);
      break;
    case Kind::kUnscoped:
      s = SpanAttributeRows(a, out);
      if (s.ok()) s = ScopeRows(a, out);
      break;
  }
  if (!s.ok()) return s;
  atom_rows_[i] = std::move(out);
  return &*atom_rows_[i];
}

absl::StatusOr<std::vector<char>> RowGroupPass::Condition(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kTrue:
      return std::vector<char>(rows_, 1);
    case Node::Kind::kFalse:
      return std::vector<char>(rows_, 0);
    case Node::Kind::kAtom: {
      auto r = AtomRows(n.atom);
      if (!r.ok()) return r.status();
      return **r;
    }
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      auto a = Condition(n.kids[0]);
      if (!a.ok()) return a;
      auto b = Condition(n.kids[1]);
      if (!b.ok()) return b;
      for (uint32_t r = 0; r < rows_; ++r) {
        (*a)[r] = n.kind == Node::Kind::kAnd ? ((*a)[r] & (*b)[r]) : ((*a)[r] | (*b)[r]);
      }
      return a;
    }
  }
  return std::vector<char>(rows_, 1);
}

absl::StatusOr<std::vector<char>> RowGroupPass::Set(const SetNode& n, bool either) {
  switch (n.kind) {
    case SetNode::Kind::kAll:
      return std::vector<char>(segments_, 1);
    case SetNode::Kind::kFilter: {
      auto r = Condition(n.filter);
      if (!r.ok()) return r.status();
      std::vector<char> out(segments_, 0);
      for (uint32_t g = 0; g < segments_; ++g) {
        const uint32_t b = rg_.first_row(g), e = b + rg_.row_count(g);
        for (uint32_t x = b; x < e && !out[g]; ++x) out[g] = (*r)[x];
      }
      return out;
    }
    case SetNode::Kind::kRight:
      return Set(n.kids[1], either);
    case SetNode::Kind::kBoth:
    case SetNode::Kind::kEither: {
      auto a = Set(n.kids[0], either);
      if (!a.ok()) return a;
      auto b = Set(n.kids[1], either);
      if (!b.ok()) return b;
      const bool both = n.kind == SetNode::Kind::kBoth && !either;
      for (uint32_t g = 0; g < segments_; ++g) {
        (*a)[g] = both ? ((*a)[g] & (*b)[g]) : ((*a)[g] | (*b)[g]);
      }
      return a;
    }
  }
  return std::vector<char>(segments_, 1);
}

}  // namespace

absl::StatusOr<std::vector<char>> ColumnFilter::Candidates(block::RowGroupDecoder& rg,
                                                           const BlockContext& ctx,
                                                           bool continues_before,
                                                           bool continues_after) const {
  if (!useful_) return std::vector<char>(rg.num_traces(), 1);
  RowGroupPass pass(atoms_, rg, ctx);
  const uint32_t segments = pass.segments();
  auto exact = pass.Set(*root_, false);
  if (!exact.ok()) return exact;
  if (segments > 0 && (continues_before || continues_after)) {
    auto loose = pass.Set(*root_, true);
    if (!loose.ok()) return loose;
    if (continues_before) (*exact)[0] = (*loose)[0];
    if (continues_after) (*exact)[segments - 1] = (*loose)[segments - 1];
  }
  return exact;
}

}  // namespace strand::query
