// Tenant IDs (X-Scope-OrgID), validated as Tempo does: at most 150 bytes of
// [0-9a-zA-Z!-_.*'()], and neither "." nor "..".
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace strand {

inline constexpr std::string_view kSingleTenant = "single-tenant";

absl::Status ValidateTenantId(std::string_view id);

}  // namespace strand
