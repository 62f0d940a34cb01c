#include "pipeline/exporter/debug/debug_exporter.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/hex.h"
#include "common/logging.h"

namespace strand::pipeline {
namespace {

std::string ValueText(const otlp::SpanBatch& b, const otlp::AnyValue& v, int depth = 0) {
  using otlp::ValueType;
  if (depth > 16) return "...";
  switch (v.type) {
    case ValueType::kString:
      return absl::StrCat("Str(", std::string(v.str), ")");
    case ValueType::kBool:
      return absl::StrCat("Bool(", v.bool_value ? "true" : "false", ")");
    case ValueType::kInt:
      return absl::StrCat("Int(", v.int_value, ")");
    case ValueType::kDouble:
      return absl::StrCat("Double(", v.double_value, ")");
    case ValueType::kBytes:
      return absl::StrCat("Bytes(", HexEncode(v.str), ")");
    case ValueType::kArray: {
      std::string out = "Slice([";
      for (uint32_t i = v.children.begin; i < v.children.end; ++i) {
        if (i > v.children.begin) out += ", ";
        out += ValueText(b, b.array_values[i], depth + 1);
      }
      return out + "])";
    }
    case ValueType::kKvList: {
      std::string out = "Map({";
      for (uint32_t i = v.children.begin; i < v.children.end; ++i) {
        if (i > v.children.begin) out += ", ";
        absl::StrAppend(&out, std::string(b.kvlist_values[i].key), ": ",
                        ValueText(b, b.kvlist_values[i].value, depth + 1));
      }
      return out + "})";
    }
    case ValueType::kNone:
      break;
  }
  return "Empty()";
}

void AppendAttributes(std::string& out, const otlp::SpanBatch& b, otlp::Range r,
                      const char* indent) {
  for (uint32_t i = r.begin; i < r.end; ++i) {
    absl::StrAppend(&out, indent, "-> ", std::string(b.attributes[i].key), ": ",
                    ValueText(b, b.attributes[i].value), "\n");
  }
}

const char* KindName(int32_t kind) {
  static const char* kNames[] = {"Unspecified", "Internal", "Server",
                                 "Client",      "Producer", "Consumer"};
  return kind >= 0 && kind <= 5 ? kNames[kind] : "Unknown";
}

const char* StatusName(int32_t code) { return code == 1 ? "Ok" : code == 2 ? "Error" : "Unset"; }

}  // namespace

std::string DescribeBatch(const otlp::SpanBatch& b, DebugVerbosity verbosity) {
  size_t resources = 0;
  {
    int64_t last = -1;
    for (const auto& s : b.spans) {
      const int64_t r = b.scopes[s.scope_index].resource_index;
      if (r != last) ++resources;
      last = r;
    }
  }
  std::string out = absl::StrCat("Traces: resource spans ", resources, ", spans ", b.spans.size());
  if (verbosity == DebugVerbosity::kBasic) return out;
  out += "\n";
  int64_t last_scope = -1;
  for (const auto& s : b.spans) {
    const otlp::Scope& scope = b.scopes[s.scope_index];
    if (verbosity == DebugVerbosity::kDetailed &&
        static_cast<int64_t>(s.scope_index) != last_scope) {
      const otlp::Resource& res = b.resources[scope.resource_index];
      absl::StrAppend(&out, "Resource attributes:\n");
      AppendAttributes(out, b, res.attributes, "  ");
      absl::StrAppend(&out, "Scope ", std::string(scope.name), " ", std::string(scope.version),
                      "\n");
      last_scope = s.scope_index;
    }
    const std::string trace = HexEncode(otlp::IdBytes(s.trace_id));
    const std::string span = HexEncode(otlp::IdBytes(s.span_id));
    if (verbosity == DebugVerbosity::kNormal) {
      absl::StrAppend(&out, std::string(s.name), " ", trace, " ", span, "\n");
      continue;
    }
    absl::StrAppend(&out, "Span\n    Trace ID       : ", trace, "\n    Parent ID      : ",
                    s.has_parent ? HexEncode(otlp::IdBytes(s.parent_span_id)) : "",
                    "\n    ID             : ", span, "\n    Name           : ", std::string(s.name),
                    "\n    Kind           : ", KindName(s.kind),
                    "\n    Start time     : ", s.start_time_unix_nano,
                    "\n    End time       : ", s.end_time_unix_nano,
                    "\n    Status code    : ", StatusName(s.status_code),
                    "\n    Status message : ", std::string(s.status_message), "\n");
    if (!s.attributes.empty()) {
      out += "Attributes:\n";
      AppendAttributes(out, b, s.attributes, "     ");
    }
    for (uint32_t e = s.events.begin; e < s.events.end; ++e) {
      absl::StrAppend(&out, "Event #", e - s.events.begin, " ", std::string(b.events[e].name),
                      " at ", b.events[e].time_unix_nano, "\n");
      AppendAttributes(out, b, b.events[e].attributes, "     ");
    }
    for (uint32_t l = s.links.begin; l < s.links.end; ++l) {
      absl::StrAppend(&out, "Link #", l - s.links.begin, " trace ",
                      HexEncode(otlp::IdBytes(b.links[l].trace_id)), " span ",
                      HexEncode(otlp::IdBytes(b.links[l].span_id)), "\n");
    }
  }
  return out;
}

namespace {

struct DebugSettings : ComponentSettings {
  DebugVerbosity verbosity = DebugVerbosity::kBasic;
  int64_t sampling_initial = 2;
  int64_t sampling_thereafter = 1;
};

class DebugExporter : public Exporter {
 public:
  DebugExporter(const DebugSettings& s, std::string id, const Clock* clock)
      : settings_(s), id_(std::move(id)), clock_(clock != nullptr ? *clock : *Clock::Real()) {}
  void Consume(RequestContext&& /*ctx*/, otlp::SpanBatch&& batch, ConsumeDone done) override {
    const int64_t second = clock_.NowUnixNanos() / 1'000'000'000;
    if (second != second_.exchange(second)) count_ = 0;
    const int64_t n = count_++;
    const bool log = n < settings_.sampling_initial ||
                     (settings_.sampling_thereafter > 0 &&
                      (n - settings_.sampling_initial) % settings_.sampling_thereafter == 0);
    if (log) LOG_INFO("{}: {}", id_, DescribeBatch(batch, settings_.verbosity));
    done(absl::OkStatus());
  }

