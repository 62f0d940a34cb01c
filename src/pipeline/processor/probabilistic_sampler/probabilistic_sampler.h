// The `probabilistic_sampler` processor (otelcol contrib), in its `hash_seed` mode: keeps
// a span when a hash of its trace ID with the seed falls under the sampling percentage,
// so every span of a trace gets the same decision, on every instance with the same seed
// and on otelcol instances configured alike.
//
// The decision is otelcol's: h = FNV-1a 32 over the 4 little-endian bytes of `hash_seed`
// followed by the 16 trace-ID bytes; keep when (h & 0x3fff) < uint32(float32(p) *
// float32(16384 / 100)), p being `sampling_percentage` capped at 100. A span attribute
// `sampling.priority` overrides it: 0 drops the span, a positive number keeps it.
// Dropped spans are acknowledged as success and counted in
// strand_processor_sampler_dropped_spans_total{processor}. Documented, with what is not
// supported, in docs/collector/probabilistic_sampler.md.
// The processor is thread-safe (no state between batches).
#pragma once

#include <cstdint>
#include <memory>

#include "otlp/span_batch.h"
#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ProcessorFactory> NewProbabilisticSamplerFactory();

// The 14-bit bucket of `trace_id` under `seed` (exposed for tests).
uint32_t TraceIdHashBucket(const otlp::TraceId& trace_id, uint32_t seed);

}  // namespace strand::pipeline
