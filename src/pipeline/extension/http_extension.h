// What the health_check and zpages extensions share: a few pages served on the
// extension's own HTTP listener (`endpoint`, optional server `tls`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "http/http_server.h"
#include "pipeline/config/component.h"

namespace strand::pipeline {

struct HttpExtensionSettings : ComponentSettings {
  std::string endpoint;
  std::string path = "/";
  http::TlsSettings tls;  // off unless cert_file and key_file are set
};

// An extension that serves a few pages on its own listener.
// Thread-safe: Start and Shutdown are called by the collector, one at a time.
class HttpExtension : public Extension {
 public:
  HttpExtension(std::string id, const HttpExtensionSettings& settings, http::HttpHandler handler)
      : id_(std::move(id)),
        endpoint_(settings.endpoint),
        tls_(settings.tls),
        handler_(std::move(handler)) {}
  absl::Status Start() override;
  void Shutdown() override {
    if (server_) server_->Stop();
  }
  std::vector<int> ListenerPorts() const override {
    if (!server_) return {};
    return {server_->port()};
  }

 private:
  std::string id_;
  std::string endpoint_;
  http::TlsSettings tls_;
  http::HttpHandler handler_;
  std::unique_ptr<http::HttpServer> server_;
};

// `t` as RFC 3339 in UTC, as the extensions' pages show times.
std::string Rfc3339(absl::Time t);

}  // namespace strand::pipeline
