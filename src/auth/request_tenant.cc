#include "auth/request_tenant.h"

#include "absl/strings/str_cat.h"
#include "common/tenant.h"

namespace strand::auth {

absl::StatusOr<std::string> RequestTenant(bool multitenancy, const Identity* identity,
                                          std::string_view org_id) {
  if (!multitenancy) return std::string(kSingleTenant);
  if (identity != nullptr && !identity->tenant.empty()) {
    if (!org_id.empty() && org_id != identity->tenant) {
      return absl::PermissionDeniedError(
          absl::StrCat("X-Scope-OrgID \"", std::string(org_id),
                       "\" is not the tenant this credential is bound to"));
    }
    return identity->tenant;
  }
  if (absl::Status s = ValidateTenantId(org_id); !s.ok()) return s;
  return std::string(org_id);
}

}  // namespace strand::auth
