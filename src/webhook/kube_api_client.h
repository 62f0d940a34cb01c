// KubeApiClient: a ClusterSource (and a small REST client) over the Kubernetes API server,
// authenticated as the pod's service account: KUBERNETES_SERVICE_HOST/PORT, the token
// and CA under /var/run/secrets/kubernetes.io/serviceaccount (the token is re-read on
// every call, as it rotates). libcurl; one handle per call.
//
// Thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "webhook/cluster_source.h"

namespace strand::webhook {

struct KubeApiOptions {
  std::string server;  // https://host:port
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  long timeout_ms = 3000;
};

class KubeApiClient : public ClusterSource {
 public:
  // Options from the in-cluster environment; FailedPrecondition outside a pod.
  static absl::StatusOr<KubeApiOptions> InClusterOptions();
  explicit KubeApiClient(KubeApiOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::string> Get(const std::string& path) override;
  // Any call: the response body for 2xx; NotFound for 404, AlreadyExists for 409,
  // PermissionDenied for 401/403, Unavailable for transport errors, Internal otherwise.
  absl::StatusOr<std::string> Request(const std::string& method, const std::string& path,
                                      const std::string& body = "",
                                      const std::string& content_type = "application/json");

 private:
  KubeApiOptions options_;
};

}  // namespace strand::webhook
