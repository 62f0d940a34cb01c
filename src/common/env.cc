#include "common/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace strand {
namespace {

absl::StatusCode ErrnoCode(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EEXIST:
    case ENOTEMPTY:
      return absl::StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return absl::StatusCode::kResourceExhausted;
    case EINVAL:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

// Debian's Abseil is built with its own string_view, so this file concatenates
// std::string rather than using absl::StrCat on std::string_view.
absl::Status PosixError(const char* op, const std::string& path, int err) {
  return absl::Status(ErrnoCode(err), std::string(op) + " " + path + ": " + std::strerror(err));
}

// Writes every byte described by `iov` (which it modifies), retrying short writes and
// EINTR, in chunks of at most IOV_MAX vectors.
absl::Status WriteFully(int fd, const std::string& path, std::vector<iovec>& iov) {
  size_t first = 0;
  while (first < iov.size()) {
    if (iov[first].iov_len == 0) {
      ++first;
      continue;
    }
    int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = ::writev(fd, &iov[first], count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", path, errno);
    }
    auto left = static_cast<size_t>(n);
    while (left > 0 && first < iov.size()) {
      size_t take = std::min(left, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      left -= take;
      if (iov[first].iov_len == 0) ++first;
    }
  }
  return absl::OkStatus();
}

iovec MakeIovec(std::string_view s) { return iovec{const_cast<char*>(s.data()), s.size()}; }

// Invariant: buf_ holds bytes [size_ - buf_.size(), size_) that have not reached the OS.
// After a failed write the file is in an unknown state; every later call fails with the
// first error (sticky), so a caller can never append behind a torn write by accident.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {
    buf_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close().IgnoreError();
  }

  absl::Status Append(std::string_view data) override {
    RETURN_IF_ERROR(CheckUsable());
    size_ += data.size();
    if (buf_.size() + data.size() <= kBufferSize) {
      buf_.append(data);
      return absl::OkStatus();
    }
    std::vector<iovec> iov = {MakeIovec(buf_), MakeIovec(data)};
    return WriteAndClearBuffer(iov);
  }

  absl::Status AppendV(std::span<const std::string_view> parts) override {
    RETURN_IF_ERROR(CheckUsable());
    size_t total = 0;
    for (std::string_view p : parts) total += p.size();
    size_ += total;
    if (buf_.size() + total <= kBufferSize) {
      for (std::string_view p : parts) buf_.append(p);
      return absl::OkStatus();
    }
    std::vector<iovec> iov;
    iov.reserve(parts.size() + 1);
    iov.push_back(MakeIovec(buf_));
    for (std::string_view p : parts) iov.push_back(MakeIovec(p));
    return WriteAndClearBuffer(iov);
  }

  absl::Status Flush() override {
    RETURN_IF_ERROR(CheckUsable());
    if (buf_.empty()) return absl::OkStatus();
    std::vector<iovec> iov = {MakeIovec(buf_)};
    return WriteAndClearBuffer(iov);
  }

  absl::Status Sync() override {
    RETURN_IF_ERROR(Flush());
    while (::fdatasync(fd_) != 0) {
      if (errno == EINTR) continue;
      error_ = PosixError("fdatasync", path_, errno);
      return error_;
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return error_;
    absl::Status status = error_.ok() ? Flush() : error_;
    if (::close(fd_) != 0 && status.ok()) status = PosixError("close", path_, errno);
    fd_ = -1;
    if (error_.ok()) error_ = absl::FailedPreconditionError(absl::StrCat(path_, " is closed"));
    return status;
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;

  absl::Status CheckUsable() const {
    if (!error_.ok()) return error_;
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, " is closed"));
    return absl::OkStatus();
  }

  absl::Status WriteAndClearBuffer(std::vector<iovec>& iov) {
    absl::Status status = WriteFully(fd_, path_, iov);
    buf_.clear();
    if (!status.ok()) error_ = status;
    return status;
  }

  int fd_;
  const std::string path_;
  uint64_t size_;
  std::string buf_;
  absl::Status error_;  // sticky; non-OK after a failed write or sync, or after Close
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  absl::StatusOr<std::string_view> Read(uint64_t offset, std::span<char> scratch) const override {
    size_t done = 0;
    while (done < scratch.size()) {
      ssize_t n = ::pread(fd_, scratch.data() + done, scratch.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread", path_, errno);
      }
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    return std::string_view(scratch.data(), done);
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  const int fd_;
  const std::string path_;
  const uint64_t size_;
};

class StringRandomAccessFile final : public RandomAccessFile {
 public:
  StringRandomAccessFile(std::string contents, std::string name)
      : contents_(std::move(contents)), name_(std::move(name)) {}

  absl::StatusOr<std::string_view> Read(uint64_t offset, std::span<char> scratch) const override {
    if (offset >= contents_.size()) return std::string_view();
    return std::string_view(contents_).substr(offset, scratch.size());
  }
  uint64_t Size() const override { return contents_.size(); }
  const std::string& path() const override { return name_; }

 private:
  const std::string contents_;
  const std::string name_;
};

int OpenRetrying(const char* path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = OpenRetrying(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return PosixError("open", path, errno);
    return std::make_unique<PosixWritableFile>(fd, path, 0);
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    int fd = OpenRetrying(path.c_str(), O_WRONLY | O_CREAT | O_APPEND);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      absl::Status status = PosixError("fstat", path, errno);
      ::close(fd);
      return status;
    }
    return std::make_unique<PosixWritableFile>(fd, path, static_cast<uint64_t>(st.st_size));
  }

  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = OpenRetrying(path.c_str(), O_RDONLY);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      absl::Status status = PosixError("fstat", path, errno);
      ::close(fd);
      return status;
    }
    return std::make_unique<PosixRandomAccessFile>(fd, path, static_cast<uint64_t>(st.st_size));
  }

