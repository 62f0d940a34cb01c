// Encoders from SpanBatch back to OTLP protobuf bytes: the WAL form of a batch that did
// not arrive as protobuf, the body of trace-by-ID answers, and exporters' requests.
// Fields are written in field-number order and proto3 defaults are omitted, so the output
// is what any protobuf library would produce for the same data. Thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "otlp/span_batch.h"

namespace strand::otlp {

// One span of one batch. The batch must outlive the reference.
struct SpanRef {
  const SpanBatch* batch = nullptr;
  uint32_t index = 0;
  const Span& span() const { return batch->spans[index]; }
};

// Encodes the spans as `repeated ResourceSpans` in field 1, grouping spans of the same
// (batch, resource) and (batch, scope) together in first-appearance order. The bytes are
// a valid ExportTraceServiceRequest, TracesData, and Tempo Trace message.
std::string EncodeResourceSpans(std::span<const SpanRef> spans);

// Encodes every span of `batch` as an ExportTraceServiceRequest.
std::string EncodeExportRequest(const SpanBatch& batch);

// The size of each span of `batch` encoded alone (its Span message with tag and length):
// what a trace's size limit counts (not the resource and scope it shares with others).
std::vector<uint32_t> EncodedSpanSizes(const SpanBatch& batch);

// Appends `bytes` as length-delimited field `field` to `out` (to wrap a message).
void AppendLengthDelimited(std::string& out, uint32_t field, std::string_view bytes);

}  // namespace strand::otlp
