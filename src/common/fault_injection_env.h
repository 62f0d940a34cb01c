// FaultInjectionEnv: an Env for tests that wraps a real one and can (1) simulate a power
// cut, losing whatever was not made durable, and (2) make chosen operations fail.
//
// Power-cut model (DropUnsyncedData):
//   - A file written through this env keeps only the bytes it had at its last successful
//     WritableFile::Sync (or TruncateFile).
//   - A file created through this env (or the target of a RenameFile) whose directory was
//     not SyncDir'ed since is removed; if it got its name by a rename of a file whose old
//     name was durable, it goes back to that old name instead.
//   - Deletions and overwrites by rename are treated as durable at once (not undone).
//   - Files this env never wrote are left alone; directories are durable once created.
// After DropUnsyncedData the disk is the new baseline: every file handle opened before it
// fails from then on, and tracking starts afresh.
//
// To model "the machine died at this instant", call SetFilesystemActive(false) first: from
// then on every mutating call fails (reads still work), so threads still running cannot
// change the disk; then DropUnsyncedData(), SetFilesystemActive(true), and reopen.
//
// Thread-safe. File objects it returns must not outlive it. It serialises all I/O through
// one mutex, which is fine for tests and wrong for benchmarks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"

namespace strand {

class FaultInjectionEnv final : public Env {
 public:
  // Operations that FailNext can target.
  enum class Op {
    kOpenWritable,  // NewWritableFile, NewAppendableFile
    kWrite,         // WritableFile::Append, AppendV, Flush
    kSync,          // WritableFile::Sync
    kSyncDir,       // SyncDir
    kRename,        // RenameFile
    kRemove,        // RemoveFile, RemoveDir
    kTruncate,      // TruncateFile
  };

  // `base` must outlive this env.
  explicit FaultInjectionEnv(Env& base) : base_(base) {}

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;
  absl::StatusOr<std::string> ReadFileToString(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override;
  absl::Status CreateDirs(const std::string& dir) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveDir(const std::string& dir) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  bool FileExists(const std::string& path) override;
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  absl::Status TruncateFile(const std::string& path, uint64_t size) override;
  absl::Status SyncDir(const std::string& dir) override;

  // Applies the power-cut model above to the disk. Returns the first error of the base
  // env, if any, after trying every file.
  absl::Status DropUnsyncedData();
  // While inactive, mutating calls fail with an Internal error and touch nothing.
  void SetFilesystemActive(bool active);
  // The next `count` calls of kind `op` fail with `error` (an Internal "injected fault"
  // error if `error` is OK) without touching the disk. A later call for the same `op`
  // replaces the earlier one; count 0 clears it.
  void FailNext(Op op, int count, absl::Status error = absl::OkStatus());

  // Runs `hook` in every WritableFile::Sync that passed its fault checks, just before the
  // data goes to disk, on the syncing thread with no lock held, so a test can hold a sync
  // in flight. Pass nullptr to remove it.
  void SetBeforeSyncHook(std::function<void()> hook);

  // Successful WritableFile::Sync calls and SyncDir calls since construction.
  int64_t sync_count() const;
  int64_t dir_sync_count() const;

 private:
  class File;
  // What this env knows about one file it wrote. Keyed by its current path.
  struct FileState {
    std::string path;
    uint64_t size = 0;         // bytes written so far
    uint64_t synced_size = 0;  // bytes durable
    bool entry_durable = false;
    std::string durable_old_name;  // set when renamed away from a durable name
  };

  absl::Status CheckOp(Op op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::unique_ptr<WritableFile>> Track(
      absl::StatusOr<std::unique_ptr<WritableFile>> base_file, const std::string& path,
      bool existed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env& base_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  // Bumped by DropUnsyncedData; a File from an older generation is dead.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool active_ ABSL_GUARDED_BY(mu_) = true;
  struct Fault {
    int remaining = 0;
    absl::Status error;
  };
  std::map<Op, Fault> faults_ ABSL_GUARDED_BY(mu_);
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dir_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> before_sync_hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand
