// StaticClusterSource: a ClusterSource over objects held in memory, loaded from JSON (one
// object, or a List with `items`, as `kubectl get -o json` prints). Serves each object at
// its REST path and, for Instrumentation resources, the namespace's list. Used by
// `strand webhook --instrumentation-source file:DIR` and as the tests' fake.
//
// Thread-safe once loaded: Add and LoadDir before serving.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "webhook/cluster_source.h"

namespace strand::webhook {

class StaticClusterSource : public ClusterSource {
 public:
  // Adds the object(s) in `json`. InvalidArgument for JSON that is not a Kubernetes object
  // (needs apiVersion, kind, metadata.name) or a List of them.
  absl::Status Add(std::string_view json);
  // Adds every `*.json` file of `dir`.
  absl::Status LoadDir(const std::string& dir);

  absl::StatusOr<std::string> Get(const std::string& path) override;

  // The REST path of an object: `/api/v1/namespaces/ns` for core kinds,
  // `/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>` otherwise.
  static std::string ObjectPath(std::string_view api_version, std::string_view kind,
                                std::string_view ns, std::string_view name);

 private:
  std::map<std::string, std::string> objects_;             // path -> object JSON
  std::map<std::string, std::vector<std::string>> lists_;  // list path -> item JSONs
};

}  // namespace strand::webhook
