// Tag values: how the values of a TraceQL field appear in the tag values API, and the
// values a field takes in a batch of spans. Shared by the engine (values among matched
// spans) and storage implementations (values of whole batches). Stateless.
#pragma once

#include <optional>
#include <set>

#include "otlp/span_batch.h"
#include "traceql/ast.h"
#include "traceql/storage.h"

namespace strand::traceql {

// A value as the tag values API lists it, if it is listable.
std::optional<TagValue> ToTagValue(const Value& v);

// Adds the values of `field` (an attribute, or an enumerable intrinsic: span and root
// names and services, status message, event name, instrumentation name and version) in
// the spans of `batch` and their resources, scopes, events and links to `out`.
void CollectTagValues(const otlp::SpanBatch& batch, const FieldExpr& field,
                      std::set<TagValue>& out);

}  // namespace strand::traceql
