// Collector: runs the pipelines of a CollectorConfig.
//
// Start() builds and starts, in this order: the extensions `service` lists (so
// file_storage exists before the queues that use it), the exporters the pipelines name
// (one per ID, shared by pipelines), each pipeline's processors (one chain per pipeline,
// last to first), and the receivers (one per ID, fanning out to every pipeline that
// lists it). Shutdown() stops in the reverse order: receivers first, so that nothing new
// arrives, then processors (which flush), exporters (which drain their queues), and
// extensions. Thread-safe after Start.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/memory_budget.h"
#include "pipeline/config/collector_config.h"

namespace strand::pipeline {

struct CollectorOptions {
  MetricsRegistry* metrics = nullptr;  // required
  Clock* clock = nullptr;              // required
  Env* env = nullptr;                  // required
  TracesConsumer* store = nullptr;     // the embedded store, for the `strand` exporter
  overrides::Overrides* overrides = nullptr;  // the store's per-tenant limits; may be null
  bool multitenancy = false;
  MemoryBudget* memory = nullptr;      // the process's memory limit; may be null
};

class Collector {
 public:
  static absl::StatusOr<std::unique_ptr<Collector>> Start(
      std::shared_ptr<const CollectorConfig> config, CollectorOptions options);
  ~Collector();
  void Shutdown();

  bool ready() const { return ready_.load(); }
  // An HTML description of the pipelines and their counters (zpages).
  std::string DescribePipelines() const;

  // The server side of the running authenticator extension `id` (for `strand.api.auth`
  // and `strand.otlp.*.auth`); null when there is none. The authenticator may outlive the
  // collector.
  std::shared_ptr<const auth::ServerAuthenticator> FindServerAuthenticator(
      const ComponentId& id) const;

  // The ports the running receiver or extension `id` (`otlp`, `zpages/x`) listens on
  // (Component::ListenerPorts); empty when there is none. Lets endpoints use port 0.
  std::vector<int> ListenerPorts(const std::string& id) const;

  struct PipelineRuntime;

 private:
  Collector() = default;
  absl::Status Build(CollectorOptions options);
  BuildContext ContextFor(const ComponentId& id, const std::string& pipeline) const;
  // The running extension `id`, or null.
  const Extension* FindExtension(const ComponentId& id) const;

  std::shared_ptr<const CollectorConfig> config_;
  CollectorOptions options_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
  std::vector<std::pair<ComponentId, std::unique_ptr<Extension>>> extensions_;
  std::vector<std::pair<ComponentId, std::unique_ptr<Exporter>>> exporters_;
  std::vector<std::unique_ptr<PipelineRuntime>> pipelines_;
  std::vector<std::unique_ptr<TracesConsumer>> fanouts_;
  std::vector<std::pair<ComponentId, std::unique_ptr<Receiver>>> receivers_;
};

}  // namespace strand::pipeline
