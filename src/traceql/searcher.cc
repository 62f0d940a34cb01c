#include "traceql/searcher.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "common/status_macros.h"

namespace strand::traceql {

namespace {

// Builds the answer for one matched trace (or the part of it one place holds).
SearchTrace Summarize(const TraceView& view, std::vector<SpanSet>&& sets,
                      const Evaluator& evaluator, uint32_t spss) {
  SearchTrace out;
  out.id = view.id();
  out.start_unix_nano = view.min_start();
  out.end_unix_nano = view.max_end();
  if (view.root() >= 0) {
    out.has_root = true;
    out.root_service = std::string(view.RootServiceName());
    out.root_name = std::string(view.RootSpanName());
  }
  // Spans of one resource usually follow each other: look its service up once per run.
  const otlp::SpanBatch* last_batch = nullptr;
  uint32_t last_resource = 0;
  ServiceStat* stat = nullptr;
  for (uint32_t i = 0; i < view.size(); ++i) {
    const otlp::SpanBatch& b = view.batch(i);
    const uint32_t resource = b.scopes[view.span(i).scope_index].resource_index;
    if (stat == nullptr || &b != last_batch || resource != last_resource) {
      stat = &out.service_stats[std::string(view.ResourceString(i, "service.name"))];
      last_batch = &b;
      last_resource = resource;
    }
    ServiceStat& st = *stat;
    ++st.spans;
    if (view.span(i).status_code == static_cast<int32_t>(otlp::StatusCode::kError)) ++st.errors;
  }
  for (SpanSet& set : sets) {
    SearchSpanSet o;
    o.matched = static_cast<uint32_t>(set.spans.size());
    o.labels = std::move(set.labels);
    std::vector<uint32_t> shown = set.spans;
    std::stable_sort(shown.begin(), shown.end(), [&](uint32_t a, uint32_t b) {
      return view.span(a).start_time_unix_nano < view.span(b).start_time_unix_nano;
    });
    if (shown.size() > spss) shown.resize(spss);
    for (uint32_t i : shown) {
      const otlp::Span& s = view.span(i);
      SearchSpan span;
      span.id = s.span_id;
      span.name = std::string(s.name);
      span.start_unix_nano = s.start_time_unix_nano;
      span.duration_nanos = s.end_time_unix_nano >= s.start_time_unix_nano
                                ? s.end_time_unix_nano - s.start_time_unix_nano
                                : 0;
      for (const OutputField& f : evaluator.output_fields()) {
        Value v = evaluator.FieldValue(*f.expr, view, i);
        if (v.type != Value::Type::kNil) span.attributes.emplace_back(f.key, std::move(v));
      }
      o.spans.push_back(std::move(span));
    }
    out.spansets.push_back(std::move(o));
  }
  return out;
}

void Merge(SearchTrace& into, SearchTrace&& part) {
  into.start_unix_nano = std::min(into.start_unix_nano, part.start_unix_nano);
  into.end_unix_nano = std::max(into.end_unix_nano, part.end_unix_nano);
  if (!into.has_root && part.has_root) {
    into.has_root = true;
    into.root_service = std::move(part.root_service);
    into.root_name = std::move(part.root_name);
  }
  for (auto& s : part.spansets) into.spansets.push_back(std::move(s));
  for (const auto& [service, st] : part.service_stats) {
    ServiceStat& to = into.service_stats[service];
    to.spans += st.spans;
    to.errors += st.errors;
  }
}

}  // namespace

absl::Status Searcher::ForEachTrace(FetchRequest request, const Evaluator* evaluator,
                                    const FieldExpr* extra_field, SearchResult& stats,
                                    const std::function<void(const TraceView&)>& fn) const {
  // Span attributes and events / links the evaluation (and the extra field) reads.
  if (evaluator != nullptr) {
    request.span_attribute_keys = evaluator->span_attribute_keys();
    request.events = evaluator->uses_events();
    request.links = evaluator->uses_links();
  }
  if (extra_field != nullptr) {
    if (extra_field->kind == FieldExpr::Kind::kAttribute) {
      request.span_attribute_keys.push_back(extra_field->name);
      request.events |= extra_field->scope == AttributeScope::kEvent;
      request.links |= extra_field->scope == AttributeScope::kLink;
    } else {
      request.events |= extra_field->intrinsic == Intrinsic::kEventName;
    }
  }
  const uint64_t start = request.start_unix_nano;
  const uint64_t end = request.end_unix_nano;
  auto fetched = storage_.Fetch(request, [&](const TraceView& view) {
    ++stats.inspected_traces;
    if (view.size() == 0 || !Overlaps(view.min_start(), view.max_end(), start, end)) return;
    fn(view);
  });
  if (!fetched.ok()) return fetched.status();
  static_cast<FetchStats&>(stats) = *fetched;
  return absl::OkStatus();
}

absl::Status Searcher::ScanTraces(const std::string& tenant, uint64_t start_unix_nano,
                                  uint64_t end_unix_nano,
                                  const std::function<void(const TraceView&)>& fn,
                                  const std::function<bool()>& stop) const {
  FetchRequest request;
  request.tenant = tenant;
  request.start_unix_nano = start_unix_nano;
  request.end_unix_nano = end_unix_nano;
  request.stop = [&](uint64_t) { return stop && stop(); };
  SearchResult stats;
  return ForEachTrace(std::move(request), nullptr, nullptr, stats, fn);
}

absl::StatusOr<SearchResult> Searcher::Search(const SearchRequest& req) const {
  if (req.evaluator == nullptr) return absl::InvalidArgumentError("search without a query");
  SearchResult result;
  absl::flat_hash_map<otlp::TraceId, SearchTrace> found;

  auto qualifies = [&](const SearchTrace& t) {
    const uint64_t d = t.end_unix_nano - t.start_unix_nano;
    if (req.min_duration_nanos != 0 && d < req.min_duration_nanos) return false;
    if (req.max_duration_nanos != 0 && d > req.max_duration_nanos) return false;
    return true;
  };
  auto consider = [&](const TraceView& view) {
    std::vector<SpanSet> sets = req.evaluator->Evaluate(view);
    if (sets.empty()) return;
    SearchTrace part = Summarize(view, std::move(sets), *req.evaluator, req.spans_per_spanset);
    auto [it, inserted] = found.try_emplace(view.id());
    if (inserted) {
      it->second = std::move(part);
    } else {
      Merge(it->second, std::move(part));
    }
  };
  // Stops when `limit` traces are found that are all newer than anything left to read.
  auto stop = [&](uint64_t newest_start_left) {
    if (req.limit == 0) return false;
    std::vector<uint64_t> starts;
    for (const auto& [id, t] : found) {
      if (qualifies(t)) starts.push_back(t.start_unix_nano);
    }
    if (starts.size() < req.limit) return false;
    std::nth_element(starts.begin(), starts.begin() + (req.limit - 1), starts.end(),
                     std::greater<uint64_t>());
    return newest_start_left < starts[req.limit - 1];
  };
  FetchRequest request;
  request.tenant = req.tenant;
  request.start_unix_nano = req.start_unix_nano;
  request.end_unix_nano = req.end_unix_nano;
  request.conditions = &req.evaluator->query();
  request.limit = req.limit;
  request.stop = stop;
  RETURN_IF_ERROR(ForEachTrace(std::move(request), req.evaluator, nullptr, result, consider));

  for (auto& [id, t] : found) {
    if (qualifies(t)) result.traces.push_back(std::move(t));
  }
  std::sort(result.traces.begin(), result.traces.end(),
            [](const SearchTrace& a, const SearchTrace& b) {
              if (a.start_unix_nano != b.start_unix_nano) {
                return a.start_unix_nano > b.start_unix_nano;
              }
              return a.id < b.id;
            });
  if (req.limit != 0 && result.traces.size() > req.limit) result.traces.resize(req.limit);
  return result;
}

}  // namespace strand::traceql
