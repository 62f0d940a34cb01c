#include "auth/basic_authenticator.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auth/text.h"

namespace strand::auth {
namespace {

constexpr size_t kMaxVerified = 1024;

// user and password from `Authorization: Basic <base64(user:password)>`.
absl::StatusOr<std::pair<std::string, std::string>> ParseBasic(std::string_view value) {
  if (value.empty()) return absl::UnauthenticatedError("missing Authorization header");
  constexpr std::string_view kPrefix = "Basic ";
  if (!StartsWithIgnoreCase(value, kPrefix)) {
    return absl::UnauthenticatedError("Authorization header: want the Basic scheme");
  }
  std::string decoded;
  value.remove_prefix(kPrefix.size());
  if (!absl::Base64Unescape(absl::string_view(value.data(), value.size()), &decoded)) {
    return absl::UnauthenticatedError("Authorization header: Basic credentials are not base64");
  }
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    return absl::UnauthenticatedError("Authorization header: Basic credentials lack a ':'");
  }
  return std::pair{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<BasicAuthenticator>> BasicAuthenticator::Create(
    BasicAuthSettings settings, const Clock& clock, std::chrono::nanoseconds check_interval) {
  std::unique_ptr<BasicAuthenticator> a(new BasicAuthenticator(std::move(settings)));
  auto inline_entries = Htpasswd::Parse(a->settings_.htpasswd_inline, "htpasswd::inline");
  if (!inline_entries.ok()) return inline_entries.status();
  if (a->settings_.htpasswd_file.empty()) {
    a->fixed_ = std::make_shared<const Htpasswd>(*std::move(inline_entries));
  } else {
    const std::string path = a->settings_.htpasswd_file;
    auto parse = [path,
                  extra = *inline_entries](std::string_view contents) -> absl::StatusOr<Htpasswd> {
      auto entries = Htpasswd::Parse(contents, path);
      if (entries.ok()) entries->Merge(extra);
      return entries;
    };
    auto file = ReloadingFile<Htpasswd>::Open(path, std::move(parse), clock, check_interval);
    if (!file.ok()) return file.status();
    a->file_ = std::move(*file);
  }
  a->salt_.resize(32);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(a->salt_.data()), 32) != 1) {
    return absl::InternalError("no random bytes for the credential cache");
  }
  return a;
}

std::shared_ptr<const Htpasswd> BasicAuthenticator::Entries() const {
  return file_ != nullptr ? file_->Get() : fixed_;
}

bool BasicAuthenticator::Verify(const std::string& user, const std::string& password) const {
  const std::shared_ptr<const Htpasswd> entries = Entries();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const std::string keyed = absl::StrCat(salt_, user, std::string(1, '\0'), password);
  SHA256(reinterpret_cast<const unsigned char*>(keyed.data()), keyed.size(), digest);
  const std::string key(reinterpret_cast<char*>(digest), sizeof(digest));
  {
    absl::MutexLock lock(&mu_);
    if (verified_for_ != entries) {
      verified_.clear();
      verified_for_ = entries;
    }
    if (verified_.contains(key)) return true;
  }
  if (!entries->Verify(user, password)) return false;
  absl::MutexLock lock(&mu_);
  if (verified_for_ == entries) {
    if (verified_.size() >= kMaxVerified) verified_.clear();
    verified_.insert(key);
  }
  return true;
}

absl::StatusOr<Identity> BasicAuthenticator::Authenticate(HeaderLookup headers) const {
  auto credentials = ParseBasic(headers("authorization"));
  if (!credentials.ok()) return credentials.status();
  auto& [user, password] = *credentials;
  if (!Verify(user, password)) {
    return absl::UnauthenticatedError("unknown user or wrong password");
  }
  auto tenant = settings_.tenants.find(user);
  return Identity{user, tenant == settings_.tenants.end() ? std::string() : tenant->second};
}

std::string BasicAuthenticator::Challenge() const {
  return "Basic realm=\"strand\", charset=\"UTF-8\"";
}

BasicClientAuthenticator::BasicClientAuthenticator(std::string_view username,
                                                   std::string_view password)
    : value_(absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(std::string(username), ":",
                                                                    std::string(password))))) {}

std::vector<std::pair<std::string, std::string>> BasicClientAuthenticator::Headers() const {
  return {{"Authorization", value_}};
}

}  // namespace strand::auth
