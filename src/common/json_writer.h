// Minimal helpers for writing JSON by hand on response paths.
#pragma once

#include <string>
#include <string_view>

namespace strand {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes and control bytes.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);

}  // namespace strand
