#include "pipeline/processor/filter/traceql_span_filter.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "traceql/evaluator.h"
#include "traceql/parser.h"
#include "traceql/trace_view.h"

namespace strand::pipeline {
namespace {

// The first trace-level intrinsic in `e`, or null: these need the whole trace.
const traceql::FieldExpr* TraceLevelField(const traceql::FieldExpr* e) {
  if (e == nullptr) return nullptr;
  if (e->kind == traceql::FieldExpr::Kind::kIntrinsic &&
      (e->intrinsic == traceql::Intrinsic::kTraceDuration ||
       e->intrinsic == traceql::Intrinsic::kTraceRootName ||
       e->intrinsic == traceql::Intrinsic::kTraceRootService)) {
    return e;
  }
  if (const auto* l = TraceLevelField(e->lhs.get())) return l;
  return TraceLevelField(e->rhs.get());
}

absl::Status NotSupported(const traceql::Pos& pos, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("at line ", pos.line, ", column ", pos.column,
                                                 ": not supported: ", std::string(what)));
}

}  // namespace

TraceqlSpanFilter::TraceqlSpanFilter(std::unique_ptr<traceql::Evaluator> evaluator)
    : evaluator_(std::move(evaluator)) {}

TraceqlSpanFilter::~TraceqlSpanFilter() = default;

absl::StatusOr<std::unique_ptr<TraceqlSpanFilter>> TraceqlSpanFilter::Compile(
    std::string_view query) {
  auto parsed = traceql::Parse(query);
  if (!parsed.ok()) return parsed.status();
  const char* kWhy =
      " in the filter processor: only one plain spanset filter `{ ... }` (it sees a batch, "
      "not whole traces)";
  if (parsed->metrics) return NotSupported(parsed->metrics->pos, absl::StrCat("metrics", kWhy));
  if (!parsed->hints.empty()) {
    return absl::InvalidArgumentError("not supported: query hints in the filter processor");
  }
  const traceql::Pipeline& p = *parsed->pipeline;
  if (p.stages.size() != 1) return NotSupported(p.stages[1].pos, absl::StrCat("pipelines", kWhy));
  const traceql::SpansetExpr& set = *p.stages[0].spanset;
  if (set.kind != traceql::SpansetExpr::Kind::kFilter) {
    return NotSupported(set.pos, absl::StrCat("spanset and structural operators", kWhy));
  }
  if (const traceql::FieldExpr* f = TraceLevelField(set.filter.get())) {
    return NotSupported(f->pos,
                        "trace-level intrinsics in the filter processor (a batch "
                        "holds part of a trace)");
  }
  auto evaluator = traceql::Evaluator::Compile(std::move(*parsed));
  if (!evaluator.ok()) return evaluator.status();
  return std::unique_ptr<TraceqlSpanFilter>(new TraceqlSpanFilter(std::move(*evaluator)));
}

std::vector<uint32_t> TraceqlSpanFilter::Match(const otlp::SpanBatch& batch) const {
  absl::flat_hash_map<otlp::TraceId, std::vector<otlp::SpanRef>> traces;
  for (uint32_t i = 0; i < batch.spans.size(); ++i) {
    traces[batch.spans[i].trace_id].push_back({&batch, i});
  }
  std::vector<uint32_t> out;
  for (auto& [id, refs] : traces) {
    traceql::TraceView view(id, std::move(refs));
    for (const traceql::SpanSet& set : evaluator_->Evaluate(view)) {
      for (uint32_t i : set.spans) out.push_back(view.ref(i).index);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace strand::pipeline
