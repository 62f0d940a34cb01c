// The `file_storage` extension: a directory where persistent sending queues keep their
// requests (persistent_queue.h), one sub-directory per exporter.
//
// Settings: `directory` (default /var/lib/otelcol/file_storage; it must exist unless
// `create_directory: true`), `fsync` (Strand's default is true: a queued request is on
// disk before it is acknowledged; false relaxes that to "survives a process crash").
// `timeout` and `compaction` tune the collector's key-value file and are accepted but
// have no effect: Strand deletes queue segments as soon as their requests are sent.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "pipeline/config/component.h"

namespace strand::pipeline {

class FileStorage : public Extension {
 public:
  FileStorage(std::string directory, bool fsync, bool create_directory, Env& env)
      : directory_(std::move(directory)),
        fsync_(fsync),
        create_directory_(create_directory),
        env_(env) {}
  absl::Status Start() override;
  const std::string& directory() const { return directory_; }
  bool fsync() const { return fsync_; }
  Env& env() { return env_; }

 private:
  std::string directory_;
  bool fsync_;
  bool create_directory_;
  Env& env_;
};

std::unique_ptr<ExtensionFactory> NewFileStorageFactory();

}  // namespace strand::pipeline
