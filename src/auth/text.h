// Small text helpers for credentials, on std::string_view (Debian's Abseil has its own
// string_view, so absl's string functions do not take ours).
#pragma once

#include <cctype>
#include <string_view>
#include <vector>

namespace strand::auth {

// The lines of a credentials file (token file, htpasswd), each without its surrounding ASCII
// white space (so "\r\n" line ends work). Empty lines are kept: index + 1 is the line number.
inline std::vector<std::string_view> TrimmedLines(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  std::vector<std::string_view> lines;
  while (true) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    while (!line.empty() && space(line.front())) line.remove_prefix(1);
    while (!line.empty() && space(line.back())) line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) return lines;
    text.remove_prefix(end + 1);
  }
}

// Whether `text` starts with `prefix`, ignoring ASCII case (auth schemes: "Bearer", "Basic").
inline bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace strand::auth
