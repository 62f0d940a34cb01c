#include "receiver/otlp_trace_handler.h"

#include "common/coding.h"
#include "otlp/json_decoder.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace strand::receiver {

std::string EncodeExportResponse(const ExportResult& result) {
  std::string out;
  if (result.rejected_spans == 0) return out;
  std::string partial;
  partial.push_back(0x08);  // rejected_spans = 1, varint
  PutVarint64(&partial, result.rejected_spans);
  otlp::AppendLengthDelimited(partial, 2, result.rejection_message);
  otlp::AppendLengthDelimited(out, 1, partial);
  return out;
}

OtlpTraceHandler::OtlpTraceHandler(pipeline::TracesConsumer& consumer, MetricsRegistry& metrics,
                                   Clock& clock)
    : consumer_(consumer), clock_(clock) {
  received_ = metrics.AddCounter("strand_receiver_spans_received_total",
                                 "Spans decoded from OTLP requests.", {"protocol"});
  accepted_ = metrics.AddCounter("strand_receiver_spans_accepted_total",
                                 "Spans acknowledged to clients (durable).", {"protocol"});
  refused_spans_ = metrics.AddCounter("strand_receiver_spans_refused_total",
                                      "Spans refused, by reason.", {"protocol", "reason"});
  refused_requests_ = metrics.AddCounter(
      "strand_receiver_requests_refused_total",
      "Requests refused before their spans were decoded, by reason.", {"protocol", "reason"});
  latency_ = metrics.AddHistogram("strand_receiver_request_duration_seconds",
                                  "Time from request received to answer, by protocol.",
                                  {"protocol"}, MetricsRegistry::LatencyBuckets());
  for (auto* pm : {&grpc_, &http_}) {
    std::string p = pm == &grpc_ ? "grpc" : "http";
    pm->spans_received = received_->With({p});
    pm->spans_accepted = accepted_->With({p});
    pm->spans_invalid = refused_spans_->With({p, "invalid_id"});
    pm->latency = latency_->With({p});
  }
}

OtlpTraceHandler::ProtocolMetrics& OtlpTraceHandler::For(const std::string& protocol) {
  return protocol == "grpc" ? grpc_ : http_;
}

Counter* OtlpTraceHandler::Refused(const std::string& protocol, const std::string& reason) {
  return refused_spans_->With({protocol, reason});
}

void OtlpTraceHandler::CountRefusedRequest(const std::string& protocol, const std::string& reason) {
  refused_requests_->With({protocol, reason})->Increment();
}

void OtlpTraceHandler::Export(const std::string& protocol, pipeline::RequestContext&& ctx,
                              BodyFormat format, std::string&& body, MemoryLease lease,
                              std::function<void(ExportResult)> done) {
  const int64_t start = clock_.MonotonicNanos();
  ProtocolMetrics& pm = For(protocol);
  if (absl::Status admit = consumer_.Admit(ctx); !admit.ok()) {
    CountRefusedRequest(protocol, admit.code() == absl::StatusCode::kResourceExhausted
                                      ? "resource_exhausted"
                                      : "unavailable");
    pm.latency->Observe((clock_.MonotonicNanos() - start) / 1e9);
    done({std::move(admit), 0, {}});
    return;
  }
  auto decoded = format == BodyFormat::kProtobuf ? otlp::DecodeProtoRequest(std::move(body))
                                                 : otlp::DecodeJsonRequest(body);
  std::string().swap(body);  // JSON: the text is no longer needed (protobuf: adopted)
  if (!decoded.ok()) {
    CountRefusedRequest(protocol, "malformed");
    pm.latency->Observe((clock_.MonotonicNanos() - start) / 1e9);
    done({decoded.status(), 0, {}});
    return;
  }
  // The decoded batch (with the request bytes it keeps) is held until the answer.
  if (absl::Status s = lease.TryResize(decoded->batch.MemoryUsage(), "decoded batch"); !s.ok()) {
    CountRefusedRequest(protocol, "memory_limit");
    pm.latency->Observe((clock_.MonotonicNanos() - start) / 1e9);
    done({std::move(s), 0, {}});
    return;
  }
  const uint64_t n = decoded->batch.spans.size();
  pm.spans_received->Increment(n + decoded->rejected_spans);
  if (decoded->rejected_spans > 0) pm.spans_invalid->Increment(decoded->rejected_spans);
  ExportResult partial{absl::OkStatus(), decoded->rejected_spans,
                       std::move(decoded->rejection_message)};
  consumer_.Consume(std::move(ctx), std::move(decoded->batch),
                    [this, protocol, n, start, &pm, partial = std::move(partial),
                     lease = std::make_shared<MemoryLease>(std::move(lease)),
                     done = std::move(done)](absl::Status s) mutable {
                      lease->Reset();  // the batch is the consumer's now (live traces count it)
                      if (s.ok()) {
                        pm.spans_accepted->Increment(n);
                      } else {
                        std::string reason = s.code() == absl::StatusCode::kUnavailable
                                                 ? "unavailable"
                                             : s.code() == absl::StatusCode::kResourceExhausted
                                                 ? "resource_exhausted"
                                                 : "internal";
                        Refused(protocol, reason)->Increment(n);
                      }
                      pm.latency->Observe((clock_.MonotonicNanos() - start) / 1e9);
                      if (!s.ok()) {
                        done({std::move(s), 0, {}});
                      } else {
                        done(std::move(partial));
                      }
                    });
}

}  // namespace strand::receiver
