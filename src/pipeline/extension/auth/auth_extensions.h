// Authenticator extensions (src/auth), with the OpenTelemetry Collector's settings:
// - `bearertokenauth`: `token`, `tokens` (any of several; the first is sent), or `filename`
//   (one token a line, read again when the file changes; it wins over `token`), `scheme`
//   (default "Bearer"), `header` (default "Authorization"). Server and client.
// - `basicauth`: `htpasswd: {file, inline}` (server; bcrypt, {SHA} or plain entries, the
//   file read again when it changes, inline entries winning) or `client_auth: {username,
//   password}` (client); not both.
// Strand's additions: bearertokenauth `tenant` binds its tokens to one tenant; basicauth
// `tenants` (user → tenant) binds users. A bound credential decides the tenant of the
// requests it authenticates (docs/security.md).
//
// Receivers and exporters name them with `auth: {authenticator: <id>}`; the configuration
// checks that the extension is listed in service::extensions (collector_config.h).
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

// A running authenticator extension. Thread-safe; the authenticators may outlive it.
class AuthExtension : public Extension {
 public:
  AuthExtension(std::shared_ptr<const auth::ServerAuthenticator> server,
                std::shared_ptr<const auth::ClientAuthenticator> client)
      : server_(std::move(server)), client_(std::move(client)) {}
  // Null when the extension does not play that role.
  std::shared_ptr<const auth::ServerAuthenticator> server() const { return server_; }
  std::shared_ptr<const auth::ClientAuthenticator> client() const { return client_; }

 private:
  std::shared_ptr<const auth::ServerAuthenticator> server_;
  std::shared_ptr<const auth::ClientAuthenticator> client_;
};

std::unique_ptr<ExtensionFactory> NewBearerTokenAuthFactory();
std::unique_ptr<ExtensionFactory> NewBasicAuthFactory();

}  // namespace strand::pipeline
