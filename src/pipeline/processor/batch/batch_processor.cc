#include "pipeline/processor/batch/batch_processor.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "consumer/batch_policy.h"

namespace strand::pipeline {
namespace {

struct BatchSettings : ComponentSettings {
  BatchPolicy policy;
};

class BatchProcessor : public Processor {
 public:
  BatchProcessor(std::shared_ptr<const BatchPolicy> policy, TracesConsumer& next)
      : policy_(std::move(policy)), next_(next) {}
  absl::Status Admit(const RequestContext& ctx) override { return next_.Admit(ctx); }
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    ctx.batching = policy_;
    next_.Consume(std::move(ctx), std::move(batch), std::move(done));
  }

 private:
  std::shared_ptr<const BatchPolicy> policy_;
  TracesConsumer& next_;
};

class BatchFactory : public ProcessorFactory {
 public:
  std::string_view type() const override { return "batch"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<BatchSettings>();
    BatchPolicy& p = s->policy;
    map.Read("send_batch_size", p.send_batch_size);
    map.Read("send_batch_max_size", p.send_batch_max_size);
    map.ReadDuration("timeout", p.timeout_nanos);
    map.Read("metadata_keys", p.metadata_keys);
    map.Read("metadata_cardinality_limit", p.metadata_cardinality_limit);
    for (auto& k : p.metadata_keys) k = absl::AsciiStrToLower(k);
    return s;
  }
  absl::Status Validate(const ComponentSettings& settings) const override {
    const BatchPolicy& p = static_cast<const BatchSettings&>(settings).policy;
    if (p.send_batch_max_size > 0 && p.send_batch_max_size < p.send_batch_size) {
      return absl::InvalidArgumentError(
          "send_batch_max_size must be 0 or at least send_batch_size");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                    const BuildContext& /*ctx*/,
                                                    TracesConsumer& next) const override {
    auto policy =
        std::make_shared<const BatchPolicy>(static_cast<const BatchSettings&>(settings).policy);
    return std::make_unique<BatchProcessor>(std::move(policy), next);
  }
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewBatchProcessorFactory() {
  return std::make_unique<BatchFactory>();
}

}  // namespace strand::pipeline
