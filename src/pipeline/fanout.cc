#include "pipeline/fanout.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "pipeline/queue/export_request.h"

namespace strand::pipeline {

absl::Status Fanout::Admit(const RequestContext& ctx) {
  for (TracesConsumer* c : consumers_) {
    if (absl::Status s = c->Admit(ctx); !s.ok()) return s;
  }
  return absl::OkStatus();
}

namespace {

bool Retryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsResourceExhausted(s);
}

struct Join {
  explicit Join(size_t n, ConsumeDone d) : left(n), done(std::move(d)) {}
  void Answer(absl::Status s) {
    {
      absl::MutexLock lock(&mu);
      if (!s.ok() && (first.ok() || (Retryable(s) && !Retryable(first)))) first = std::move(s);
      if (--left > 0) return;
    }
    done(std::move(first));
  }
  absl::Mutex mu;
  size_t left;
  absl::Status first;
  ConsumeDone done;
};

}  // namespace

void Fanout::Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) {
  if (consumers_.size() == 1) {
    consumers_[0]->Consume(std::move(ctx), std::move(batch), std::move(done));
    return;
  }
  auto join = std::make_shared<Join>(consumers_.size(), std::move(done));
  for (size_t i = 0; i + 1 < consumers_.size(); ++i) {
    RequestContext copy = ctx;
    consumers_[i]->Consume(std::move(copy), CloneBatch(batch),
                           [join](absl::Status s) { join->Answer(std::move(s)); });
  }
  consumers_.back()->Consume(std::move(ctx), std::move(batch),
                             [join](absl::Status s) { join->Answer(std::move(s)); });
}

}  // namespace strand::pipeline
