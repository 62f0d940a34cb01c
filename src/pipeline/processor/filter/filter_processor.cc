#include "pipeline/processor/filter/filter_processor.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace strand::pipeline {
namespace {

// The metric families of all filter processors of one registry (registered once).
struct FilterMetrics {
  Family<Counter>* spans_dropped;
  Family<Counter>* events_dropped;
};

class FilterProcessor : public Processor {
 public:
  FilterProcessor(const FilterSettings& settings, const BuildContext& ctx,
                  const FilterMetrics* metrics, TracesConsumer& next)
      : settings_(settings), id_(ctx.id.ToString()), next_(next) {
    if (metrics != nullptr) {
      spans_dropped_ = metrics->spans_dropped->With({id_});
      events_dropped_ = metrics->events_dropped->With({id_});
    }
  }

  absl::Status Admit(const RequestContext& ctx) override { return next_.Admit(ctx); }

  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    const uint32_t n = static_cast<uint32_t>(batch.spans.size());
    std::vector<char> drop(n, 0);
    ErrorLog log;
    for (uint32_t i = 0; i < n; ++i) {
      auto m = AnyMatches(settings_.span_conditions, batch, i, 0, log);
      if (!m.ok()) return done(m.status());
      drop[i] = *m;
    }
    if (settings_.traceql != nullptr) {
      for (uint32_t i : settings_.traceql->Match(batch)) drop[i] = 1;
    }
    uint64_t events_dropped = 0;
    if (!settings_.spanevent_conditions.empty()) {
      for (uint32_t i = 0; i < n; ++i) {
        if (drop[i]) continue;
        otlp::Range& events = batch.spans[i].events;
        uint32_t kept = events.begin;
        for (uint32_t e = events.begin; e < events.end; ++e) {
          auto m = AnyMatches(settings_.spanevent_conditions, batch, i, e, log);
          if (!m.ok()) return done(m.status());
          if (*m) continue;
          if (kept != e) batch.events[kept] = batch.events[e];
          ++kept;
        }
        events_dropped += events.end - kept;
        events.end = kept;
      }
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (drop[i]) continue;
      if (kept != i) batch.spans[kept] = batch.spans[i];
      ++kept;
    }
    batch.spans.resize(kept);
    if (kept != n || events_dropped > 0) batch.set_original_is_request(false);
    if (spans_dropped_ != nullptr) {
      spans_dropped_->Increment(n - kept);
      events_dropped_->Increment(events_dropped);
    }
    if (log.errors > 0 && settings_.error_mode == OttlErrorMode::kIgnore) {
      LOG_WARN(
          "filter processor {}: {} condition evaluation(s) failed, kept what they tested; "
          "first: {}",
          id_, log.errors, log.first);
    }
    if (batch.spans.empty()) return done(absl::OkStatus());
    next_.Consume(std::move(ctx), std::move(batch), std::move(done));
  }

 private:
  // Evaluation errors of one batch under error_mode ignore / silent.
  struct ErrorLog {
    uint64_t errors = 0;
    std::string first;
  };

  // Whether any condition matches span `span` (event `event`). An evaluation error is
  // returned under error_mode propagate, else recorded and counted as no match.
  absl::StatusOr<bool> AnyMatches(const std::vector<std::shared_ptr<const OttlCondition>>& conds,
                                  const otlp::SpanBatch& batch, uint32_t span, uint32_t event,
                                  ErrorLog& log) const {
    for (const auto& cond : conds) {
      auto m = cond->Evaluate(batch, span, event);
      if (m.ok()) {
        if (*m) return true;
        continue;
      }
      std::string message =
          absl::StrCat("condition \"", cond->text(), "\": ", std::string(m.status().message()));
      if (settings_.error_mode == OttlErrorMode::kPropagate) {
        return absl::InvalidArgumentError(absl::StrCat("filter processor ", id_, ": ", message));
      }
      if (log.errors++ == 0) log.first = std::move(message);
    }
    return false;
  }

