// TempoApi's search routes: /api/search, the tag names and the tag values (v1 and v2).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "http/responses.h"
#include "api/tempo_api.h"
#include "common/duration.h"
#include "common/hex.h"
#include "common/json_writer.h"
#include "common/tenant.h"
#include "traceql/parser.h"

namespace strand::api {
namespace {

// Tempo's limits: search `limit` (default 20, at most 262144), spans per span set (3,
// at most 100). The longest search range is the tenant's max_search_duration.
constexpr uint32_t kDefaultLimit = 20;
constexpr uint32_t kMaxLimit = 262144;
constexpr uint32_t kDefaultSpss = 3;
constexpr uint32_t kMaxSpss = 100;

// Whole seconds the way Go prints a time.Duration ("168h0m0s", "5m0s", "30s").
std::string GoDuration(int64_t seconds) {
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) return absl::StrCat(seconds / 60, "m", seconds % 60, "s");
  return absl::StrCat(seconds / 3600, "h", seconds / 60 % 60, "m", seconds % 60, "s");
}

HttpResponse Error(int status, const absl::Status& s) {
  return http::TextResponse(status, std::string(s.message()));
}

int StatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    default:
      return 500;
  }
}

// Writes an OTLP/JSON AnyValue ({"stringValue": ...}) for a TraceQL value.
void WriteAnyValue(JsonWriter& w, const traceql::Value& v) {
  using T = traceql::Value::Type;
  w.BeginObject();
  switch (v.type) {
    case T::kBool:
      w.Field("boolValue", v.b);
      break;
    case T::kInt:
      w.Field("intValue", absl::StrCat(v.i));
      break;
    case T::kFloat:
      w.Field("doubleValue", v.f);
      break;
    case T::kString:
      w.Field("stringValue", v.s);
      break;
    default:
      w.Field("stringValue", traceql::ValueToText(v));
      break;
  }
  w.EndObject();
}

void WriteAttributes(JsonWriter& w, const std::vector<traceql::Labeled>& attrs) {
  w.Key("attributes").BeginArray();
  for (const auto& [key, value] : attrs) {
    w.BeginObject().Field("key", key).Key("value");
    WriteAnyValue(w, value);
    w.EndObject();
  }
  w.EndArray();
}

void WriteSpanSet(JsonWriter& w, const traceql::SearchSpanSet& set) {
  w.BeginObject().Key("spans").BeginArray();
  for (const traceql::SearchSpan& s : set.spans) {
    w.BeginObject()
        .Field("spanID", HexEncode(otlp::IdBytes(s.id)))
        .Field("name", s.name)
        .Field("startTimeUnixNano", absl::StrCat(s.start_unix_nano))
        .Field("durationNanos", absl::StrCat(s.duration_nanos));
    if (!s.attributes.empty()) WriteAttributes(w, s.attributes);
    w.EndObject();
  }
  w.EndArray().Field("matched", set.matched);
  if (!set.labels.empty()) WriteAttributes(w, set.labels);
  w.EndObject();
}

std::string SearchJson(const traceql::SearchResult& r) {
  JsonWriter w(/*pretty=*/false);
  w.BeginObject().Key("traces").BeginArray();
  for (const traceql::SearchTrace& t : r.traces) {
    w.BeginObject().Field("traceID", HexEncode(otlp::IdBytes(t.id)));
    if (t.has_root) {
      w.Field("rootServiceName", t.root_service).Field("rootTraceName", t.root_name);
    } else {
      w.Field("rootServiceName", "<root span not yet received>");
    }
    const uint64_t duration =
        t.end_unix_nano >= t.start_unix_nano ? t.end_unix_nano - t.start_unix_nano : 0;
    w.Field("startTimeUnixNano", absl::StrCat(t.start_unix_nano))
        .Field("durationMs", static_cast<uint64_t>(duration / 1'000'000));
    if (!t.service_stats.empty()) {
      w.Key("serviceStats").BeginObject();
      for (const auto& [service, st] : t.service_stats) {
        w.Key(service).BeginObject().Field("spanCount", st.spans);
        if (st.errors > 0) w.Field("errorCount", st.errors);
        w.EndObject();
      }
      w.EndObject();
    }
    if (!t.spansets.empty()) {
      w.Key("spanSet");
      WriteSpanSet(w, t.spansets.front());
      w.Key("spanSets").BeginArray();
      for (const auto& set : t.spansets) WriteSpanSet(w, set);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("metrics")
      .BeginObject()
      .Field("inspectedTraces", r.inspected_traces)
      .Field("inspectedBytes", absl::StrCat(r.inspected_bytes))
      .Field("inspectedSpans", absl::StrCat(r.inspected_spans))
      .Field("totalBlocks", r.total_blocks)
      .Field("rowGroupsFiltered", r.row_groups_filtered)
      .Field("rowGroupsDecoded", r.row_groups_read)
      .Field("rowGroupsSkipped", r.row_groups_skipped)
      .Field("rowGroupsDamaged", r.row_groups_damaged)
      .Field("completedJobs", r.blocks_read + 1)
      .Field("totalJobs", r.blocks_read + 1)
      .EndObject();
  w.EndObject();
  return std::move(w).Finish();
}

// Quotes a string as a TraceQL string literal.
std::string TraceQLString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// The unscoped TraceQL attribute `.key`; a key with characters TraceQL names cannot hold
// is quoted: `."http method"`.
std::string UnscopedAttribute(const std::string& key) {
  const bool plain = std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/';
  });
  return "." + (plain ? key : TraceQLString(key));
}

