#include "auth/bearer_token_authenticator.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auth/secret_compare.h"
#include "auth/text.h"

namespace strand::auth {
namespace {

absl::StatusOr<std::vector<std::string>> ParseTokenFile(std::string_view contents) {
  std::vector<std::string> tokens;
  for (std::string_view line : TrimmedLines(contents)) {
    if (!line.empty()) tokens.emplace_back(line);
  }
  return tokens;
}

}  // namespace

BearerTokenAuthenticator::BearerTokenAuthenticator(BearerTokenSettings settings)
    : settings_(std::move(settings)), lower_header_(absl::AsciiStrToLower(settings_.header)) {}

absl::StatusOr<std::unique_ptr<BearerTokenAuthenticator>> BearerTokenAuthenticator::Create(
    BearerTokenSettings settings, const Clock& clock, std::chrono::nanoseconds check_interval) {
  std::unique_ptr<BearerTokenAuthenticator> a(new BearerTokenAuthenticator(std::move(settings)));
  if (a->settings_.filename.empty()) {
    a->fixed_ = std::make_shared<const Tokens>(a->settings_.tokens);
    return a;
  }
  auto file =
      ReloadingFile<Tokens>::Open(a->settings_.filename, ParseTokenFile, clock, check_interval);
  if (!file.ok()) return file.status();
  a->file_ = std::move(*file);
  return a;
}

std::shared_ptr<const BearerTokenAuthenticator::Tokens> BearerTokenAuthenticator::CurrentTokens()
    const {
  return file_ != nullptr ? file_->Get() : fixed_;
}

absl::StatusOr<Identity> BearerTokenAuthenticator::Authenticate(HeaderLookup headers) const {
  std::string_view value = headers(lower_header_);
  if (value.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing ", settings_.header, " header"));
  }
  if (!settings_.scheme.empty()) {
    const std::string prefix = settings_.scheme + " ";
    if (!StartsWithIgnoreCase(value, prefix)) {
      return absl::UnauthenticatedError(
          absl::StrCat(settings_.header, " header: want the ", settings_.scheme, " scheme"));
    }
    value.remove_prefix(prefix.size());
  }
  // Every token is compared, so the time taken does not tell which one matched.
  bool match = false;
  for (const std::string& token : *CurrentTokens()) match |= SecretEquals(value, token);
  if (!match) return absl::UnauthenticatedError("invalid bearer token");
  return Identity{"", settings_.tenant};
}

std::string BearerTokenAuthenticator::Challenge() const {
  return absl::StrCat(settings_.scheme.empty() ? "Bearer" : settings_.scheme, " realm=\"strand\"");
}

std::vector<std::pair<std::string, std::string>> BearerTokenAuthenticator::Headers() const {
  auto tokens = CurrentTokens();
  const std::string token = tokens->empty() ? std::string() : tokens->front();
  return {{settings_.header,
           settings_.scheme.empty() ? token : absl::StrCat(settings_.scheme, " ", token)}};
}

}  // namespace strand::auth
