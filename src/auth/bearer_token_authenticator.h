// BearerTokenAuthenticator: the `bearertokenauth` extension's two sides, with the
// OpenTelemetry Collector's settings:
//   - server: a request must carry `<header>: <scheme> <token>` (default `Authorization:
//     Bearer <token>`; the scheme compared without regard to case) with one of the tokens;
//   - client: adds that header with the first token to every outgoing request.
// The tokens come from `token` / `tokens`, or from `filename` (one token a line, blank lines
// skipped), which is read again when it changes (reloading_file.h). `tenant` (Strand only)
// binds every token to one tenant (request_tenant.h).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "auth/reloading_file.h"
#include "common/clock.h"

namespace strand::auth {

struct BearerTokenSettings {
  std::string header = "Authorization";
  std::string scheme = "Bearer";  // may be empty: the header holds the token alone
  std::vector<std::string> tokens;
  std::string filename;  // when set, the tokens are the file's lines
  std::string tenant;    // when set, the tenant every token is bound to
};

class BearerTokenAuthenticator : public ServerAuthenticator, public ClientAuthenticator {
 public:
  // Reads `filename` now (InvalidArgument when it cannot be read). `clock` must outlive
  // the authenticator; the file is looked at at most once per `check_interval`.
  static absl::StatusOr<std::unique_ptr<BearerTokenAuthenticator>> Create(
      BearerTokenSettings settings, const Clock& clock,
      std::chrono::nanoseconds check_interval = std::chrono::seconds(1));

  absl::StatusOr<Identity> Authenticate(HeaderLookup headers) const override;
  std::string Challenge() const override;
  std::vector<std::pair<std::string, std::string>> Headers() const override;

 private:
  using Tokens = std::vector<std::string>;
  explicit BearerTokenAuthenticator(BearerTokenSettings settings);
  std::shared_ptr<const Tokens> CurrentTokens() const;

  const BearerTokenSettings settings_;
  const std::string lower_header_;
  std::shared_ptr<const Tokens> fixed_;          // without a file
  std::unique_ptr<ReloadingFile<Tokens>> file_;  // with one
};

}  // namespace strand::auth
