#include "pipeline/config/env_expand.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"

namespace strand::pipeline {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

absl::StatusOr<std::string> ExpandEnvRefs(std::string_view text, const EnvLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;  // a bare $VAR is not expanded
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", std::string(text), "\": \"${\" without a closing \"}\""));
    }
    std::string_view ref = text.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (size_t colon = ref.find(':'); colon != std::string_view::npos) {
      std::string_view scheme = ref.substr(0, colon);
      if (scheme != "env") {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"${", std::string(ref), "}\": not supported: the \"", std::string(scheme),
            "\" config provider (Strand expands ${env:VAR} and ${VAR})"));
      }
      ref.remove_prefix(colon + 1);
      if (size_t dflt = ref.find(":-"); dflt != std::string_view::npos) {
        fallback = std::string(ref.substr(dflt + 2));
        ref = ref.substr(0, dflt);
      }
    }
    if (!ValidName(ref)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"${", std::string(text.substr(i + 2, close - i - 2)),
          "}\": invalid environment variable name (letters, digits and '_', not starting "
          "with a digit)"));
    }
    std::optional<std::string> value = lookup(std::string(ref));
    if (value) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    }
    i = close;
  }
  return out;
}

namespace {

// `expanded` holds the scalars already expanded: a YAML alias (`*a`) shares its anchor's
// node, and expanding that node a second time would expand the result of the first
// (`$${X}` → `${X}` → X's value).
absl::Status ExpandTree(YAML::Node& node, const EnvLookup& lookup,
                        std::vector<YAML::Node>& expanded) {
  if (node.IsScalar()) {
    if (node.Scalar().find('$') == std::string::npos) return absl::OkStatus();
    for (const YAML::Node& done : expanded) {
      if (done.is(node)) return absl::OkStatus();
    }
    auto text = ExpandEnvRefs(node.Scalar(), lookup);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", node.Mark().line + 1, ": ", std::string(text.status().message())));
    }
    node = *text;
    expanded.push_back(node);
    return absl::OkStatus();
  }
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      YAML::Node child = node[i];
      if (auto s = ExpandTree(child, lookup, expanded); !s.ok()) return s;
    }
  } else if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      YAML::Node child = it->second;
      if (auto s = ExpandTree(child, lookup, expanded); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExpandEnvRefsInTree(YAML::Node& node, const EnvLookup& lookup) {
  std::vector<YAML::Node> expanded;
  return ExpandTree(node, lookup, expanded);
}

}  // namespace strand::pipeline
