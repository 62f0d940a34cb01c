// The registry of every component type Strand builds, and Strand's default pipeline.
// Adding a component is one folder under processor/, exporter/, receiver/ or extension/
// and one line in BuiltinComponents() (builtin_components.cc).
#pragma once

#include <memory>

#include "pipeline/config/collector_config.h"
#include "pipeline/receiver/otlp/otlp_receiver.h"

namespace strand::pipeline {

// The component types Strand builds. Thread-safe; built once, on first use.
const ComponentRegistry& BuiltinComponents();

// Adds Strand's default pipeline to `config` (which may hold extensions but no pipelines):
// `receivers: otlp` with `settings`, `exporters: strand`, `pipelines: traces: otlp → strand`.
void AddDefaultPipeline(CollectorConfig& config, std::unique_ptr<OtlpReceiverSettings> settings);

}  // namespace strand::pipeline
