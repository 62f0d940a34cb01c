// WebhookServer: HTTPS for `strand webhook`, on the shared http::HttpServer (its TLS, its
// limits on connections and slow clients). Serves POST /mutate-v1-pod
// (HandleAdmissionReview; 413 over max_body_bytes) and GET /healthz; 404 otherwise. The
// certificate and key are PEM files read at start and again when they change
// (cert-manager renews them in place; http::TlsContextSource).
//
// Thread-safe: Start/Stop from one thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "webhook/pod_mutator.h"

namespace strand::webhook {

struct WebhookServerOptions {
  std::string address = "0.0.0.0:9443";  // port 0 picks a free port
  std::string cert_file;
  std::string key_file;
  int threads = 2;
  size_t max_body_bytes = 8 << 20;
};

class WebhookServer {
 public:
  // `mutator` must outlive the server. InvalidArgument for unreadable PEM files.
  static absl::StatusOr<std::unique_ptr<WebhookServer>> Start(WebhookServerOptions options,
                                                              const PodMutator& mutator);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  int port() const;
  void Stop();

  class Impl;

 private:
  explicit WebhookServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strand::webhook
