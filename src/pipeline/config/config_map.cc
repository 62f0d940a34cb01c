#include "pipeline/config/config_map.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace strand::pipeline {

ConfigMap::ConfigMap(YAML::Node node, std::string path, std::string separator)
    : ConfigMap(std::move(node), std::move(path), std::move(separator),
                std::make_shared<absl::Status>()) {}

ConfigMap::ConfigMap(YAML::Node node, std::string path, std::string separator,
                     std::shared_ptr<absl::Status> error)
    : node_(std::move(node)),
      path_(std::move(path)),
      separator_(std::move(separator)),
      error_(std::move(error)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    Fail("", "must be a map");
    node_ = YAML::Node();
  }
}

std::string ConfigMap::PathOf(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : absl::StrCat(path_, separator_, key);
}

void ConfigMap::Fail(const std::string& key, const std::string& message) {
  if (!error_->ok()) return;
  std::string where = PathOf(key);
  YAML::Node n = key.empty() || !node_ || !node_.IsMap() ? node_ : node_[key];
  if (n && n.Mark().line >= 0) absl::StrAppend(&where, " (line ", n.Mark().line + 1, ")");
  *error_ = absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

void ConfigMap::Record(const absl::Status& status) {
  if (error_->ok()) *error_ = status;
}

bool ConfigMap::Has(const std::string& key) const {
  if (!node_ || !node_.IsMap()) return false;
  return static_cast<bool>(node_[key]);
}

YAML::Node ConfigMap::Get(const std::string& key) {
  read_.push_back(key);
  if (!node_ || !node_.IsMap()) return YAML::Node();
  YAML::Node n = node_[key];
  return n;
}

template <typename T>
void ConfigMap::ReadScalar(const std::string& key, T& out, const char* what) {
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  if (!n.IsScalar()) return Fail(key, absl::StrCat("must be ", what));
  const std::string& text = n.Scalar();
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>) {
    // absl's words (true, yes, y, t, 1 and their opposites) and YAML 1.1's on/off, in any
    // case: together every spelling yaml-cpp reads as a bool.
    ok = absl::SimpleAtob(text, &out);
    if (!ok && (absl::EqualsIgnoreCase(text, "on") || absl::EqualsIgnoreCase(text, "off"))) {
      out = absl::EqualsIgnoreCase(text, "on");
      ok = true;
    }
  } else if constexpr (std::is_same_v<T, double>) {
    ok = absl::SimpleAtod(text, &out);
  } else {
    // Decimal ("010" is ten, as in YAML 1.2), or hexadecimal after 0x.
    ok = absl::SimpleAtoi(text, &out) ||
         ((absl::StartsWith(text, "0x") || absl::StartsWith(text, "0X")) &&
          absl::SimpleHexAtoi(text, &out));
  }
  if (!ok) Fail(key, absl::StrCat("must be ", what, ", not \"", text, "\""));
}

void ConfigMap::Read(const std::string& key, std::string& out) {
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  if (!n.IsScalar()) return Fail(key, "must be a string");
  out = n.Scalar();
}
void ConfigMap::Read(const std::string& key, bool& out) { ReadScalar(key, out, "true or false"); }
void ConfigMap::Read(const std::string& key, int64_t& out) { ReadScalar(key, out, "an integer"); }
void ConfigMap::Read(const std::string& key, uint64_t& out) {
  ReadScalar(key, out, "a non-negative integer");
}
void ConfigMap::Read(const std::string& key, int& out) { ReadScalar(key, out, "an integer"); }
void ConfigMap::Read(const std::string& key, double& out) { ReadScalar(key, out, "a number"); }

void ConfigMap::Read(const std::string& key, std::vector<std::string>& out) {
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  if (!n.IsSequence()) return Fail(key, "must be a list");
  out.clear();
  for (const auto& item : n) {
    if (!item.IsScalar()) return Fail(key, "must be a list of strings");
    out.push_back(item.Scalar());
  }
}

void ConfigMap::Read(const std::string& key, std::map<std::string, std::string>& out) {
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  if (!n.IsMap()) return Fail(key, "must be a map of strings");
  out.clear();
  for (const auto& kv : n) {
    if (!kv.second.IsScalar()) return Fail(key, "must be a map of strings");
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
}

void ConfigMap::ReadDuration(const std::string& key, int64_t& nanos) {
  // absl's syntax, which the collector's settings have always been read with.
  ReadDuration(key, nanos, DurationSyntax{.sign = true, .saturate = true});
}

void ConfigMap::ReadDuration(const std::string& key, int64_t& nanos, const DurationSyntax& syntax) {
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return;
  if (!n.IsScalar()) return Fail(key, "must be a duration");
  auto parsed = ParseDuration(n.Scalar(), syntax);
  if (!parsed.ok()) return Fail(key, std::string(parsed.status().message()));
  nanos = *parsed;
}

YAML::Node ConfigMap::ReadNode(const std::string& key) { return Get(key); }

ConfigMap ConfigMap::Sub(const std::string& key) {
  YAML::Node n = Get(key);
  return ConfigMap(n && !n.IsNull() ? n : YAML::Node(), PathOf(key), separator_, error_);
}

std::vector<ConfigMap> ConfigMap::SubList(const std::string& key) {
  std::vector<ConfigMap> out;
  YAML::Node n = Get(key);
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) {
    Fail(key, "must be a list");
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    out.push_back(ConfigMap(n[i], absl::StrCat(PathOf(key), "[", i, "]"), separator_, error_));
  }
  return out;
}

void ConfigMap::Unsupported(const std::string& key, const std::string& why) {
  read_.push_back(key);
  if (Has(key)) {
    Fail(key, why.empty() ? "not supported by Strand" : absl::StrCat("not supported: ", why));
  }
}

void ConfigMap::Ignore(const std::string& key) { read_.push_back(key); }

absl::Status ConfigMap::Finish() {
  if (error_->ok() && node_ && node_.IsMap()) {
    for (const auto& kv : node_) {
      const std::string key = kv.first.Scalar();
      if (std::find(read_.begin(), read_.end(), key) == read_.end()) {
        std::string where = PathOf(key);
        absl::StrAppend(&where, " (line ", kv.first.Mark().line + 1, ")");
        *error_ = absl::InvalidArgumentError(absl::StrCat(where, ": unknown key"));
        break;
      }
    }
  }
  return *error_;
}

}  // namespace strand::pipeline