  absl::StatusOr<std::string> ReadFileToString(const std::string& path) override {
    int fd = OpenRetrying(path.c_str(), O_RDONLY);
    if (fd < 0) return PosixError("open", path, errno);
    std::string out;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
    char buf[64 * 1024];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        absl::Status status = PosixError("read", path, errno);
        ::close(fd);
        return status;
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir", dir, errno);
    std::vector<std::string> names;
    while (true) {
      errno = 0;
      struct dirent* entry = ::readdir(d);
      if (entry == nullptr) {
        if (errno != 0) {
          absl::Status status = PosixError("readdir", dir, errno);
          ::closedir(d);
          return status;
        }
        break;
      }
      std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    ::closedir(d);
    return names;
  }

  absl::Status CreateDirs(const std::string& dir) override {
    if (dir.empty()) return absl::InvalidArgumentError("CreateDirs: empty path");
    // Creates each prefix ending before a '/', then the whole path.
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
      if (pos < dir.size() && dir[pos] != '/') continue;
      if (dir[pos - 1] == '/') continue;  // "//" or a trailing '/'
      std::string prefix = dir.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) == 0) continue;
      int err = errno;
      if (err != EEXIST) return PosixError("mkdir", prefix, err);
      struct stat st;
      if (::stat(prefix.c_str(), &st) != 0) return PosixError("stat", prefix, errno);
      if (!S_ISDIR(st.st_mode)) return PosixError("mkdir", prefix, ENOTDIR);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError("rmdir", dir, errno);
    return absl::OkStatus();
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", absl::StrCat(from, " -> ", to), errno);
    }
    return absl::OkStatus();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    int fd = OpenRetrying(path.c_str(), O_WRONLY);
    if (fd < 0) return PosixError("open", path, errno);
    absl::Status status;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      status = PosixError("ftruncate", path, errno);
    } else {
      while (::fsync(fd) != 0) {
        if (errno == EINTR) continue;
        status = PosixError("fsync", path, errno);
        break;
      }
    }
    ::close(fd);
    return status;
  }

  absl::Status SyncDir(const std::string& dir) override {
    int fd = OpenRetrying(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return PosixError("open", dir, errno);
    absl::Status status;
    while (::fsync(fd) != 0) {
      if (errno == EINTR) continue;
      status = PosixError("fsync", dir, errno);
      break;
    }
    ::close(fd);
    return status;
  }
};

}  // namespace

absl::Status WritableFile::AppendV(std::span<const std::string_view> parts) {
  for (std::string_view p : parts) RETURN_IF_ERROR(Append(p));
  return absl::OkStatus();
}

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

absl::Status WriteFileAtomically(Env& env, const std::string& path, std::string_view data) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  auto write_tmp = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env.NewWritableFile(tmp));
    RETURN_IF_ERROR(file->Append(data));
    RETURN_IF_ERROR(file->Sync());
    return file->Close();
  };
  absl::Status status = write_tmp();
  if (status.ok()) status = env.RenameFile(tmp, path);
  if (!status.ok()) {
    if (env.FileExists(tmp)) env.RemoveFile(tmp).IgnoreError();
    return status;
  }
  return env.SyncDir(DirName(path));
}

std::unique_ptr<RandomAccessFile> NewStringRandomAccessFile(std::string contents,
                                                            std::string name) {
  return std::make_unique<StringRandomAccessFile>(std::move(contents), std::move(name));
}

std::string DirName(std::string_view path) {
  size_t pos = path.find_last_of('/');
  if (pos == std::string_view::npos) return ".";
  if (pos == 0) return "/";
  return std::string(path.substr(0, pos));
}

std::string_view BaseName(std::string_view path) {
  size_t pos = path.find_last_of('/');
  return pos == std::string_view::npos ? path : path.substr(pos + 1);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  if (out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

}  // namespace strand
