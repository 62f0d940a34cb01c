#include "pipeline/builtin_components.h"

#include "pipeline/exporter/debug/debug_exporter.h"
#include "pipeline/exporter/loadbalancing/loadbalancing_exporter.h"
#include "pipeline/exporter/otlp/otlp_exporter.h"
#include "pipeline/exporter/strand/store_exporter.h"
#include "pipeline/extension/auth/auth_extensions.h"
#include "pipeline/extension/file_storage/file_storage.h"
#include "pipeline/extension/health_check/health_check.h"
#include "pipeline/extension/memory_ballast/memory_ballast.h"
#include "pipeline/extension/zpages/zpages.h"
#include "pipeline/processor/attributes/attributes_processor.h"
#include "pipeline/processor/batch/batch_processor.h"
#include "pipeline/processor/filter/filter_processor.h"
#include "pipeline/processor/memory_limiter/memory_limiter.h"
#include "pipeline/processor/probabilistic_sampler/probabilistic_sampler.h"
#include "pipeline/processor/tail_sampling/tail_sampling_processor.h"

namespace strand::pipeline {

const ComponentRegistry& BuiltinComponents() {
  static const ComponentRegistry* registry = [] {
    auto* r = new ComponentRegistry();
    r->Add(NewOtlpReceiverFactory());
    r->Add(NewMemoryLimiterFactory());
    r->Add(NewBatchProcessorFactory());
    r->Add(NewAttributesProcessorFactory());
    r->Add(NewResourceProcessorFactory());
    r->Add(NewFilterProcessorFactory());
    r->Add(NewProbabilisticSamplerFactory());
    r->Add(NewTailSamplingProcessorFactory());
    r->Add(NewOtlpExporterFactory());
    r->Add(NewOtlpHttpExporterFactory());
    r->Add(NewDebugExporterFactory());
    r->Add(NewLoadBalancingExporterFactory());
    r->Add(NewStoreExporterFactory());
    r->Add(NewHealthCheckFactory());
    r->Add(NewZpagesFactory());
    r->Add(NewMemoryBallastFactory());
    r->Add(NewFileStorageFactory());
    r->Add(NewBearerTokenAuthFactory());
    r->Add(NewBasicAuthFactory());
    return r;
  }();
  return *registry;
}

void AddDefaultPipeline(CollectorConfig& config, std::unique_ptr<OtlpReceiverSettings> settings) {
  const ComponentRegistry& registry = BuiltinComponents();
  for (const auto* ref : {&settings->grpc_auth, &settings->http_auth}) {
    if (*ref) settings->authenticators.push_back(**ref);
  }
  const ComponentId otlp{"otlp", ""};
  const ComponentId strand{"strand", ""};
  config.receivers[otlp] =
      ComponentConfig{otlp, registry.Find(ComponentKind::kReceiver, "otlp"), std::move(settings)};
  const ComponentFactory* store_exporter = registry.Find(ComponentKind::kExporter, "strand");
  ConfigMap no_settings(YAML::Node(), "exporters::strand");
  config.exporters[strand] =
      ComponentConfig{strand, store_exporter, store_exporter->Parse(no_settings)};
  config.pipelines.push_back(PipelineConfig{"traces", {otlp}, {}, {strand}});
}

}  // namespace strand::pipeline
