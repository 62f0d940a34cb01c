// Env: the filesystem seam. Everything in Strand that touches files (write-ahead log,
// blocks on the local backend, metadata) goes through an Env, so tests can substitute
// FaultInjectionEnv to simulate power cuts and I/O errors.
//
// Contract: every fallible call returns absl::Status / absl::StatusOr; errors carry the
// operation, the path and the errno text ("open /data/wal/x.wal: No such file or
// directory"). errno values map to codes as follows: ENOENT/ENOTDIR -> NotFound,
// EEXIST/ENOTEMPTY -> AlreadyExists, EACCES/EPERM/EROFS -> PermissionDenied,
// ENOSPC/EDQUOT/EMFILE/ENFILE -> ResourceExhausted, EINVAL/ENAMETOOLONG -> InvalidArgument,
// anything else (EIO, ...) -> Internal.
//
// Durability: data reaches the disk only through WritableFile::Sync(); a new, renamed or
// removed directory entry only through SyncDir() of its directory. TruncateFile() is the
// one exception: it makes the new length durable before it returns.
//
// Thread safety: Env implementations are thread-safe. A WritableFile or RandomAccessFile
// object is owned by one user; WritableFile is not thread-safe, RandomAccessFile::Read is
// safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace strand {

// A file opened for sequential writing. Appends may be buffered in user space (up to
// 64 KiB in the POSIX implementation) until Flush(), Sync() or Close(). Not thread-safe.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Appends `data` at the end of the file.
  virtual absl::Status Append(std::string_view data) = 0;
  // Appends the parts in order, as if by one Append of their concatenation. Large parts
  // are not copied (the POSIX implementation hands them to writev).
  virtual absl::Status AppendV(std::span<const std::string_view> parts);
  // Pushes buffered bytes to the operating system (survives a process crash, not a
  // power cut).
  virtual absl::Status Flush() = 0;
  // Flush() and then fdatasync: everything appended so far survives a power cut.
  virtual absl::Status Sync() = 0;
  // Flushes and closes. Further calls fail; calling Close() twice is allowed.
  virtual absl::Status Close() = 0;
  // Bytes in the file including everything appended (buffered or not).
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

// A file opened for positioned reads. Read() is thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;

  // Reads up to scratch.size() bytes starting at `offset`. The result views either
  // `scratch` or memory owned by the file and stays valid while both live. It is shorter
  // than requested only at the end of the file.
  virtual absl::StatusOr<std::string_view> Read(uint64_t offset, std::span<char> scratch) const = 0;
  // The file size when the file was opened.
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX filesystem. Never null; lives forever.
  static Env* Default();

  // Creates `path`, truncating it if it exists.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::string> ReadFileToString(const std::string& path) = 0;

  // Names (not paths) of the entries of `dir`, without "." and "..", in no given order.
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  // Creates `dir` and any missing parents. OK if it already exists as a directory.
  virtual absl::Status CreateDirs(const std::string& dir) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual absl::Status RemoveDir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)). Durable after SyncDir.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // Shrinks (or zero-extends) `path` to `size` bytes and makes the new length durable.
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // fsyncs the directory so that entries created, renamed or removed in it are durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
};

// Writes `data` to `path` so that a crash leaves either the old file or the complete new
// one: writes `path`.tmp, syncs it, renames it over `path` and syncs the directory.
absl::Status WriteFileAtomically(Env& env, const std::string& path, std::string_view data);

// A RandomAccessFile over bytes in memory (tests, fuzzers). `name` is what path() says.
std::unique_ptr<RandomAccessFile> NewStringRandomAccessFile(std::string contents,
                                                            std::string name = "<memory>");

// "a/b/c" -> "a/b"; "c" -> "."; "/c" -> "/".
std::string DirName(std::string_view path);
// "a/b/c" -> "c"; "c" -> "c"; "a/" -> "".
std::string_view BaseName(std::string_view path);
// Joins with exactly one '/' between the parts.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace strand
