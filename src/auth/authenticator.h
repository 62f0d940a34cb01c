// The seams between credentials and the listeners and exporters that use them, as the
// OpenTelemetry Collector's configauth has them: a ServerAuthenticator checks an incoming
// request's headers (OTLP receivers, the Tempo API); a ClientAuthenticator adds headers to
// an outgoing request (OTLP exporters). Implementations: bearer_token_authenticator.h
// (`bearertokenauth`) and basic_authenticator.h (`basicauth`); the collector's extension
// factories (src/pipeline/extension/auth/auth_extensions.h) build them from configuration.
//
// Implementations are thread-safe: one instance serves every connection of every listener
// that names it, and may be shared (std::shared_ptr) beyond the extension that built it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace strand::auth {

// The first value of a request header (HTTP) or metadata entry (gRPC), by its lower-case
// name; empty when absent.
using HeaderLookup = absl::FunctionRef<std::string_view(std::string_view lower_name)>;

// Who a request authenticated as.
struct Identity {
  std::string subject;  // the user name (basicauth); empty for a bearer token
  // The tenant the credential is bound to (a Strand extension of the Collector's settings);
  // empty when the credential may act for any tenant. See request_tenant.h.
  std::string tenant;
};

class ServerAuthenticator {
 public:
  virtual ~ServerAuthenticator() = default;
  // The identity the request's credentials prove, or Unauthenticated with the reason (which
  // never repeats the credential). Called on listener threads; may be slow for bcrypt.
  virtual absl::StatusOr<Identity> Authenticate(HeaderLookup headers) const = 0;
  // The WWW-Authenticate value a 401 answer carries (`Basic realm="strand"`).
  virtual std::string Challenge() const = 0;
};

class ClientAuthenticator {
 public:
  virtual ~ClientAuthenticator() = default;
  // The header fields to add to one outgoing request (names as configured; gRPC sends them
  // lower-cased). Called for every request, so a credential read from a file is current.
  virtual std::vector<std::pair<std::string, std::string>> Headers() const = 0;
};

}  // namespace strand::auth
