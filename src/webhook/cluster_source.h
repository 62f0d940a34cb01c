// ClusterSource: where the webhook reads Kubernetes objects it does not receive in the
// AdmissionReview (the pod's namespace, Instrumentation resources, the pod's owners).
// The seam tests fake: KubeApiClient reads the API server with the pod's service
// account; StaticClusterSource serves objects loaded from JSON files.
//
// Implementations are thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace strand::webhook {

class ClusterSource {
 public:
  virtual ~ClusterSource() = default;
  // The JSON of the object or list at a Kubernetes REST path, e.g.
  // `/api/v1/namespaces/shop` or
  // `/apis/opentelemetry.io/v1alpha1/namespaces/shop/instrumentations`. NotFound when there is no
  // such object; Unavailable when the source cannot be reached.
  virtual absl::StatusOr<std::string> Get(const std::string& path) = 0;
};

}  // namespace strand::webhook
