// The `basicauth` extension's two sides (HTTP Basic authentication, RFC 7617), with the
// OpenTelemetry Collector's settings:
//   - BasicAuthenticator (server, `htpasswd: {file, inline}`): a request must carry
//     `Authorization: Basic base64(user:password)` for a user of the htpasswd entries
//     (htpasswd.h). Inline entries replace the file's for the same user. The file is read
//     again when it changes. `tenants` (Strand only) binds users to tenants.
//   - BasicClientAuthenticator (`client_auth: {username, password}`): adds that header.
//
// A bcrypt check costs milliseconds of CPU, so credentials that passed are remembered
// (salted SHA-256 of user and password, at most 1024, forgotten when the entries change):
// an exporter sending every few milliseconds pays for bcrypt once.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"
#include "auth/htpasswd.h"
#include "auth/reloading_file.h"
#include "common/clock.h"

namespace strand::auth {

struct BasicAuthSettings {
  std::string htpasswd_file;
  std::string htpasswd_inline;
  std::map<std::string, std::string> tenants;  // user → the tenant its requests act for
};

class BasicAuthenticator : public ServerAuthenticator {
 public:
  // Reads and parses the entries now: InvalidArgument naming the file or
  // `htpasswd::inline` and the line (an unsupported hash scheme, a malformed line).
  static absl::StatusOr<std::unique_ptr<BasicAuthenticator>> Create(
      BasicAuthSettings settings, const Clock& clock,
      std::chrono::nanoseconds check_interval = std::chrono::seconds(1));

  absl::StatusOr<Identity> Authenticate(HeaderLookup headers) const override;
  std::string Challenge() const override;

 private:
  explicit BasicAuthenticator(BasicAuthSettings settings) : settings_(std::move(settings)) {}
  std::shared_ptr<const Htpasswd> Entries() const;
  bool Verify(const std::string& user, const std::string& password) const;

  const BasicAuthSettings settings_;
  std::shared_ptr<const Htpasswd> fixed_;          // inline entries only
  std::unique_ptr<ReloadingFile<Htpasswd>> file_;  // the file's, merged with the inline ones
  std::string salt_;                               // random, for the remembered credentials
  mutable absl::Mutex mu_;
  // The entries `verified_` was checked against (held, so that its address is not reused).
  mutable std::shared_ptr<const Htpasswd> verified_for_ ABSL_GUARDED_BY(mu_);
  mutable absl::flat_hash_set<std::string> verified_ ABSL_GUARDED_BY(mu_);
};

class BasicClientAuthenticator : public ClientAuthenticator {
 public:
  // `username` must not contain ':' (the settings check it).
  BasicClientAuthenticator(std::string_view username, std::string_view password);
  std::vector<std::pair<std::string, std::string>> Headers() const override;

 private:
  std::string value_;  // "Basic <base64>"
};

}  // namespace strand::auth
