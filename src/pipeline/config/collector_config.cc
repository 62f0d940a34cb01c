#include "pipeline/config/collector_config.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace strand::pipeline {
namespace {

// Types of the collector distributions that Strand does not build; naming them gives a
// clearer error than "unknown type".
const std::set<std::string, std::less<>> kKnownUnsupported = {
    "jaeger",
    "zipkin",
    "kafka",
    "prometheus",
    "hostmetrics",
    "filelog",
    "opencensus",
    "fluentforward",
    "k8s_cluster",
    "k8sattributes",
    "transform",
    "groupbytrace",
    "span",
    "routing",
    "spanmetrics",
    "servicegraph",
    "prometheusremotewrite",
    "logging",
    "file",
    "otlp_http",
    "headers_setter",
    "oauth2client",
    "pprof",
    "redaction",
    "cumulativetodelta",
    "groupbyattrs",
    "resourcedetection",
    "count",
};

const char* Singular(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kReceiver:
      return "receiver";
    case ComponentKind::kProcessor:
      return "processor";
    case ComponentKind::kExporter:
      return "exporter";
    case ComponentKind::kExtension:
      return "extension";
  }
  return "component";
}

absl::Status ParseSection(const YAML::Node& node, ComponentKind kind,
                          const ComponentRegistry& registry,
                          std::map<ComponentId, ComponentConfig>& out) {
  const std::string section(KindName(kind));
  if (!node || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return absl::InvalidArgumentError(section + ": must be a map");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    auto id = ComponentId::Parse(key);
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(section, "::", key, ": ", std::string(id.status().message())));
    }
    const ComponentFactory* factory = registry.Find(kind, id->type);
    if (factory == nullptr) {
      if (kKnownUnsupported.count(id->type) > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            section, "::", key, ": not supported: ", Singular(kind), " type \"", id->type,
            "\" (Strand builds: ", absl::StrJoin(registry.Types(kind), ", "), ")"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          section, "::", key, " (line ", kv.first.Mark().line + 1, "): unknown ", Singular(kind),
          " type \"", id->type, "\" (known: ", absl::StrJoin(registry.Types(kind), ", "), ")"));
    }
    ConfigMap map(kv.second, absl::StrCat(section, "::", key));
    std::unique_ptr<ComponentSettings> settings = factory->Parse(map);
    if (auto s = map.Finish(); !s.ok()) return s;
    if (settings == nullptr) {
      return absl::InternalError(absl::StrCat(section, "::", key, ": no settings"));
    }
    if (auto s = factory->Validate(*settings); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(section, "::", key, ": ", std::string(s.message())));
    }
    ComponentConfig cc{*id, factory, std::move(settings)};
    out.emplace(*id, std::move(cc));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ComponentId>> ParseIdList(const YAML::Node& node,
                                                     const std::string& where) {
  std::vector<ComponentId> ids;
  if (!node || node.IsNull()) return ids;
  if (!node.IsSequence()) return absl::InvalidArgumentError(where + ": must be a list");
  for (const auto& item : node) {
    if (!item.IsScalar()) return absl::InvalidArgumentError(where + ": must be a list of IDs");
    auto id = ComponentId::Parse(item.Scalar());
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", std::string(id.status().message())));
    }
    ids.push_back(*id);
  }
  return ids;
}