// The legacy `tags` parameter (logfmt: `service.name="a b" http.status_code=500`) as a
// TraceQL query. A value that is an integer also matches int attributes.
absl::StatusOr<std::string> TagsToTraceQL(std::string_view tags) {
  std::vector<std::string> conds;
  size_t i = 0;
  while (i < tags.size()) {
    while (i < tags.size() && tags[i] == ' ') ++i;
    if (i >= tags.size()) break;
    size_t k = i;
    while (k < tags.size() && tags[k] != '=' && tags[k] != ' ') ++k;
    const std::string key(tags.substr(i, k - i));
    if (k >= tags.size() || tags[k] != '=' || key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid tags \"", std::string(tags), "\": want key=value pairs"));
    }
    i = k + 1;
    std::string value;
    if (i < tags.size() && tags[i] == '"') {
      ++i;
      while (i < tags.size() && tags[i] != '"') {
        if (tags[i] == '\\' && i + 1 < tags.size()) ++i;
        value.push_back(tags[i++]);
      }
      if (i >= tags.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid tags \"", std::string(tags), "\": unterminated quote"));
      }
      ++i;
    } else {
      while (i < tags.size() && tags[i] != ' ') value.push_back(tags[i++]);
    }
    std::string field;
    if (key == "name") {
      field = "name";
    } else if (key == "status.code" || key == "status") {
      const std::string v = absl::AsciiStrToLower(value);
      if (v != "ok" && v != "error" && v != "unset") {
        return absl::InvalidArgumentError(absl::StrCat("invalid status \"", value, "\""));
      }
      conds.push_back(absl::StrCat("status = ", v));
      continue;
    } else {
      field = UnscopedAttribute(key);
    }
    int64_t n;
    if (field != "name" && absl::SimpleAtoi(value, &n)) {
      conds.push_back(
          absl::StrCat("(", field, " = ", TraceQLString(value), " || ", field, " = ", n, ")"));
    } else {
      conds.push_back(absl::StrCat(field, " = ", TraceQLString(value)));
    }
  }
  if (conds.empty()) return std::string("{ }");
  return absl::StrCat("{ ", absl::StrJoin(conds, " && "), " }");
}

}  // namespace

absl::StatusOr<std::string> TempoApi::TenantOf(const HttpRequest& req) const {
  if (!options_.multitenancy) return std::string(kSingleTenant);
  std::string tenant(req.Header("x-scope-orgid"));
  if (auto s = ValidateTenantId(tenant); !s.ok()) return s;
  return tenant;
}

