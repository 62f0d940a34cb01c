#include "auth/htpasswd.h"

#include <crypt.h>
#include <openssl/sha.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auth/secret_compare.h"
#include "auth/text.h"

namespace strand::auth {
namespace {

// bcrypt: `$2y$` + two-digit cost + `$` + 53 characters of salt and digest.
constexpr size_t kBcryptLength = 60;

// What to say about a hash scheme Strand does not check.
std::string UnsupportedScheme(std::string_view hash) {
  const size_t end = hash.find(hash.front() == '$' ? '$' : '}', 1);
  const std::string scheme = end == std::string_view::npos
                                 ? absl::StrCat(std::string(hash.substr(0, 1)), "...")
                                 : std::string(hash.substr(0, end + 1));
  const std::string what = scheme == "$apr1$" ? " (Apache MD5, htpasswd -m)" : "";
  return absl::StrCat("not supported: ", scheme, what,
                      " password hashes; use bcrypt (htpasswd -B), {SHA} or plain text");
}

}  // namespace

absl::StatusOr<Htpasswd::Entry> Htpasswd::ParseHash(std::string_view hash) {
  if (hash.empty()) return absl::InvalidArgumentError("empty password hash");
  if (hash.front() == '$') {
    for (std::string_view prefix : {"$2a$", "$2b$", "$2y$"}) {
      if (hash.substr(0, 4) != prefix) continue;
      if (hash.size() != kBcryptLength || hash[6] != '$' ||
          !absl::ascii_isdigit(static_cast<unsigned char>(hash[4])) ||
          !absl::ascii_isdigit(static_cast<unsigned char>(hash[5]))) {
        return absl::InvalidArgumentError("malformed bcrypt hash");
      }
      return Entry{Scheme::kBcrypt, std::string(hash)};
    }
    return absl::InvalidArgumentError(UnsupportedScheme(hash));
  }
  if (hash.front() == '{') {
    if (hash.substr(0, 5) != "{SHA}") return absl::InvalidArgumentError(UnsupportedScheme(hash));
    std::string digest;
    if (!absl::Base64Unescape(absl::string_view(hash.data() + 5, hash.size() - 5), &digest) ||
        digest.size() != SHA_DIGEST_LENGTH) {
      return absl::InvalidArgumentError("malformed {SHA} hash: want base64 of 20 bytes");
    }
    return Entry{Scheme::kSha1, std::string(hash)};
  }
  return Entry{Scheme::kPlain, std::string(hash)};
}

absl::StatusOr<Htpasswd> Htpasswd::Parse(std::string_view text, std::string_view where) {
  Htpasswd out;
  int line_number = 0;
  for (std::string_view line : TrimmedLines(text)) {
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(where), " line ", line_number, ": ", std::string(why)));
    };
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail("want user:hash");
    }
    const std::string_view user = line.substr(0, colon);
    auto entry = ParseHash(line.substr(colon + 1));
    if (!entry.ok()) {
      return fail(absl::StrCat("user \"", std::string(user), "\": ", entry.status().message()));
    }
    out.users_.insert_or_assign(std::string(user), *std::move(entry));
  }
  return out;
}

void Htpasswd::Merge(const Htpasswd& other) {
  for (const auto& [user, entry] : other.users_) users_.insert_or_assign(user, entry);
}

bool Htpasswd::Matches(const Entry& entry, std::string_view password) {
  switch (entry.scheme) {
    case Scheme::kBcrypt: {
      // crypt_data is large (tens of KiB): on the heap, zeroed as crypt_r requires.
      auto data = std::make_unique<crypt_data>();
      const std::string key(password);
      const char* out = crypt_r(key.c_str(), entry.hash.c_str(), data.get());
      // On failure crypt_r returns a string starting with '*', which never equals the hash.
      return out != nullptr && SecretEquals(out, entry.hash);
    }
    case Scheme::kSha1: {
      unsigned char digest[SHA_DIGEST_LENGTH];
      SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
      const std::string encoded = absl::StrCat(
          "{SHA}",
          absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(digest), sizeof(digest))));
      return SecretEquals(encoded, entry.hash);
    }
    case Scheme::kPlain:
      return SecretEquals(password, entry.hash);
  }
  return false;
}

bool Htpasswd::Verify(std::string_view user, std::string_view password) const {
  auto it = users_.find(user);
  if (it != users_.end()) return Matches(it->second, password);
  // A stand-in of the costliest scheme present, so unknown users cost as much as known ones.
  const Entry* stand_in = nullptr;
  for (const auto& [name, entry] : users_) {
    stand_in = &entry;
    if (entry.scheme == Scheme::kBcrypt) break;
  }
  if (stand_in != nullptr) (void)Matches(*stand_in, password);
  return false;
}

}  // namespace strand::auth
