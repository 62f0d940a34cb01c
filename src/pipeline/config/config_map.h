// ConfigMap: the strict reader of YAML settings: the collector configuration (otelcol
// format), Strand's `strand:` section (cli/config.cc) and the per-tenant overrides file.
//
// Each Read* marks its key as known; Finish() then reports any key nobody read as
// "unknown key". The first error wins and names the full path of the key and its line:
// `exporters::otlp/backend::retry_on_failure::max_interval (line 12): must be ...` with
// the collector's `::`, `strand.store.retention (line 3): ...` with the separator the
// strand: section passes. A missing or null key leaves the output as it was (the
// default). Not thread-safe; short-lived.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/duration.h"

namespace strand::pipeline {

class ConfigMap {
 public:
  // `node` may be null or empty (a component listed with no settings). `path` is the
  // prefix errors name (`processors::batch`; empty for a whole file), `separator` what
  // joins it to keys (and the keys of sub-maps).
  ConfigMap(YAML::Node node, std::string path, std::string separator = "::");

  bool Has(const std::string& key) const;
  const std::string& path() const { return path_; }
  // The path of `key` under this map, for error messages.
  std::string PathOf(const std::string& key) const;

  void Read(const std::string& key, std::string& out);
  void Read(const std::string& key, bool& out);
  void Read(const std::string& key, int64_t& out);
  void Read(const std::string& key, uint64_t& out);
  void Read(const std::string& key, int& out);
  void Read(const std::string& key, double& out);
  void Read(const std::string& key, std::vector<std::string>& out);
  void Read(const std::string& key, std::map<std::string, std::string>& out);
  // A duration ("5s", "1m30s", "200ms"; a bare 0 is zero) in the collector's syntax, or in
  // `syntax` (common/duration.h; the strand: section adds days).
  void ReadDuration(const std::string& key, int64_t& nanos);
  void ReadDuration(const std::string& key, int64_t& nanos, const DurationSyntax& syntax);
  // The raw node of `key` (null when absent), marked as read: for values whose type the
  // YAML decides (an attribute value may be a string, an integer, a float or a bool).
  YAML::Node ReadNode(const std::string& key);
  // A sub-map; its keys are checked when the returned map's Finish() runs (the parent's
  // Finish() does not look inside it).
  ConfigMap Sub(const std::string& key);
  // A list of maps (for example tail_sampling policies).
  std::vector<ConfigMap> SubList(const std::string& key);
  // A key otelcol knows but Strand does not implement: present → error "not supported".
  void Unsupported(const std::string& key, const std::string& why = "");
  // Marks a key as read without using it (accepted and ignored, documented as such).
  void Ignore(const std::string& key);

  // Records an error about `key` (the first error is kept).
  void Fail(const std::string& key, const std::string& message);
  // Records `status`, an error whose message already names its key, unless an error came
  // first; OK is ignored.
  void Record(const absl::Status& status);
  // Reports unknown keys; returns the first error of this map and its subs.
  absl::Status Finish();
  absl::Status status() const { return *error_; }

 private:
  ConfigMap(YAML::Node node, std::string path, std::string separator,
            std::shared_ptr<absl::Status> error);
  YAML::Node Get(const std::string& key);
  template <typename T>
  void ReadScalar(const std::string& key, T& out, const char* what);

  YAML::Node node_;
  std::string path_;
  std::string separator_;
  std::shared_ptr<absl::Status> error_;
  std::vector<std::string> read_;
};

}  // namespace strand::pipeline
