// `strand webhook` and `strand webhook-certs`: the Kubernetes roles of the binary.
//
//   strand webhook --listen 0.0.0.0:9443 --tls-cert F --tls-key F
//                  [--instrumentation-source kube|file:DIR]
// serves the instrumentation webhook (src/webhook/) until SIGTERM/SIGINT. `kube` reads
// namespaces, Instrumentations and owners from the API server with the pod's service
// account; `file:DIR` from the *.json objects in DIR (for tests and trials off-cluster).
//
//   strand webhook-certs --namespace NS --service SVC --secret NAME
//                        --webhook-configuration NAME [--days N]
// makes a self-signed certificate for SVC.NS.svc, stores it in the kubernetes.io/tls
// Secret NAME (an existing Secret is kept), and sets the caBundle of every webhook of the
// MutatingWebhookConfiguration to it. Idempotent; run by the manifests' Job.
//
// WebhookCommand registers both on the binary's CLI11 app and runs the one named.
// Holds the parsed values: it must outlive the parse and is neither copied nor moved.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace strand::cli {

class WebhookCommand {
 public:
  explicit WebhookCommand(CLI::App& app);
  WebhookCommand(const WebhookCommand&) = delete;
  WebhookCommand& operator=(const WebhookCommand&) = delete;

  // After parsing: whether `webhook` or `webhook-certs` was named.
  bool selected() const;
  // Runs it; returns the process exit status.
  int Run() const;

 private:
  int RunWebhook() const;
  int RunCerts() const;

  CLI::App* webhook_ = nullptr;
  CLI::App* certs_ = nullptr;
  std::string listen_ = "0.0.0.0:9443";
  std::string tls_cert_;
  std::string tls_key_;
  std::string source_ = "kube";
  std::string namespace_ = "strand";
  std::string service_ = "strand-webhook";
  std::string secret_ = "strand-webhook-tls";
  std::string webhook_configuration_ = "strand-webhook";
  int days_ = 3650;
};

}  // namespace strand::cli
