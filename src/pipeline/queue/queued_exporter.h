// QueuedExporter: the sending half every network exporter shares (otelcol's
// exporterhelper): a sending queue, batching by the requests' BatchPolicy, consumers that
// send with a timeout, and retries with exponential back-off.
//
// Consume() puts the request in the queue and acknowledges it at once (in memory: as the
// collector does; persistent: once it is on disk); a full queue refuses with a retryable
// Unavailable. With the queue disabled, requests wait in a short holding line and are
// acknowledged with the send's outcome. One batcher thread joins queued requests into
// batches; `num_consumers` threads send them. A request is retried on retryable failures
// until `max_elapsed_time`, then dropped and counted; permanent failures are dropped and
// counted at once. A persistent queue forgets a request only after its send ended.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "pipeline/config/component.h"
#include "pipeline/queue/exporter_settings.h"
#include "pipeline/queue/request_queue.h"
#include "pipeline/queue/request_sender.h"

namespace strand::pipeline {

// Counters of one exporter, for /metrics and zpages.
struct ExporterStats {
  Counter* sent_spans = nullptr;
  Counter* failed_spans = nullptr;
  Counter* enqueue_failed_spans = nullptr;
  Counter* retries = nullptr;
  Gauge* queue_size = nullptr;
  Gauge* queue_capacity = nullptr;
};
ExporterStats MakeExporterStats(MetricsRegistry* metrics, const std::string& exporter);

class QueuedExporter : public Exporter {
 public:
  // `queue` null: an in-memory queue of settings.queue.queue_size requests.
  QueuedExporter(SenderSettings settings, std::unique_ptr<RequestSender> sender,
                 std::unique_ptr<RequestQueue> queue, const BuildContext& ctx);
  ~QueuedExporter() override;

  absl::Status Start() override;
  // Stops taking requests, sends what is batched and queued (an in-memory queue is
  // drained; a persistent one keeps what it could not send), and stops the threads.
  void Shutdown() override;
  absl::Status Admit(const RequestContext& ctx) override;
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override;
  // Consume() for a request whose body is already encoded (the loadbalancing exporter's
  // per-backend parts); the same contract.
  void ConsumeRequest(ExportRequest&& request, ConsumeDone done);

  const ExporterStats& stats() const { return stats_; }
  RequestSender& sender() { return *sender_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<RequestSender> sender_;
  ExporterStats stats_;
};

}  // namespace strand::pipeline
