// Fanout: hands each batch to several consumers (a receiver shared by pipelines, a
// pipeline with several exporters). Every consumer but the last gets a copy. The caller
// is acknowledged once all have answered: OK if all did, else the first failure (a
// retryable one first, so the client tries again). Thread-safe.
#pragma once

#include <vector>

#include "consumer/traces_consumer.h"

namespace strand::pipeline {

class Fanout : public TracesConsumer {
 public:
  // The consumers must outlive the fan-out.
  explicit Fanout(std::vector<TracesConsumer*> consumers) : consumers_(std::move(consumers)) {}
  absl::Status Admit(const RequestContext& ctx) override;
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override;

 private:
  std::vector<TracesConsumer*> consumers_;
};

}  // namespace strand::pipeline
