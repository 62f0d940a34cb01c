// The `attributes` and `resource` processors (otelcol contrib): edit attributes with a
// list of actions (see AttributeActions), and pass every span on.
//
// - `attributes` edits span attributes with its `actions` list, on the spans that
//   `include` selects and `exclude` does not (see SpanMatcher; both optional). Events
//   and links are left alone. Documented in docs/collector/attributes.md.
// - `resource` edits the attributes of every resource in a batch with its `attributes`
//   list. Documented in docs/collector/resource.md.
// Both processors are thread-safe (they keep no state between batches).
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ProcessorFactory> NewAttributesProcessorFactory();
std::unique_ptr<ProcessorFactory> NewResourceProcessorFactory();

}  // namespace strand::pipeline
