// RequestTenant: the tenant a request acts for, from multi-tenancy, the X-Scope-OrgID
// header and the tenant its credential is bound to. One rule for the OTLP receivers and the
// Tempo API, so that a tenant-bound credential cannot write or read another tenant's data.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auth/authenticator.h"

namespace strand::auth {

inline constexpr std::string_view kOrgIdHeader = "x-scope-orgid";

// Without multi-tenancy: kSingleTenant, whatever the header says (as without credentials).
// With it: the tenant `identity` is bound to when it is (null: no authentication), and then
// PermissionDenied when `org_id` names another tenant; otherwise `org_id`, validated
// (InvalidArgument "no org id" when it is empty).
absl::StatusOr<std::string> RequestTenant(bool multitenancy, const Identity* identity,
                                          std::string_view org_id);

}  // namespace strand::auth
