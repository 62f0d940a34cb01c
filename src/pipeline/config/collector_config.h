// CollectorConfig: the OpenTelemetry Collector sections of a configuration file
// (receivers, processors, exporters, extensions, connectors, service), parsed and
// validated against the component types a ComponentRegistry knows.
//
// Every configured component is parsed strictly (unknown keys are errors), whether or
// not a pipeline uses it; only the components that `service` lists run. Errors name the
// section, the component and the pipeline. Environment references must have been
// expanded before (env_expand.h).
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/config/component.h"

namespace strand::pipeline {

// The component types Strand builds, by kind.
class ComponentRegistry {
 public:
  void Add(std::unique_ptr<ComponentFactory> factory);
  const ComponentFactory* Find(ComponentKind kind, std::string_view type) const;
  std::vector<std::string> Types(ComponentKind kind) const;

 private:
  std::vector<std::unique_ptr<ComponentFactory>> factories_;
};

struct ComponentConfig {
  ComponentId id;
  const ComponentFactory* factory = nullptr;
  std::unique_ptr<ComponentSettings> settings;
};

struct PipelineConfig {
  std::string id;  // "traces" or "traces/<name>"
  std::vector<ComponentId> receivers;
  std::vector<ComponentId> processors;
  std::vector<ComponentId> exporters;
};

struct TelemetryConfig {
  // Where the collector's own metrics are served (Prometheus text) when no Tempo API
  // runs; "" turns them off (`level: none`).
  std::string metrics_address = "localhost:8888";
  std::string log_level;  // "" keeps Strand's log level
};

struct CollectorConfig {
  std::map<ComponentId, ComponentConfig> receivers;
  std::map<ComponentId, ComponentConfig> processors;
  std::map<ComponentId, ComponentConfig> exporters;
  std::map<ComponentId, ComponentConfig> extensions;
  std::vector<ComponentId> service_extensions;
  std::vector<PipelineConfig> pipelines;
  TelemetryConfig telemetry;

  const std::map<ComponentId, ComponentConfig>& Section(ComponentKind kind) const;
};

// InvalidArgument naming `ref.key` unless the extension `ref` names is configured, listed in
// service::extensions and able to authenticate in `ref.role`. ParseCollectorConfig checks the
// references of the receivers and exporters that pipelines use; Strand's own settings
// (`strand.api.auth`) are checked with it too.
absl::Status CheckAuthenticatorRef(const CollectorConfig& c, const AuthenticatorRef& ref);

// Whether `key` is one of the collector's top-level sections.
bool IsCollectorSection(const std::string& key);

// Parses the collector sections of `root` (other top-level keys are the caller's). With
// `pipelines_required` false, a file may define extensions without pipelines (for the
// authenticators Strand's own listeners name: `strand.api.auth`).
absl::StatusOr<CollectorConfig> ParseCollectorConfig(const YAML::Node& root,
                                                     const ComponentRegistry& registry,
                                                     bool pipelines_required = true);

}  // namespace strand::pipeline