  const FilterSettings settings_;  // a copy: the compiled conditions are shared
  const std::string id_;
  TracesConsumer& next_;
  Counter* spans_dropped_ = nullptr;
  Counter* events_dropped_ = nullptr;
};

// Compiles the OTTL conditions listed under traces::<key>; a bad one fails the map.
std::vector<std::shared_ptr<const OttlCondition>> ReadConditions(ConfigMap& traces,
                                                                 const std::string& key,
                                                                 ottl::Context context) {
  std::vector<std::string> texts;
  traces.Read(key, texts);
  std::vector<std::shared_ptr<const OttlCondition>> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto cond = OttlCondition::Parse(texts[i], context);
    if (!cond.ok()) {
      traces.Fail(key, absl::StrCat("condition #", i + 1, " \"", texts[i],
                                    "\": ", std::string(cond.status().message())));
      return {};
    }
    out.push_back(std::move(*cond));
  }
  return out;
}

class FilterProcessorFactory : public ProcessorFactory {
 public:
  std::string_view type() const override { return "filter"; }

  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<FilterSettings>();
    std::string mode = "propagate";
    map.Read("error_mode", mode);
    if (mode == "ignore") {
      s->error_mode = OttlErrorMode::kIgnore;
    } else if (mode == "silent") {
      s->error_mode = OttlErrorMode::kSilent;
    } else if (mode != "propagate") {
      map.Fail("error_mode",
               absl::StrCat("must be propagate, ignore or silent, not \"", mode, "\""));
    }
    const std::string kTracesOnly =
        "filter processor for metrics/logs (Strand pipelines carry "
        "traces)";
    map.Unsupported("metrics", kTracesOnly);
    map.Unsupported("logs", kTracesOnly);
    map.Unsupported("spans",
                    "the legacy include/exclude form; write OTTL conditions under traces::span");
    for (const char* key :
         {"trace_conditions", "metric_conditions", "log_conditions", "profile_conditions"}) {
      map.Unsupported(key,
                      "conditions with context inference; list them under traces::span "
                      "or traces::spanevent");
    }
    ConfigMap traces = map.Sub("traces");
    traces.Unsupported("resource",
                       "resource-context conditions; write them under traces::span with "
                       "resource.attributes[...] paths");
    s->span_conditions = ReadConditions(traces, "span", ottl::Context::kSpan);
    s->spanevent_conditions = ReadConditions(traces, "spanevent", ottl::Context::kSpanEvent);
    std::string query;
    traces.Read("traceql", query);
    if (!query.empty()) {
      auto filter = TraceqlSpanFilter::Compile(query);
      if (filter.ok()) {
        s->traceql = std::move(*filter);
      } else {
        traces.Fail("traceql", std::string(filter.status().message()));
      }
    }
    (void)traces.Finish();
    if (!map.status().ok()) return nullptr;
    return s;
  }

  absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx,
                                                    TracesConsumer& next) const override {
    return std::make_unique<FilterProcessor>(static_cast<const FilterSettings&>(settings), ctx,
                                             MetricsFor(ctx.metrics), next);
  }

 private:
  // The families for `registry` (null: none), added to it on first use.
  const FilterMetrics* MetricsFor(MetricsRegistry* registry) const {
    if (registry == nullptr) return nullptr;
    absl::MutexLock lock(&mu_);
    auto [it, added] = metrics_.try_emplace(registry);
    if (added) {
      it->second.spans_dropped =
          registry->AddCounter("strand_processor_filter_spans_dropped_total",
                               "Spans dropped on purpose by filter processors.", {"processor"});
      it->second.events_dropped = registry->AddCounter(
          "strand_processor_filter_span_events_dropped_total",
          "Span events dropped on purpose by filter processors.", {"processor"});
    }
    return &it->second;
  }

  mutable absl::Mutex mu_;
  mutable std::map<MetricsRegistry*, FilterMetrics> metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewFilterProcessorFactory() {
  return std::make_unique<FilterProcessorFactory>();
}

}  // namespace strand::pipeline