overrides::Limits TempoApi::LimitsOf(const std::string& tenant) const {
  return options_.overrides != nullptr ? options_.overrides->For(tenant) : overrides::Limits{};
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> TempoApi::TimeRange(
    const HttpRequest& req, const std::string* limited_tenant) const {
  auto seconds = QueryTimeRange(req, /*non_negative=*/true);
  if (!seconds.ok()) return seconds.status();
  const auto [start, end] = *seconds;
  if (limited_tenant != nullptr && start != 0 && end != 0) {
    const int64_t max_nanos = LimitsOf(*limited_tenant).max_search_duration_nanos;
    if (max_nanos > 0 && (end - start) > max_nanos / 1'000'000'000) {
      // Tempo's wording, then the limit's name.
      return absl::InvalidArgumentError(
          absl::StrCat("range specified by start and end exceeds ",
                       GoDuration(max_nanos / 1'000'000'000), ". received start=", start,
                       " end=", end, " (max_search_duration of tenant ", *limited_tenant, ")"));
    }
  }
  // Seconds to nanoseconds; `end` covers its whole second.
  const uint64_t s = static_cast<uint64_t>(start) * 1'000'000'000ull;
  const uint64_t e = end == 0 ? 0 : static_cast<uint64_t>(end) * 1'000'000'000ull + 999'999'999ull;
  return std::pair{s, e};
}

HttpResponse TempoApi::Search(const HttpRequest& req) {
  auto tenant = TenantOf(req);
  if (!tenant.ok()) return Error(400, tenant.status());
  auto range = TimeRange(req, &*tenant);
  if (!range.ok()) return Error(400, range.status());

  std::string q(req.Query("q"));
  if (absl::StripAsciiWhitespace(q).empty()) {
    auto t = TagsToTraceQL(req.Query("tags"));
    if (!t.ok()) return Error(400, t.status());
    q = std::move(*t);
  }
  auto query = traceql::Parse(q);
  if (!query.ok()) return Error(400, query.status());
  auto evaluator = traceql::Evaluator::Compile(std::move(*query));
  if (!evaluator.ok()) return Error(400, evaluator.status());
  traceql::SearchRequest sr;
  sr.tenant = *tenant;
  sr.evaluator = evaluator->get();
  sr.start_unix_nano = range->first;
  sr.end_unix_nano = range->second;
  for (auto [name, out] : {std::pair{"minDuration", &sr.min_duration_nanos},
                           std::pair{"maxDuration", &sr.max_duration_nanos}}) {
    std::string_view v = req.Query(name);
    if (v.empty()) continue;
    // Go's syntax (time.ParseDuration, as Tempo reads them), without a sign.
    auto d = ParseDuration(v, DurationSyntax{.micro_sign = true});
    if (!d.ok()) return http::TextResponse(400, absl::StrCat(name, ": ", d.status().message()));
    *out = *d;
  }
  if (sr.max_duration_nanos != 0 && sr.min_duration_nanos > sr.max_duration_nanos) {
    return http::TextResponse(400, "invalid maxDuration: it is below minDuration");
  }
  for (auto [name, out, def, max] :
       {std::tuple{"limit", &sr.limit, kDefaultLimit, kMaxLimit},
        std::tuple{"spss", &sr.spans_per_spanset, kDefaultSpss, kMaxSpss}}) {
    std::string_view v = req.Query(name);
    uint32_t n = def;
    if (!v.empty() && (!absl::SimpleAtoi(std::string(v), &n) || n == 0)) {
      return http::TextResponse(400, absl::StrCat("invalid ", name, " \"", std::string(v),
                                            "\": want a positive integer"));
    }
    *out = std::min(n, max);
  }
  if (auto refused = http::RefuseUnderMemoryPressure(options_.memory, "search")) return *refused;
  auto result = searcher_.Search(sr);
  if (!result.ok()) return Error(StatusFor(result.status()), result.status());
  return http::JsonResponse(SearchJson(*result));
}

HttpResponse TempoApi::SearchTags(const HttpRequest& req, bool v2) {
  auto tenant = TenantOf(req);
  if (!tenant.ok()) return Error(400, tenant.status());
  if (auto refused = http::RefuseUnderMemoryPressure(options_.memory, "search")) return *refused;
  auto range = TimeRange(req);
  if (!range.ok()) return Error(400, range.status());
  std::string scope = absl::AsciiStrToLower(std::string(req.Query("scope")));
  static const char* kScopes[] = {
      "", "all", "span", "resource", "event", "link", "instrumentation", "intrinsic"};
  if (std::find(std::begin(kScopes), std::end(kScopes), scope) == std::end(kScopes)) {
    return http::TextResponse(400, absl::StrCat("invalid scope \"", scope,
                                          "\": want span, resource, event, link, instrumentation, "
                                          "intrinsic or all"));
  }
  auto tags = searcher_.Tags(*tenant, range->first, range->second);
  if (!tags.ok()) return Error(StatusFor(tags.status()), tags.status());
  JsonWriter w(/*pretty=*/false);
  w.BeginObject();
  if (!v2) {
    // v1: names without scope; by default span and resource attributes together.
    std::vector<std::string> names;
    if (scope.empty() || scope == "all" || scope == "span") names = tags->span;
    if (scope.empty() || scope == "all" || scope == "resource") {
      names.insert(names.end(), tags->resource.begin(), tags->resource.end());
    }
    for (const auto& [name, list] :
         {std::pair{"event", &tags->event}, std::pair{"link", &tags->link},
          std::pair{"instrumentation", &tags->instrumentation},
          std::pair{"intrinsic", &tags->intrinsic}}) {
      if (scope == name) names = *list;
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    w.Key("tagNames").BeginArray();
    for (const auto& n : names) w.String(n);
    w.EndArray();
  } else {
    w.Key("scopes").BeginArray();
    for (const auto& [name, list] :
         {std::pair{"resource", &tags->resource}, std::pair{"span", &tags->span},
          std::pair{"event", &tags->event}, std::pair{"link", &tags->link},
          std::pair{"instrumentation", &tags->instrumentation},
          std::pair{"intrinsic", &tags->intrinsic}}) {
      if (!scope.empty() && scope != "all" && scope != name) continue;
      if (list->empty() && std::string_view(name) != "intrinsic" &&
          std::string_view(name) != "span" && std::string_view(name) != "resource") {
        continue;
      }
      w.BeginObject().Field("name", name).Key("tags").BeginArray();
      for (const auto& t : *list) w.String(t);
      w.EndArray().EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return http::JsonResponse(std::move(w).Finish());
}

HttpResponse TempoApi::SearchTagValues(const HttpRequest& req, std::string_view encoded_tag,
                                       bool v2) {
  auto tenant = TenantOf(req);
  if (!tenant.ok()) return Error(400, tenant.status());
  if (auto refused = http::RefuseUnderMemoryPressure(options_.memory, "search")) return *refused;
  auto range = TimeRange(req);
  if (!range.ok()) return Error(400, range.status());
  // Grafana encodes the tag name twice; the server decoded the path once.
  std::string tag(encoded_tag);
  if (absl::StrContains(tag, '%')) tag = http::PercentDecode(tag);
  if (tag.empty()) return http::TextResponse(400, "missing tag name");
  // The tag as a TraceQL field: scoped (`resource.service.name`, `span:name`) in v2;
  // in v1 an unscoped attribute (`service.name`) or a bare intrinsic (`name`, `status`).
  std::string field_text = tag;
  if (!v2) {
    static const char* kIntrinsics[] = {"name", "status",   "statusMessage",
                                        "kind", "rootName", "rootServiceName"};
    if (std::find(std::begin(kIntrinsics), std::end(kIntrinsics), tag) == std::end(kIntrinsics)) {
      field_text = UnscopedAttribute(tag);
    }
  }
  auto parsed = traceql::Parse(absl::StrCat("{ ", field_text, " != nil }"));
  if (!parsed.ok() || !parsed->pipeline || parsed->pipeline->stages.size() != 1 ||
      !parsed->pipeline->stages[0].spanset || !parsed->pipeline->stages[0].spanset->filter ||
      parsed->pipeline->stages[0].spanset->filter->kind != traceql::FieldExpr::Kind::kBinary) {
    return http::TextResponse(400,
                        absl::StrCat("invalid tag \"", tag,
                                     "\": want a TraceQL attribute "
                                     "(resource.service.name, span.http.method) or intrinsic"));
  }
  const traceql::FieldExpr& field = *parsed->pipeline->stages[0].spanset->filter->lhs;
  if (field.kind != traceql::FieldExpr::Kind::kAttribute &&
      field.kind != traceql::FieldExpr::Kind::kIntrinsic) {
    return http::TextResponse(400, absl::StrCat("invalid tag \"", tag, "\""));
  }
  absl::StatusOr<std::vector<traceql::TagValue>> values;
  std::string_view q = req.Query("q");
  std::unique_ptr<traceql::Evaluator> filter;
  if (v2 && q.find_first_not_of(" \t\n") != std::string_view::npos) {
    // Values among the spans the query matches (Grafana sends the query being edited).
    auto p = traceql::Parse(q);
    if (!p.ok()) return Error(400, p.status());
    auto e = traceql::Evaluator::Compile(std::move(*p));
    if (!e.ok()) return Error(400, e.status());
    if (!(*e)->MatchesEverything()) filter = std::move(*e);
  }
  if (filter) {
    values = searcher_.TagValuesMatching(*tenant, field, *filter, range->first, range->second);
  } else {
    values = searcher_.TagValuesOf(*tenant, field, range->first, range->second);
  }
  if (!values.ok()) return Error(StatusFor(values.status()), values.status());
  // Tempo's max_bytes_per_tag_values_query: values past it are left off.
  if (const uint64_t max_bytes = LimitsOf(*tenant).max_bytes_per_tag_values_query; max_bytes) {
    uint64_t bytes = 0;
    size_t kept = 0;
    while (kept < values->size() && bytes + (*values)[kept].value.size() <= max_bytes) {
      bytes += (*values)[kept++].value.size();
    }
    values->resize(kept);
  }
  if (!v2) {
    // v1 lists bare values: "500" once even if it is both a string and an int somewhere.
    std::vector<traceql::TagValue> unique;
    std::vector<std::string> seen;
    for (auto& v : *values) {
      if (std::find(seen.begin(), seen.end(), v.value) != seen.end()) continue;
      seen.push_back(v.value);
      unique.push_back(std::move(v));
    }
    *values = std::move(unique);
  }
  JsonWriter w(/*pretty=*/false);
  w.BeginObject().Key("tagValues").BeginArray();
  for (const auto& v : *values) {
    if (v2) {
      w.BeginObject().Field("type", v.type).Field("value", v.value).EndObject();
    } else {
      w.String(v.value);
    }
  }
  w.EndArray().EndObject();
  return http::JsonResponse(std::move(w).Finish());
}

}  // namespace strand::api
