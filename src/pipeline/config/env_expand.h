// Environment references in collector configuration values, as the OpenTelemetry
// Collector expands them: `${env:VAR}` and `${VAR}` become VAR's value (empty when VAR
// is unset), `${env:VAR:-default}` uses `default` only when VAR is unset, `$$` is a
// literal `$`, and a bare `$VAR` stays as written. Other `${scheme:...}` providers (file,
// http, yaml) are InvalidArgument "not supported". Thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace strand::pipeline {

// Looks a variable up; nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment (getenv).
EnvLookup ProcessEnv();

absl::StatusOr<std::string> ExpandEnvRefs(std::string_view text, const EnvLookup& lookup);

// Expands every scalar value (not keys) of the tree in place. Errors name the line.
absl::Status ExpandEnvRefsInTree(YAML::Node& node, const EnvLookup& lookup);

}  // namespace strand::pipeline
