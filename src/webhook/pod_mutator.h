// PodMutator: decides from a pod's (and its namespace's) annotations whether and how to
// inject OpenTelemetry auto-instrumentation, the way the OpenTelemetry Operator's webhook
// does (COMPAT.md section 5), and returns the change as an RFC 6902 JSON Patch.
//
// Annotations `instrumentation.opentelemetry.io/inject-{nodejs,python,java}` on the pod or
// its namespace: "true" (the one Instrumentation of the pod's namespace), "false", a
// resource name in the pod's namespace, or "ns/name". A pod value other than "true" wins
// over the namespace's. `instrumentation.opentelemetry.io/container-names` (or
// `<lang>-container-names`) picks the containers; default the first. For each language:
// an emptyDir volume and an init container copying the agent from the language image to
// /otel-auto-instrumentation-<lang>, mounted in the chosen containers, which get the
// language's variables (NODE_OPTIONS, PYTHONPATH, JAVA_TOOL_OPTIONS...) and the common
// SDK settings (OTEL_SERVICE_NAME from the owner, OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_PROPAGATORS, OTEL_TRACES_SAMPLER[_ARG], the
// Instrumentation's env). Variables the container already sets win. A language already
// injected (its init container is present) is left alone, so mutation is idempotent.
//
// Nothing here fails a pod: problems become warnings and the pod is left as it is.
// Thread-safe if the ClusterSource is.
#pragma once

#include <string>
#include <vector>

#include "webhook/cluster_source.h"

namespace strand::webhook {

struct Mutation {
  std::string patch;  // a JSON Patch array; empty when the pod is left unchanged
  std::vector<std::string> warnings;
};

class PodMutator {
 public:
  // `source` must outlive the mutator.
  explicit PodMutator(ClusterSource& source) : source_(source) {}

  // `pod_json` is the AdmissionReview's request.object; `ns` the request's namespace.
  Mutation Mutate(const std::string& pod_json, const std::string& ns) const;

 private:
  ClusterSource& source_;
};

}  // namespace strand::webhook
