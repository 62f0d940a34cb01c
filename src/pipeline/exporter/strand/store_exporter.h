// The `strand` exporter: hands spans to the store this process runs (the embedded Tempo
// side), so one configuration file can hold collector pipelines and the store together.
// Acknowledges once the spans are in the store's write-ahead log (durable), refuses
// with the store's retryable errors when it is overloaded. No settings. Thread-safe.
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ExporterFactory> NewStoreExporterFactory();

}  // namespace strand::pipeline
