#include "pipeline/exporter/strand/store_exporter.h"

namespace strand::pipeline {
namespace {

struct StoreSettings : ComponentSettings {};

class StoreExporter : public Exporter {
 public:
  explicit StoreExporter(TracesConsumer& store) : store_(store) {}
  absl::Status Admit(const RequestContext& ctx) override { return store_.Admit(ctx); }
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    store_.Consume(std::move(ctx), std::move(batch), std::move(done));
  }

 private:
  TracesConsumer& store_;
};

class StoreFactory : public ExporterFactory {
 public:
  std::string_view type() const override { return "strand"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& /*map*/) const override {
    return std::make_unique<StoreSettings>();
  }
  absl::StatusOr<std::unique_ptr<Exporter>> Create(const ComponentSettings& /*settings*/,
                                                   const BuildContext& ctx) const override {
    if (ctx.store == nullptr) {
      return absl::FailedPreconditionError(
          "exporters::strand: this process runs no store to write to");
    }
    return std::make_unique<StoreExporter>(*ctx.store);
  }
};

}  // namespace

std::unique_ptr<ExporterFactory> NewStoreExporterFactory() {
  return std::make_unique<StoreFactory>();
}

}  // namespace strand::pipeline
