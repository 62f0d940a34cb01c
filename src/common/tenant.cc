#include "common/tenant.h"

#include "absl/strings/str_cat.h"

namespace strand {

absl::Status ValidateTenantId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("no org id");
  if (id.size() > 150) {
    return absl::InvalidArgumentError(
        absl::StrCat("tenant ID is ", id.size(), " bytes; at most 150 allowed"));
  }
  if (id == "." || id == "..") {
    return absl::InvalidArgumentError("tenant ID must not be \".\" or \"..\"");
  }
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '!' || c == '-' || c == '_' || c == '.' || c == '*' || c == '\'' ||
              c == '(' || c == ')';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("tenant ID contains an unsupported character '", std::string(1, c), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace strand
