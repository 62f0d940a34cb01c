// WalQuarantine: keeps damaged write-ahead-log segments, and the torn tails cut off
// segments, as evidence in a quarantine directory (the store uses
// `<data_dir>/quarantine/wal/`) instead of deleting them. ReplayWal decides what goes
// there (docs/format/wal.md, "Recovery").
//
// Names in the quarantine directory: `<segment file name>` for a whole segment,
// `<segment file name>.tail-<offset>` for the bytes of a segment from `offset` to its end.
// A file already there under that name is never replaced: when it holds the same bytes,
// nothing is written and the result says so (the same damage found at an earlier start);
// otherwise `.1`, `.2`, ... is appended to the name.
//
// Every operation is durable when it returns OK (the file synced, the directories it
// changed synced). On error nothing has been lost: the source is unchanged (a partial
// copy may remain as `<name>.tmp`).
//
// Not thread-safe: one replay uses one instance. The Env must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/env.h"

namespace strand {

class WalQuarantine {
 public:
  struct Kept {
    std::string path;     // the file in quarantine
    bool before = false;  // it was already there with the same bytes; nothing was written
  };

  WalQuarantine(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  // Moves the file at `path` into quarantine and syncs both directories.
  absl::StatusOr<Kept> Move(const std::string& path);
  // Copies the file at `path` into quarantine; the source is left as it is.
  absl::StatusOr<Kept> Copy(const std::string& path);
  // Copies bytes [offset, end of file) of `path` to `<name>.tail-<offset>`, unless they
  // are all zero (a crash's preallocated or unwritten blocks hold nothing): then nullopt.
  absl::StatusOr<std::optional<Kept>> SaveTail(const std::string& path, uint64_t offset);

  const std::string& dir() const { return dir_; }

 private:
  // Creates the quarantine directory (and missing parents) durably, once.
  absl::Status EnsureDir();
  // The name under which bytes [offset, end) of `source` go: `base` or `base.N`, the first
  // that is free or already holds exactly those bytes.
  absl::StatusOr<Kept> ChooseName(const std::string& base, const std::string& source,
                                  uint64_t offset);
  // Writes bytes [offset, end) of `source` to `target` through `<target>.tmp`, durably.
  absl::Status CopyRange(const std::string& source, uint64_t offset, const std::string& target);

  Env& env_;
  const std::string dir_;
  bool dir_ready_ = false;
};

}  // namespace strand