absl::Status CheckRefs(const CollectorConfig& c, const PipelineConfig& p, ComponentKind kind,
                       const std::vector<ComponentId>& ids) {
  const auto& section = c.Section(kind);
  std::set<ComponentId> seen;
  for (const auto& id : ids) {
    if (section.count(id) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("service::pipelines::", p.id, ": references ", Singular(kind), " \"",
                       id.ToString(), "\", which is not configured under ", KindName(kind)));
    }
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(absl::StrCat("service::pipelines::", p.id, ": ",
                                                     Singular(kind), " \"", id.ToString(),
                                                     "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

// Every authenticator a running receiver or exporter names must be a configured extension
// listed in service::extensions (the collector finds authenticators among the running
// extensions), and able to play its role.
absl::Status CheckPipelineAuthenticators(const CollectorConfig& c) {
  for (const auto& p : c.pipelines) {
    for (auto [kind, ids] : {std::pair{ComponentKind::kReceiver, &p.receivers},
                             std::pair{ComponentKind::kExporter, &p.exporters}}) {
      for (const ComponentId& id : *ids) {
        for (const AuthenticatorRef& ref : c.Section(kind).at(id).settings->authenticators) {
          RETURN_IF_ERROR(CheckAuthenticatorRef(c, ref));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParseTelemetry(const YAML::Node& node, TelemetryConfig& t) {
  ConfigMap map(node, "service::telemetry");
  ConfigMap metrics = map.Sub("metrics");
  std::string level = "basic";
  metrics.Read("level", level);
  metrics.Read("address", t.metrics_address);
  metrics.Unsupported("readers", "metric readers; set service::telemetry::metrics::address");
  if (level == "none") {
    t.metrics_address.clear();
  } else if (level != "basic" && level != "normal" && level != "detailed") {
    metrics.Fail("level", "must be none, basic, normal or detailed");
  }
  ConfigMap logs = map.Sub("logs");
  logs.Read("level", t.log_level);
  std::string encoding;
  logs.Read("encoding", encoding);
  if (!encoding.empty() && encoding != "console") {
    logs.Fail("encoding", "not supported: Strand logs in the console encoding");
  }
  for (const char* key : {"development", "disable_caller", "disable_stacktrace", "output_paths",
                          "error_output_paths", "initial_fields", "sampling", "processors"}) {
    logs.Unsupported(key);
  }
  map.Unsupported("traces", "the collector's own traces");
  map.Unsupported("resource", "telemetry resource attributes");
  if (auto s = metrics.Finish(); !s.ok()) return s;
  if (auto s = logs.Finish(); !s.ok()) return s;
  if (!t.log_level.empty()) {
    std::string& l = t.log_level;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    if (l != "debug" && l != "info" && l != "warn" && l != "error") {
      return absl::InvalidArgumentError(
          "service::telemetry::logs::level: must be debug, info, warn or error");
    }
  }
  return map.Finish();
}

absl::Status ParseService(const YAML::Node& node, bool pipelines_required, CollectorConfig& c) {
  if (!node || node.IsNull()) {
    if (!pipelines_required) return absl::OkStatus();
    return absl::InvalidArgumentError("service: missing; it must list at least one pipeline");
  }
  if (!node.IsMap()) return absl::InvalidArgumentError("service: must be a map");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (key == "extensions") {
      auto ids = ParseIdList(kv.second, "service::extensions");
      if (!ids.ok()) return ids.status();
      for (const auto& id : *ids) {
        if (c.extensions.count(id) == 0) {
          return absl::InvalidArgumentError(absl::StrCat("service::extensions: references \"",
                                                         id.ToString(),
                                                         "\", which is not configured under "
                                                         "extensions"));
        }
        if (std::count(c.service_extensions.begin(), c.service_extensions.end(), id) > 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("service::extensions: \"", id.ToString(), "\" is listed twice"));
        }
        c.service_extensions.push_back(id);
      }
    } else if (key == "telemetry") {
      if (auto s = ParseTelemetry(kv.second, c.telemetry); !s.ok()) return s;
    } else if (key == "pipelines") {
      if (!kv.second.IsMap() || kv.second.size() == 0) {
        return absl::InvalidArgumentError("service::pipelines: must list at least one pipeline");
      }
      for (const auto& p : kv.second) {
        PipelineConfig pc;
        pc.id = p.first.Scalar();
        auto pid = ComponentId::Parse(pc.id);
        if (!pid.ok()) {
          return absl::InvalidArgumentError(absl::StrCat("service::pipelines::", pc.id, ": ",
                                                         std::string(pid.status().message())));
        }
        if (pid->type == "metrics" || pid->type == "logs") {
          return absl::InvalidArgumentError(
              absl::StrCat("service::pipelines::", pc.id, ": not supported: ", pid->type,
                           " pipelines (Strand's pipelines carry traces)"));
        }
        if (pid->type != "traces") {
          return absl::InvalidArgumentError(absl::StrCat("service::pipelines::", pc.id,
                                                         ": unknown signal \"", pid->type,
                                                         "\" (a pipeline ID is traces[/name])"));
        }
        const std::string where = "service::pipelines::" + pc.id;
        ConfigMap pm(p.second, where);
        pm.Ignore("receivers");
        pm.Ignore("processors");
        pm.Ignore("exporters");
        if (auto s = pm.Finish(); !s.ok()) return s;
        for (auto [name, list] :
             {std::pair{"receivers", &pc.receivers}, std::pair{"processors", &pc.processors},
              std::pair{"exporters", &pc.exporters}}) {
          auto ids = ParseIdList(p.second[name], absl::StrCat(where, "::", name));
          if (!ids.ok()) return ids.status();
          *list = std::move(*ids);
        }
        if (pc.receivers.empty()) {
          return absl::InvalidArgumentError(where + ": must have at least one receiver");
        }
        if (pc.exporters.empty()) {
          return absl::InvalidArgumentError(where + ": must have at least one exporter");
        }
        c.pipelines.push_back(std::move(pc));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("service::", key, " (line ", kv.first.Mark().line + 1, "): unknown key"));
    }
  }
  if (c.pipelines.empty() && pipelines_required) {
    return absl::InvalidArgumentError("service::pipelines: must list at least one pipeline");
  }
  for (const auto& p : c.pipelines) {
    if (auto s = CheckRefs(c, p, ComponentKind::kReceiver, p.receivers); !s.ok()) return s;
    if (auto s = CheckRefs(c, p, ComponentKind::kProcessor, p.processors); !s.ok()) return s;
    if (auto s = CheckRefs(c, p, ComponentKind::kExporter, p.exporters); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

void ComponentRegistry::Add(std::unique_ptr<ComponentFactory> factory) {
  factories_.push_back(std::move(factory));
}

const ComponentFactory* ComponentRegistry::Find(ComponentKind kind, std::string_view type) const {
  for (const auto& f : factories_) {
    if (f->kind() == kind && f->type() == type) return f.get();
  }
  return nullptr;
}

std::vector<std::string> ComponentRegistry::Types(ComponentKind kind) const {
  std::vector<std::string> out;
  for (const auto& f : factories_) {
    if (f->kind() == kind) out.emplace_back(f->type());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::map<ComponentId, ComponentConfig>& CollectorConfig::Section(ComponentKind kind) const {
  switch (kind) {
    case ComponentKind::kReceiver:
      return receivers;
    case ComponentKind::kProcessor:
      return processors;
    case ComponentKind::kExporter:
      return exporters;
    case ComponentKind::kExtension:
      return extensions;
  }
  return receivers;
}

absl::Status CheckAuthenticatorRef(const CollectorConfig& c, const AuthenticatorRef& ref) {
  const std::string id = ref.id.ToString();
  auto it = c.extensions.find(ref.id);
  if (it == c.extensions.end()) {
    return absl::InvalidArgumentError(absl::StrCat(ref.key, ": references extension \"", id,
                                                   "\", which is not configured under extensions"));
  }
  if (std::find(c.service_extensions.begin(), c.service_extensions.end(), ref.id) ==
      c.service_extensions.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ref.key, ": extension \"", id, "\" must be listed in service::extensions"));
  }
  if (!it->second.settings->Authenticates(ref.role)) {
    return absl::InvalidArgumentError(absl::StrCat(
        ref.key, ": extension \"", id, "\" is not a ",
        ref.role == AuthRole::kServer ? "server" : "client", " authenticator",
        ref.role == AuthRole::kServer ? " (bearertokenauth, or basicauth with htpasswd)"
                                      : " (bearertokenauth, or basicauth with client_auth)"));
  }
  return absl::OkStatus();
}

bool IsCollectorSection(const std::string& key) {
  return key == "receivers" || key == "processors" || key == "exporters" || key == "extensions" ||
         key == "connectors" || key == "service";
}

absl::StatusOr<CollectorConfig> ParseCollectorConfig(const YAML::Node& root,
                                                     const ComponentRegistry& registry,
                                                     bool pipelines_required) {
  CollectorConfig c;
  if (auto s = ParseSection(root["receivers"], ComponentKind::kReceiver, registry, c.receivers);
      !s.ok()) {
    return s;
  }
  if (auto s = ParseSection(root["processors"], ComponentKind::kProcessor, registry, c.processors);
      !s.ok()) {
    return s;
  }
  if (auto s = ParseSection(root["exporters"], ComponentKind::kExporter, registry, c.exporters);
      !s.ok()) {
    return s;
  }
  if (auto s = ParseSection(root["extensions"], ComponentKind::kExtension, registry, c.extensions);
      !s.ok()) {
    return s;
  }
  if (const YAML::Node connectors = root["connectors"];
      connectors && !connectors.IsNull() && connectors.size() > 0) {
    return absl::InvalidArgumentError(
        "connectors: not supported: Strand pipelines do not use connectors yet");
  }
  if (auto s = ParseService(root["service"], pipelines_required, c); !s.ok()) return s;
  if (auto s = CheckPipelineAuthenticators(c); !s.ok()) return s;
  return c;
}

}  // namespace strand::pipeline
