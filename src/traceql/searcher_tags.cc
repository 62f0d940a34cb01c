// Searcher: tag names and values (the engine's part: the intrinsics and keywords TraceQL
// defines; storage lists what the data holds).
#include <algorithm>
#include <set>

#include "common/status_macros.h"
#include "traceql/searcher.h"
#include "traceql/tag_values.h"

namespace strand::traceql {

absl::StatusOr<TagNames> Searcher::Tags(const std::string& tenant, uint64_t start,
                                        uint64_t end) const {
  auto out = storage_.FetchTagNames(tenant, start, end);
  if (!out.ok()) return out.status();
  out->intrinsic = {"duration",
                    "event:name",
                    "event:timeSinceStart",
                    "instrumentation:name",
                    "instrumentation:version",
                    "kind",
                    "link:spanID",
                    "link:traceID",
                    "name",
                    "rootName",
                    "rootServiceName",
                    "span:duration",
                    "span:id",
                    "span:kind",
                    "span:name",
                    "span:parentID",
                    "span:status",
                    "span:statusMessage",
                    "status",
                    "statusMessage",
                    "trace:duration",
                    "trace:id",
                    "trace:rootName",
                    "trace:rootService",
                    "traceDuration"};
  return out;
}

absl::StatusOr<std::vector<TagValue>> Searcher::TagValuesOf(const std::string& tenant,
                                                            const FieldExpr& field, uint64_t start,
                                                            uint64_t end) const {
  if (field.kind == FieldExpr::Kind::kIntrinsic) {
    switch (field.intrinsic) {
      case Intrinsic::kSpanStatus:
      case Intrinsic::kSpanKind: {
        // Every keyword, in the sorted order of the other lists.
        const bool status = field.intrinsic == Intrinsic::kSpanStatus;
        std::vector<TagValue> keywords;
        for (int64_t v = 0; v < (status ? 3 : 6); ++v) {
          keywords.push_back({"keyword", std::string(status ? StatusKeyword(v) : KindKeyword(v))});
        }
        std::sort(keywords.begin(), keywords.end());
        return keywords;
      }
      case Intrinsic::kSpanName:
      case Intrinsic::kSpanStatusMessage:
      case Intrinsic::kTraceRootName:
      case Intrinsic::kTraceRootService:
      case Intrinsic::kEventName:
      case Intrinsic::kInstrumentationName:
      case Intrinsic::kInstrumentationVersion:
        break;
      default:
        return absl::InvalidArgumentError(
            "not supported: values of this intrinsic are not listed (durations and IDs are "
            "not enumerable)");
    }
  }
  auto out = storage_.FetchTagValues(tenant, field, start, end);
  if (!out.ok()) return out.status();
  if (out->size() > kMaxTagValues) out->resize(kMaxTagValues);
  return out;
}

absl::StatusOr<std::vector<TagValue>> Searcher::TagValuesMatching(const std::string& tenant,
                                                                  const FieldExpr& field,
                                                                  const Evaluator& filter,
                                                                  uint64_t start,
                                                                  uint64_t end) const {
  std::set<TagValue> values;
  SearchResult stats;
  auto add = [&](const TraceView& view) {
    for (const SpanSet& set : filter.Evaluate(view)) {
      for (uint32_t i : set.spans) {
        // Event and link fields have a value per event / link of the span.
        const otlp::Span& span = view.span(i);
        const bool events = field.kind == FieldExpr::Kind::kAttribute
                                ? field.scope == AttributeScope::kEvent
                                : field.intrinsic == Intrinsic::kEventName;
        const bool links =
            field.kind == FieldExpr::Kind::kAttribute && field.scope == AttributeScope::kLink;
        if (events) {
          for (uint32_t e = span.events.begin; e < span.events.end; ++e) {
            if (auto t = ToTagValue(filter.FieldValue(field, view, i, static_cast<int32_t>(e)))) {
              values.insert(std::move(*t));
            }
          }
        } else if (links) {
          for (uint32_t l = span.links.begin; l < span.links.end; ++l) {
            if (auto t =
                    ToTagValue(filter.FieldValue(field, view, i, -1, static_cast<int32_t>(l)))) {
              values.insert(std::move(*t));
            }
          }
        } else if (auto t = ToTagValue(filter.FieldValue(field, view, i))) {
          values.insert(std::move(*t));
        }
      }
    }
  };
  FetchRequest request;
  request.tenant = tenant;
  request.start_unix_nano = start;
  request.end_unix_nano = end;
  request.conditions = &filter.query();
  request.stop = [&](uint64_t) { return values.size() >= kMaxTagValues; };
  RETURN_IF_ERROR(ForEachTrace(std::move(request), &filter, &field, stats, add));
  std::vector<TagValue> out(values.begin(), values.end());
  if (out.size() > kMaxTagValues) out.resize(kMaxTagValues);
  return out;
}

}  // namespace strand::traceql
