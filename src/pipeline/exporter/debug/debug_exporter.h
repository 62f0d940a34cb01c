// The `debug` exporter: writes what passes to Strand's log. `verbosity: basic` logs one
// line per batch (resource spans and spans), `normal` one line per span, `detailed`
// every field of every span (resource, scope, attributes, events, links). Log lines are
// sampled as the collector does: the first `sampling_initial` batches each second, then
// every `sampling_thereafter`-th. Acknowledges at once. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "otlp/span_batch.h"
#include "pipeline/config/component.h"

namespace strand::pipeline {

enum class DebugVerbosity { kBasic, kNormal, kDetailed };

// The text the exporter logs for a batch (exposed for tests).
std::string DescribeBatch(const otlp::SpanBatch& batch, DebugVerbosity verbosity);

std::unique_ptr<ExporterFactory> NewDebugExporterFactory();

}  // namespace strand::pipeline
