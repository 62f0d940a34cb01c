// ReloadingFile<T>: a value parsed from a file and parsed again after the file changes, for
// credentials that are rotated in place (a bearer token file, an htpasswd file; Kubernetes
// updates a mounted Secret by swapping a symlink). Get() looks at the file (its size,
// modification time and inode, common/file_stamp.h) at most once per `check_interval`; a
// changed file is read and parsed, and a file that no longer reads or parses keeps the
// previous value and logs why once per change.
//
// Thread-safe. The clock must outlive the object.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace strand::auth {

// The untyped half: when to look, and reading. Not thread-safe (ReloadingFile locks).
class WatchedFile {
 public:
  WatchedFile(std::string path, const Clock& clock, std::chrono::nanoseconds check_interval)
      : path_(std::move(path)), clock_(clock), interval_(check_interval) {}
  const std::string& path() const { return path_; }
  // The file's contents (InvalidArgument naming the path when it cannot be read); the
  // stamp is taken before reading, so a write during the read is seen at the next check.
  absl::StatusOr<std::string> Read();
  // True when the check interval has passed since the last look and the file's stamp
  // differs from the one of the last Read (or the last failed reload).
  bool DueAndChanged();

 private:
  std::string path_;
  const Clock& clock_;
  std::chrono::nanoseconds interval_;
  std::string stamp_;
  int64_t next_check_nanos_ = 0;
};

// Logs that `path` changed but could not be used (kept out of the template).
void LogKeptPrevious(const std::string& path, const absl::Status& why);

template <typename T>
class ReloadingFile {
 public:
  using Parser = std::function<absl::StatusOr<T>(std::string_view contents)>;

  // Reads and parses `path` now: its error (InvalidArgument) when it cannot.
  static absl::StatusOr<std::unique_ptr<ReloadingFile>> Open(
      std::string path, Parser parse, const Clock& clock,
      std::chrono::nanoseconds check_interval = std::chrono::seconds(1)) {
    std::unique_ptr<ReloadingFile> f(
        new ReloadingFile(WatchedFile(std::move(path), clock, check_interval), std::move(parse)));
    absl::MutexLock lock(&f->mu_);
    auto value = f->Load();
    if (!value.ok()) return value.status();
    f->value_ = *std::move(value);
    return f;
  }

  // The current value (the file's contents as of the last check).
  std::shared_ptr<const T> Get() {
    absl::MutexLock lock(&mu_);
    if (file_.DueAndChanged()) {
      auto value = Load();
      if (value.ok()) {
        value_ = *std::move(value);
      } else {
        LogKeptPrevious(file_.path(), value.status());
      }
    }
    return value_;
  }

 private:
  ReloadingFile(WatchedFile file, Parser parse)
      : file_(std::move(file)), parse_(std::move(parse)) {}

  absl::StatusOr<std::shared_ptr<const T>> Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto contents = file_.Read();
    if (!contents.ok()) return contents.status();
    auto parsed = parse_(*contents);
    if (!parsed.ok()) return parsed.status();
    return std::make_shared<const T>(*std::move(parsed));
  }

  absl::Mutex mu_;
  WatchedFile file_ ABSL_GUARDED_BY(mu_);
  const Parser parse_;
  std::shared_ptr<const T> value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand::auth
