#include "pipeline/extension/file_storage/file_storage.h"

#include "absl/strings/str_cat.h"
#include "common/env.h"

namespace strand::pipeline {

absl::Status FileStorage::Start() {
  if (create_directory_) return env_.CreateDirs(directory_);
  auto children = env_.GetChildren(directory_);
  if (!children.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("file_storage directory ", directory_,
                     " is not usable (create it, or set create_directory: true): ",
                     std::string(children.status().message())));
  }
  return absl::OkStatus();
}

namespace {

struct FileStorageSettings : ComponentSettings {
  std::string directory = "/var/lib/otelcol/file_storage";
  bool fsync = true;
  bool create_directory = false;
};

class FileStorageFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "file_storage"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<FileStorageSettings>();
    map.Read("directory", s->directory);
    map.Read("fsync", s->fsync);
    map.Read("create_directory", s->create_directory);
    map.Ignore("timeout");
    map.Ignore("compaction");
    map.Ignore("directory_permissions");
    return s;
  }
  absl::Status Validate(const ComponentSettings& settings) const override {
    if (static_cast<const FileStorageSettings&>(settings).directory.empty()) {
      return absl::InvalidArgumentError("directory must be set");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx) const override {
    const auto& s = static_cast<const FileStorageSettings&>(settings);
    return std::make_unique<FileStorage>(s.directory, s.fsync, s.create_directory, *ctx.env);
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewFileStorageFactory() {
  return std::make_unique<FileStorageFactory>();
}

}  // namespace strand::pipeline
