// The collector's component model: receivers, processors, exporters and extensions, each
// made by a factory that knows one `type` (the part of a component ID before `/`).
//
// A factory parses a component's YAML settings (strictly, through ConfigMap) into its own
// ComponentSettings subclass, then builds running components from them. The collector
// service (collector.h) builds one processor per pipeline that lists it, one exporter
// and one receiver per component ID however many pipelines share it, and starts them in
// the order exporters, processors, receivers (stopping in reverse), so that data always
// has somewhere to go.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/memory_budget.h"
#include "common/metrics.h"
#include "consumer/traces_consumer.h"
#include "pipeline/config/config_map.h"

namespace strand {
class Env;
}
namespace strand::overrides {
class Overrides;
}
namespace strand::auth {
class ServerAuthenticator;
class ClientAuthenticator;
}  // namespace strand::auth

namespace strand::pipeline {

enum class ComponentKind { kReceiver, kProcessor, kExporter, kExtension };
const char* KindName(ComponentKind kind);  // "receivers", "processors", ...

// `type[/name]`. Types are letters, digits and `_`; names may hold any printable
// character but `/` and spaces.
struct ComponentId {
  std::string type;
  std::string name;
  static absl::StatusOr<ComponentId> Parse(std::string_view text);
  std::string ToString() const { return name.empty() ? type : type + "/" + name; }
  friend bool operator<(const ComponentId& a, const ComponentId& b) {
    return a.type != b.type ? a.type < b.type : a.name < b.name;
  }
  friend bool operator==(const ComponentId& a, const ComponentId& b) {
    return a.type == b.type && a.name == b.name;
  }
};

// How a component uses the authenticator extension it names: a receiver checks incoming
// requests with it (server), an exporter adds its credentials to outgoing ones (client).
enum class AuthRole { kServer, kClient };

// A component's `auth: {authenticator: <id>}` setting.
struct AuthenticatorRef {
  std::string key;  // where it was set, for errors (`receivers::otlp::...::authenticator`)
  ComponentId id;
  AuthRole role;
};

// One component type's parsed settings.
struct ComponentSettings {
  virtual ~ComponentSettings() = default;
  // The authenticator extensions these settings name. The configuration checks that each
  // is configured, listed in service::extensions and able to play its role.
  std::vector<AuthenticatorRef> authenticators;
  // For an extension's settings: whether it authenticates in `role` (auth_extensions.h).
  virtual bool Authenticates(AuthRole /*role*/) const { return false; }
};

// Reads `auth: {authenticator: <id>}` under `parent` when it is there (other keys of
// `auth` are refused). Returns the reference; the caller adds it to its settings.
std::optional<AuthenticatorRef> ReadAuthenticator(ConfigMap& parent, AuthRole role);

class FileStorage;  // file_storage extension (persistent queues)

// What a component may use while it is built and run. Everything outlives the component.
struct BuildContext {
  ComponentId id;
  std::string pipeline;  // the pipeline a processor is built for ("" for shared parts)
  MetricsRegistry* metrics = nullptr;
  Clock* clock = nullptr;
  Env* env = nullptr;
  // The embedded store, for the `strand` exporter; null when this process runs no store.
  TracesConsumer* store = nullptr;
  // The store's per-tenant limits (strand.overrides), null without a store: receivers
  // apply the ingestion rate limit and report the store's refusals as partial success.
  overrides::Overrides* overrides = nullptr;
  // Receivers require X-Scope-OrgID (the store runs with multitenancy on).
  bool multitenancy = false;
  // The process's memory limit (may be null): receivers take request bodies from it,
  // in-memory export queues their requests.
  MemoryBudget* memory = nullptr;
  // Finds a file_storage extension by ID (for `sending_queue::storage`); null when absent.
  std::function<FileStorage*(const ComponentId&)> find_storage;
  // Find an authenticator extension's server or client side by ID; null when there is no
  // such running extension or it does not play that role.
  std::function<std::shared_ptr<const auth::ServerAuthenticator>(const ComponentId&)>
      find_server_authenticator;
  std::function<std::shared_ptr<const auth::ClientAuthenticator>(const ComponentId&)>
      find_client_authenticator;
  // For extensions: whether the pipelines are running (health_check), and an HTML
  // description of them with their counters (zpages).
  std::function<bool()> pipelines_ready;
  std::function<std::string()> describe_pipelines;
};

// A running component. Start() runs once before any data arrives; Shutdown() once after
// the components upstream have stopped, and should hand on or flush what it holds.
class Component {
 public:
  virtual ~Component() = default;
  virtual absl::Status Start() { return absl::OkStatus(); }
  virtual void Shutdown() {}
  // The TCP ports this component's listeners bound after Start (port 0 in a setting binds
  // any free port); empty for components without listeners.
  virtual std::vector<int> ListenerPorts() const { return {}; }
};

// A processor: consumes batches and passes them (changed, fewer, later) to `next`.
class Processor : public TracesConsumer, public Component {};

// An exporter: the end of a pipeline.
class Exporter : public TracesConsumer, public Component {};

// A receiver: takes data from outside and hands it to `next` (a fan-out when several
// pipelines share the receiver).
class Receiver : public Component {};

// An extension: runs beside the pipelines (health check, zpages, storage, ...).
class Extension : public Component {};

// The authenticators `ref` names (null without a reference), or FailedPrecondition naming
// the key when the extension is not running in that role.
absl::StatusOr<std::shared_ptr<const auth::ServerAuthenticator>> ServerAuthenticatorFor(
    const BuildContext& ctx, const std::optional<AuthenticatorRef>& ref);
absl::StatusOr<std::shared_ptr<const auth::ClientAuthenticator>> ClientAuthenticatorFor(
    const BuildContext& ctx, const std::optional<AuthenticatorRef>& ref);

class ComponentFactory {
 public:
  virtual ~ComponentFactory() = default;
  virtual ComponentKind kind() const = 0;
  virtual std::string_view type() const = 0;
  // Reads the settings, calling map.Fail()/Unsupported() for bad ones; the caller runs
  // map.Finish() afterwards to reject unknown keys. Returns null only after map.Fail().
  virtual std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const = 0;
  // Checks that need more than one key (limits that must be ordered, ...).
  virtual absl::Status Validate(const ComponentSettings& /*settings*/) const {
    return absl::OkStatus();
  }
};

class ProcessorFactory : public ComponentFactory {
 public:
  ComponentKind kind() const override { return ComponentKind::kProcessor; }
  virtual absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                            const BuildContext& ctx,
                                                            TracesConsumer& next) const = 0;
};

class ExporterFactory : public ComponentFactory {
 public:
  ComponentKind kind() const override { return ComponentKind::kExporter; }
  virtual absl::StatusOr<std::unique_ptr<Exporter>> Create(const ComponentSettings& settings,
                                                           const BuildContext& ctx) const = 0;
};

class ReceiverFactory : public ComponentFactory {
 public:
  ComponentKind kind() const override { return ComponentKind::kReceiver; }
  virtual absl::StatusOr<std::unique_ptr<Receiver>> Create(const ComponentSettings& settings,
                                                           const BuildContext& ctx,
                                                           TracesConsumer& next) const = 0;
};

class ExtensionFactory : public ComponentFactory {
 public:
  ComponentKind kind() const override { return ComponentKind::kExtension; }
  virtual absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& settings,
                                                            const BuildContext& ctx) const = 0;
};

}  // namespace strand::pipeline