 private:
  DebugSettings settings_;
  std::string id_;
  const Clock& clock_;  // the sampling's seconds
  std::atomic<int64_t> second_{0};
  std::atomic<int64_t> count_{0};
};

class DebugFactory : public ExporterFactory {
 public:
  std::string_view type() const override { return "debug"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<DebugSettings>();
    std::string v = "basic";
    map.Read("verbosity", v);
    if (v == "basic") {
      s->verbosity = DebugVerbosity::kBasic;
    } else if (v == "normal") {
      s->verbosity = DebugVerbosity::kNormal;
    } else if (v == "detailed") {
      s->verbosity = DebugVerbosity::kDetailed;
    } else {
      map.Fail("verbosity", "must be basic, normal or detailed");
    }
    map.Read("sampling_initial", s->sampling_initial);
    map.Read("sampling_thereafter", s->sampling_thereafter);
    map.Ignore("use_internal_logger");  // Strand always logs through its own logger
    return s;
  }
  absl::StatusOr<std::unique_ptr<Exporter>> Create(const ComponentSettings& settings,
                                                   const BuildContext& ctx) const override {
    return std::make_unique<DebugExporter>(static_cast<const DebugSettings&>(settings),
                                           ctx.id.ToString(), ctx.clock);
  }
};

}  // namespace

std::unique_ptr<ExporterFactory> NewDebugExporterFactory() {
  return std::make_unique<DebugFactory>();
}

}  // namespace strand::pipeline
