// The `filter` processor: drops the spans (and span events) that match OTTL conditions,
// or a TraceQL spanset filter (a Strand extension), as otelcol contrib's filter processor
// does for traces (docs/collector/filter.md).
//
//   filter/drop-health:
//     error_mode: ignore              # propagate (default) | ignore | silent
//     traces:
//       span: ['attributes["http.route"] == "/healthz"']   # any match drops the span
//       spanevent: ['name == "debug"']                     # any match drops the event
//       traceql: '{ span.http.route = "/healthz" }'        # matching spans are dropped
//
// Dropping is success: a batch left empty is acknowledged (done OK) and not passed on;
// the rest goes to `next` with the caller's `done`. Dropped spans and events are counted
// in strand_processor_filter_spans_dropped_total / ..._span_events_dropped_total
// {processor}. An evaluation error fails the batch (propagate: done with the error) or
// keeps the span or event (ignore: logged; silent: not logged).
//
// Conditions are compiled when the configuration is parsed; the processor is thread-safe
// (Consume keeps its state on the stack).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/config/component.h"
#include "pipeline/ottl/ottl_condition.h"
#include "pipeline/processor/filter/traceql_span_filter.h"

namespace strand::pipeline {

enum class OttlErrorMode { kPropagate, kIgnore, kSilent };

struct FilterSettings : ComponentSettings {
  OttlErrorMode error_mode = OttlErrorMode::kPropagate;
  std::vector<std::shared_ptr<const OttlCondition>> span_conditions;
  std::vector<std::shared_ptr<const OttlCondition>> spanevent_conditions;
  std::shared_ptr<const TraceqlSpanFilter> traceql;  // null when not configured
};

std::unique_ptr<ProcessorFactory> NewFilterProcessorFactory();

}  // namespace strand::pipeline
