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

std::string EncodeRetryableStatusDetails(absl::StatusCode code, std::string_view message,
                                         int64_t retry_after_seconds) {
  std::string duration;      // google.protobuf.Duration
  duration.push_back(0x08);  // seconds = 1, varint
  PutVarint64(&duration, static_cast<uint64_t>(retry_after_seconds));
  std::string retry_info;  // google.rpc.RetryInfo
  otlp::AppendLengthDelimited(retry_info, 1, duration);
  std::string any;  // google.protobuf.Any
  otlp::AppendLengthDelimited(any, 1, "type.googleapis.com/google.rpc.RetryInfo");
  otlp::AppendLengthDelimited(any, 2, retry_info);
  std::string status;      // google.rpc.Status
  status.push_back(0x08);  // code = 1, varint
  PutVarint64(&status, static_cast<uint64_t>(code));
  otlp::AppendLengthDelimited(status, 2, message);
  otlp::AppendLengthDelimited(status, 3, any);
  return status;
}

OtlpTraceHandler::OtlpTraceHandler(TracesConsumer& consumer, MetricsRegistry& metrics,
                                   Clock& clock, overrides::Overrides* overrides)
    : consumer_(consumer), clock_(clock), overrides_(overrides), rate_limiter_(clock) {
  tenant_bytes_ =
      metrics.AddCounter("strand_receiver_tenant_bytes_received_total",
                         "OTLP request bytes received (decompressed), by tenant.", {"tenant"});
  rate_limited_bytes_ = metrics.AddCounter(
      "strand_rate_limited_bytes_total",
      "OTLP request bytes refused by the tenant's ingestion rate limit (strand.overrides).",
      {"tenant"});
  rate_limited_requests_ = metrics.AddCounter(
      "strand_rate_limited_requests_total",
      "OTLP requests refused by the tenant's ingestion rate limit (strand.overrides).", {"tenant"});
  discarded_spans_ = overrides::DiscardedSpans(metrics);
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

ExportResult OtlpTraceHandler::RateLimit(const std::string& protocol, const std::string& tenant,
                                         uint64_t bytes, uint64_t spans) {
  const overrides::Limits limits = overrides_->For(tenant);
  absl::Status s = rate_limiter_.Take(tenant, bytes, limits);
  if (s.ok()) return {};
  Refused(protocol, overrides::kRateLimited)->Increment(spans);
  discarded_spans_->With({tenant, overrides::kRateLimited})->Increment(spans);
  rate_limited_requests_->With({tenant})->Increment();
  rate_limited_bytes_->With({tenant})->Increment(bytes);
  return {std::move(s), 0, {}, overrides::RateLimiter::RetryAfterSeconds(bytes, limits)};
}

void OtlpTraceHandler::AddRefusals(const std::string& protocol,
                                   const SpanRefusals& refused, ExportResult& partial) {
  Refused(protocol, "limits")->Increment(refused.spans);
  partial.rejected_spans += refused.spans;
  if (!partial.rejection_message.empty()) partial.rejection_message += "; ";
  partial.rejection_message += refused.message;
}

void OtlpTraceHandler::Export(const std::string& protocol, RequestContext&& ctx,
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
  const uint64_t bytes = body.size();
  tenant_bytes_->With({ctx.tenant})->Increment(bytes);
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
  if (overrides_ != nullptr) {
    // After decoding, as Tempo's distributor: the refused spans are counted by tenant.
    if (ExportResult limited = RateLimit(protocol, ctx.tenant, bytes, n); !limited.status.ok()) {
      pm.latency->Observe((clock_.MonotonicNanos() - start) / 1e9);
      done(std::move(limited));
      return;
    }
    ctx.refused = std::make_shared<SpanRefusals>();
  }
  ExportResult partial{absl::OkStatus(), decoded->rejected_spans,
                       std::move(decoded->rejection_message)};
  std::shared_ptr<SpanRefusals> refused = ctx.refused;
  consumer_.Consume(std::move(ctx), std::move(decoded->batch),
                    [this, protocol, n, start, &pm, partial = std::move(partial),
                     lease = std::make_shared<MemoryLease>(std::move(lease)),
                     refused = std::move(refused), done = std::move(done)](absl::Status s) mutable {
                      lease->Reset();  // the batch is the consumer's now (live traces count it)
                      if (s.ok()) {
                        const uint64_t limited = refused != nullptr ? refused->spans : 0;
                        pm.spans_accepted->Increment(n - limited);
                        if (limited > 0) AddRefusals(protocol, *refused, partial);
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
