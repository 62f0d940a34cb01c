// StoreConsumer: the store behind the consumer seam (consumer/traces_consumer.h), so that
// receivers and collector pipelines hand it spans like any other consumer. The `strand`
// exporter writes through one. Admit() is the store's cheap admission check; Consume()
// acknowledges once the spans are in the WAL (durable). Spans the tenant's limits refuse
// are recorded in the request's `refused` (OTLP partial success) when the receiver asks
// for it. Thread-safe; the store must outlive it.
#pragma once

#include "consumer/traces_consumer.h"
#include "store/store.h"

namespace strand::store {

class StoreConsumer : public TracesConsumer {
 public:
  explicit StoreConsumer(Store& store) : store_(store) {}
  absl::Status Admit(const RequestContext& ctx) override;
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override;

 private:
  Store& store_;
};

}  // namespace strand::store
