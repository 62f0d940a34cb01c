#include "pipeline/config/component.h"

#include "absl/strings/str_cat.h"

namespace strand::pipeline {

const char* KindName(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kReceiver:
      return "receivers";
    case ComponentKind::kProcessor:
      return "processors";
    case ComponentKind::kExporter:
      return "exporters";
    case ComponentKind::kExtension:
      return "extensions";
  }
  return "components";
}

absl::StatusOr<ComponentId> ComponentId::Parse(std::string_view view) {
  const std::string text(view);
  ComponentId id;
  const size_t slash = text.find('/');
  id.type = std::string(text.substr(0, slash));
  if (slash != std::string::npos) {
    id.name = std::string(text.substr(slash + 1));
    if (id.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("component ID \"", text, "\": the name after '/' is empty"));
    }
    for (char c : id.name) {
      if (c == '/' || c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20) {
        return absl::InvalidArgumentError(
            absl::StrCat("component ID \"", text, "\": a name may not contain '/' or white space"));
      }
    }
  }
  if (id.type.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("component ID \"", text, "\": the type is empty"));
  }
  for (char c : id.type) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return absl::InvalidArgumentError(
          absl::StrCat("component ID \"", text, "\": a type holds only letters, digits and '_'"));
    }
  }
  return id;
}

std::optional<AuthenticatorRef> ReadAuthenticator(ConfigMap& parent, AuthRole role) {
  if (!parent.Has("auth")) {
    parent.Ignore("auth");
    return std::nullopt;
  }
  ConfigMap auth = parent.Sub("auth");
  std::string text;
  auth.Read("authenticator", text);
  // Newer collectors' HTTP servers can also take credentials from query parameters.
  auth.Unsupported("request_params", "credentials in query parameters; send a header");
  (void)auth.Finish();
  if (text.empty()) {
    parent.Fail("auth", "authenticator must name an extension (auth: {authenticator: <id>})");
    return std::nullopt;
  }
  auto id = ComponentId::Parse(text);
  if (!id.ok()) {
    auth.Fail("authenticator", std::string(id.status().message()));
    return std::nullopt;
  }
  return AuthenticatorRef{auth.PathOf("authenticator"), *id, role};
}

namespace {

template <typename T>
absl::StatusOr<std::shared_ptr<const T>> AuthenticatorFor(
    const std::function<std::shared_ptr<const T>(const ComponentId&)>& find,
    const std::optional<AuthenticatorRef>& ref, const char* role) {
  if (!ref) return std::shared_ptr<const T>();
  std::shared_ptr<const T> found = find ? find(ref->id) : nullptr;
  if (found == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(ref->key, ": \"", ref->id.ToString(),
                                                      "\" is not a running ", role,
                                                      " authenticator extension"));
  }
  return found;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const auth::ServerAuthenticator>> ServerAuthenticatorFor(
    const BuildContext& ctx, const std::optional<AuthenticatorRef>& ref) {
  return AuthenticatorFor(ctx.find_server_authenticator, ref, "server");
}

absl::StatusOr<std::shared_ptr<const auth::ClientAuthenticator>> ClientAuthenticatorFor(
    const BuildContext& ctx, const std::optional<AuthenticatorRef>& ref) {
  return AuthenticatorFor(ctx.find_client_authenticator, ref, "client");
}

}  // namespace strand::pipeline
