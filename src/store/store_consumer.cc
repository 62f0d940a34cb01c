#include "store/store_consumer.h"

#include <memory>
#include <utility>

namespace strand::store {

absl::Status StoreConsumer::Admit(const RequestContext& /*ctx*/) {
  return store_.CheckAdmission();
}

void StoreConsumer::Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) {
  if (ctx.refused == nullptr) {
    store_.Ingest(ctx.tenant, std::move(batch), std::move(done));
    return;
  }
  // The store's refusals (per-tenant limits) reach the receiver's partial success.
  auto refusals = std::make_shared<IngestRefusals>();
  IngestRefusals* raw = refusals.get();
  store_.Ingest(
      ctx.tenant, std::move(batch),
      [refusals = std::move(refusals), out = ctx.refused, done = std::move(done)](absl::Status s) {
        out->spans += refusals->spans;
        out->message = std::move(refusals->message);
        done(std::move(s));
      },
      raw);
}

}  // namespace strand::store
