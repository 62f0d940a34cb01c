#include "webhook/webhook_server.h"

#include <utility>

#include "http/http_server.h"
#include "webhook/admission.h"

namespace strand::webhook {

namespace {

// One request: the admission review, the health check, or 404.
http::HttpResponse Handle(const http::HttpRequest& req, const PodMutator& mutator) {
  http::HttpResponse r;
  if (req.path == "/healthz") {
    r.body = "ok\n";
  } else if (req.path == "/mutate-v1-pod") {
    if (req.method != "POST") {
      r.status = 405;
      r.body = "POST an AdmissionReview\n";
    } else if (req.body_too_large) {
      r.status = 413;
      r.body = "the AdmissionReview is larger than the webhook reads\n";
    } else {
      AdmissionAnswer a = HandleAdmissionReview(req.body, mutator);
      r.status = a.status;
      r.body = std::move(a.body);
      if (a.status == 200) r.content_type = "application/json";
    }
  } else {
    r.status = 404;
    r.body = "not found: the webhook serves /mutate-v1-pod and /healthz\n";
  }
  return r;
}

}  // namespace

class WebhookServer::Impl {
 public:
  std::unique_ptr<http::HttpServer> server;
};

WebhookServer::WebhookServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebhookServer::~WebhookServer() { Stop(); }

absl::StatusOr<std::unique_ptr<WebhookServer>> WebhookServer::Start(WebhookServerOptions options,
                                                                    const PodMutator& mutator) {
  http::HttpServerOptions o;
  o.address = options.address;
  o.threads = options.threads;
  o.max_body_bytes = options.max_body_bytes;
  o.name = "webhook";
  o.tls.cert_file = options.cert_file;
  o.tls.key_file = options.key_file;
  if (absl::Status s = http::ValidateTlsSettings(o.tls, "webhook"); !s.ok()) return s;
  auto server = http::HttpServer::Start(
      std::move(o), [&mutator](http::HttpRequest&& req, http::Responder respond) {
        respond(Handle(req, mutator));
      });
  if (!server.ok()) return server.status();
  auto impl = std::make_unique<Impl>();
  impl->server = std::move(*server);
  return std::unique_ptr<WebhookServer>(new WebhookServer(std::move(impl)));
}

int WebhookServer::port() const { return impl_->server->port(); }

void WebhookServer::Stop() {
  if (impl_ && impl_->server) impl_->server->Stop();
}

}  // namespace strand::webhook
