// TraceView: the spans of one trace (or of the part of it that one source holds: live
// traces or one block) as the TraceQL executor reads them, with the trace's shape
// derived once: each span's parent, the root span, the trace's time bounds.
//
// The spans are references into SpanBatches that must outlive the view. Spans whose
// parent is not among them (not received yet, or stored elsewhere) have no parent here;
// a trace without any parentless span has no root. Thread-compatible.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "otlp/proto_encoder.h"
#include "otlp/span_batch.h"

namespace strand::traceql {

class TraceView {
 public:
  TraceView() = default;
  // Takes the spans of one trace and derives its shape.
  TraceView(const otlp::TraceId& id, std::vector<otlp::SpanRef> spans);

  const otlp::TraceId& id() const { return id_; }
  size_t size() const { return spans_.size(); }
  const otlp::SpanRef& ref(uint32_t i) const { return spans_[i]; }
  const otlp::Span& span(uint32_t i) const { return spans_[i].span(); }
  const otlp::SpanBatch& batch(uint32_t i) const { return *spans_[i].batch; }
  const std::vector<otlp::SpanRef>& refs() const { return spans_; }

  // Index of span i's parent among the spans, or -1 (a root, or the parent is absent).
  // Parent links that would close a cycle (bad data) are dropped.
  int32_t parent(uint32_t i) const { return parent_[i]; }
  // Every span index, parents before their children.
  const std::vector<uint32_t>& top_down() const { return top_down_; }
  // Whether span i has a parent span ID at all (true roots have none).
  bool is_root(uint32_t i) const { return !span(i).has_parent; }
  // The earliest-starting span without a parent span ID, or -1.
  int32_t root() const { return root_; }

  uint64_t min_start() const { return min_start_; }
  uint64_t max_end() const { return max_end_; }

  // The value of the resource attribute `key` of span i ("" when absent).
  std::string_view ResourceString(uint32_t i, std::string_view key) const;
  // Service name of the root span, or of the first span when there is no root.
  std::string_view RootServiceName() const;
  std::string_view RootSpanName() const;

 private:
  otlp::TraceId id_{};
  std::vector<otlp::SpanRef> spans_;
  std::vector<int32_t> parent_;
  std::vector<uint32_t> top_down_;
  int32_t root_ = -1;
  uint64_t min_start_ = 0;
  uint64_t max_end_ = 0;
};

// The attribute `key` among attributes[range] of `batch`, or null.
const otlp::AnyValue* FindAttribute(const otlp::SpanBatch& batch, otlp::Range range,
                                    std::string_view key);

}  // namespace strand::traceql
