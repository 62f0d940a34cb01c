// Htpasswd: user names and password hashes in Apache's htpasswd format, one `user:hash` a
// line; blank lines and lines starting with '#' are skipped; a later line for the same user
// replaces an earlier one. The hashes the OpenTelemetry Collector's basicauth reads and
// Strand checks:
//   - bcrypt `$2a$`, `$2b$`, `$2y$` (`htpasswd -B`), checked with libxcrypt's crypt_r;
//   - `{SHA}` + base64 of the SHA-1 digest (`htpasswd -s`);
//   - plain text (anything else; so a plain password may not start with `$` or `{`).
// Other schemes (`$apr1$` from `htpasswd -m`, `$1$`, `$5$`, `$6$`, `{SSHA}`, ...) are refused
// when the text is parsed, naming the line. Passwords and hashes are compared with
// SecretEquals. Immutable after Parse/Merge; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace strand::auth {

class Htpasswd {
 public:
  // InvalidArgument naming `where` (a file name, or a config key) and the line.
  static absl::StatusOr<Htpasswd> Parse(std::string_view text, std::string_view where);

  // Adds `other`'s users, replacing users of the same name (inline entries over the file's).
  void Merge(const Htpasswd& other);

  // Whether `password` is `user`'s. An unknown user is checked against a stand-in of the
  // costliest hash type present, so that its answer takes about as long as a known user's.
  bool Verify(std::string_view user, std::string_view password) const;

  size_t size() const { return users_.size(); }

 private:
  enum class Scheme { kBcrypt, kSha1, kPlain };
  struct Entry {
    Scheme scheme;
    std::string hash;
  };
  static absl::StatusOr<Entry> ParseHash(std::string_view hash);
  static bool Matches(const Entry& entry, std::string_view password);

  std::map<std::string, Entry, std::less<>> users_;
};

}  // namespace strand::auth
