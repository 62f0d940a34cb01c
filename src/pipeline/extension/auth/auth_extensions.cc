#include "pipeline/extension/auth/auth_extensions.h"

#include "absl/strings/str_cat.h"
#include "auth/basic_authenticator.h"
#include "auth/bearer_token_authenticator.h"
#include "auth/htpasswd.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tenant.h"

namespace strand::pipeline {
namespace {

// Checks a tenant ID a credential is bound to, naming the key.
absl::Status CheckTenant(const std::string& key, const std::string& tenant) {
  if (absl::Status s = ValidateTenantId(tenant); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", std::string(s.message())));
  }
  return absl::OkStatus();
}

struct BearerSettings : ComponentSettings {
  auth::BearerTokenSettings bearer;
  bool token_and_file = false;  // `token` given too: ignored, as the collector does
  bool Authenticates(AuthRole) const override { return true; }
};

class BearerTokenAuthFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "bearertokenauth"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<BearerSettings>();
    auth::BearerTokenSettings& b = s->bearer;
    map.Read("header", b.header);
    map.Read("scheme", b.scheme);
    std::string token;
    map.Read("token", token);
    map.Read("tokens", b.tokens);
    map.Read("filename", b.filename);
    map.Read("tenant", b.tenant);
    if (!token.empty() && !b.tokens.empty()) {
      map.Fail("tokens", "either tokens or token should be provided, not both");
    }
    if (!token.empty()) b.tokens = {token};
    s->token_and_file = !b.tokens.empty() && !b.filename.empty();
    return s;
  }
  absl::Status Validate(const ComponentSettings& settings) const override {
    const auto& b = static_cast<const BearerSettings&>(settings).bearer;
    if (b.tokens.empty() && b.filename.empty()) {
      return absl::InvalidArgumentError("no bearer token provided: set token, tokens or filename");
    }
    if (b.header.empty()) return absl::InvalidArgumentError("header must not be empty");
    return b.tenant.empty() ? absl::OkStatus() : CheckTenant("tenant", b.tenant);
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx) const override {
    const auto& s = static_cast<const BearerSettings&>(settings);
    if (s.token_and_file) {
      LOG_WARN("{}: a filename is set, so the configured token(s) are ignored", ctx.id.ToString());
    }
    auto a = auth::BearerTokenAuthenticator::Create(s.bearer, *ctx.clock);
    if (!a.ok()) return a.status();
    std::shared_ptr<const auth::BearerTokenAuthenticator> shared = std::move(*a);
    return std::make_unique<AuthExtension>(shared, shared);
  }
};

struct BasicSettings : ComponentSettings {
  bool server = false;  // htpasswd
  bool client = false;  // client_auth
  auth::BasicAuthSettings htpasswd;
  std::string username;
  std::string password;
  bool Authenticates(AuthRole role) const override {
    return role == AuthRole::kServer ? server : client;
  }
};

class BasicAuthFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "basicauth"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<BasicSettings>();
    s->server = map.Has("htpasswd");
    s->client = map.Has("client_auth");
    ConfigMap h = map.Sub("htpasswd");
    h.Read("file", s->htpasswd.htpasswd_file);
    h.Read("inline", s->htpasswd.htpasswd_inline);
    (void)h.Finish();
    ConfigMap c = map.Sub("client_auth");
    c.Read("username", s->username);
    c.Read("password", s->password);
    for (const char* key : {"username_file", "password_file", "aws_secrets_manager"}) {
      c.Unsupported(key,
                    "client credentials from elsewhere; use ${env:VAR} in username "
                    "and password");
    }
    (void)c.Finish();
    map.Read("tenants", s->htpasswd.tenants);
    return s;
  }
  absl::Status Validate(const ComponentSettings& settings) const override {
    const auto& s = static_cast<const BasicSettings&>(settings);
    if (s.server && s.client) {
      return absl::InvalidArgumentError("only one of htpasswd or client_auth can be specified");
    }
    if (!s.server && !s.client) {
      return absl::InvalidArgumentError(
          "no credential source provided: set htpasswd (to check requests) or client_auth "
          "(to send credentials)");
    }
    if (s.client) {
      if (s.username.find(':') != std::string::npos) {
        return absl::InvalidArgumentError("client_auth::username must not contain ':'");
      }
      return s.htpasswd.tenants.empty()
                 ? absl::OkStatus()
                 : absl::InvalidArgumentError("tenants binds htpasswd users; it needs htpasswd");
    }
    if (s.htpasswd.htpasswd_file.empty() && s.htpasswd.htpasswd_inline.empty()) {
      return absl::InvalidArgumentError("htpasswd: set file or inline");
    }
    for (const auto& [user, tenant] : s.htpasswd.tenants) {
      RETURN_IF_ERROR(CheckTenant(absl::StrCat("tenants::", user), tenant));
    }
    // Inline entries are checked now, so an unsupported hash stops the configuration.
    return auth::Htpasswd::Parse(s.htpasswd.htpasswd_inline, "htpasswd::inline").status();
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx) const override {
    const auto& s = static_cast<const BasicSettings&>(settings);
    if (s.client) {
      return std::make_unique<AuthExtension>(
          nullptr, std::make_shared<auth::BasicClientAuthenticator>(s.username, s.password));
    }
    auto a = auth::BasicAuthenticator::Create(s.htpasswd, *ctx.clock);
    if (!a.ok()) return a.status();
    return std::make_unique<AuthExtension>(std::move(*a), nullptr);
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewBearerTokenAuthFactory() {
  return std::make_unique<BearerTokenAuthFactory>();
}
std::unique_ptr<ExtensionFactory> NewBasicAuthFactory() {
  return std::make_unique<BasicAuthFactory>();
}

}  // namespace strand::pipeline
