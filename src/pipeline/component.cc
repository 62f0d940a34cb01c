#include "pipeline/component.h"

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

}  // namespace strand::pipeline
