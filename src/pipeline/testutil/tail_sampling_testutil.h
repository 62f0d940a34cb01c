// Test helpers for the tail_sampling tests: OTLP requests built with the generated
// protobuf classes and decoded into SpanBatches, and a downstream consumer that records
// what it gets. Test-only; not thread-safe except RecordingConsumer.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "otlp/span_batch.h"
#include "consumer/traces_consumer.h"

namespace strand::pipeline::testing {

namespace pb = ::opentelemetry::proto;

constexpr uint64_t kBaseNanos = 1'700'000'000'000'000'000;

inline otlp::TraceId TraceIdOf(uint32_t n) {
  otlp::TraceId id{};
  id[0] = 0xab;
  for (int i = 0; i < 4; ++i) id[15 - i] = static_cast<uint8_t>(n >> (8 * i));
  return id;
}

// Builds one request: resources, each with one scope of spans.
class RequestBuilder {
 public:
  // Starts a new resource; later spans go into it.
  pb::resource::v1::Resource* Resource() {
    scope_ = req_.add_resource_spans();
    auto* r = scope_->mutable_resource();
    scope_spans_ = scope_->add_scope_spans();
    return r;
  }
  // A span of trace `trace` lasting [start_ms, end_ms) after kBaseNanos.
  pb::trace::v1::Span* Span(uint32_t trace, int64_t start_ms = 0, int64_t end_ms = 1) {
    if (scope_spans_ == nullptr) Resource();
    auto* s = scope_spans_->add_spans();
    const otlp::TraceId id = TraceIdOf(trace);
    s->set_trace_id(std::string(otlp::IdBytes(id)));
    ++span_counter_;
    std::string span_id(8, '\x01');
    for (int i = 0; i < 4; ++i) span_id[7 - i] = static_cast<char>(span_counter_ >> (8 * i));
    s->set_span_id(span_id);
    s->set_name("op");
    s->set_start_time_unix_nano(kBaseNanos + start_ms * 1'000'000);
    s->set_end_time_unix_nano(kBaseNanos + end_ms * 1'000'000);
    return s;
  }
  otlp::SpanBatch Build() {
    auto decoded = otlp::DecodeProtoRequest(req_.SerializeAsString());
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    return std::move(decoded->batch);
  }

 private:
  pb::collector::trace::v1::ExportTraceServiceRequest req_;
  pb::trace::v1::ResourceSpans* scope_ = nullptr;
  pb::trace::v1::ScopeSpans* scope_spans_ = nullptr;
  uint32_t span_counter_ = 0;
};

template <typename Msg>
void AddString(Msg* m, const std::string& key, const std::string& value) {
  auto* kv = m->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}
template <typename Msg>
void AddInt(Msg* m, const std::string& key, int64_t value) {
  auto* kv = m->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}
template <typename Msg>
void AddBool(Msg* m, const std::string& key, bool value) {
  auto* kv = m->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_bool_value(value);
}

// A batch with `spans` spans of each listed trace.
inline otlp::SpanBatch TracesBatch(const std::vector<uint32_t>& traces, int spans = 1) {
  RequestBuilder b;
  for (uint32_t t : traces) {
    for (int i = 0; i < spans; ++i) b.Span(t);
  }
  return b.Build();
}

// Records every batch it is given; answers with `status`.
class RecordingConsumer : public TracesConsumer {
 public:
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      tenants.push_back(ctx.tenant);
      for (const otlp::Span& s : batch.spans) span_traces.push_back(s.trace_id);
      batches.push_back(std::move(batch));
      status = next_status;
    }
    done(status);
  }
  size_t SpansOf(uint32_t trace) {
    absl::MutexLock lock(&mu_);
    return std::count(span_traces.begin(), span_traces.end(), TraceIdOf(trace));
  }
  size_t TotalSpans() {
    absl::MutexLock lock(&mu_);
    return span_traces.size();
  }

  absl::Mutex mu_;
  std::vector<std::string> tenants;
  std::vector<otlp::TraceId> span_traces;
  std::vector<otlp::SpanBatch> batches;
  absl::Status next_status = absl::OkStatus();
};

}  // namespace strand::pipeline::testing
