#include "wal/wal_quarantine.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace strand {
namespace {

constexpr uint64_t kChunk = 1 << 20;

// Calls `fn` with bytes [offset, end) of `path`, a chunk at a time; stops when `fn`
// returns false. Returns whether every call returned true.
absl::StatusOr<bool> ForEachChunk(Env& env, const std::string& path, uint64_t offset,
                                  absl::FunctionRef<bool(std::string_view)> fn) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env.NewRandomAccessFile(path));
  std::string scratch(kChunk, '\0');
  for (uint64_t pos = offset; pos < file->Size();) {
    const uint64_t n = std::min<uint64_t>(kChunk, file->Size() - pos);
    ASSIGN_OR_RETURN(std::string_view got, file->Read(pos, std::span<char>(scratch.data(), n)));
    if (got.empty()) return absl::DataLossError(absl::StrCat(path, ": shrank while read"));
    if (!fn(got)) return false;
    pos += got.size();
  }
  return true;
}

// Whether `candidate` holds exactly bytes [offset, end) of `source`.
absl::StatusOr<bool> SameBytes(Env& env, const std::string& source, uint64_t offset,
                               const std::string& candidate) {
  ASSIGN_OR_RETURN(uint64_t source_size, env.GetFileSize(source));
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> other, env.NewRandomAccessFile(candidate));
  if (other->Size() != source_size - std::min(offset, source_size)) return false;
  std::string scratch;
  uint64_t pos = 0;
  absl::Status read_error;
  ASSIGN_OR_RETURN(bool same, ForEachChunk(env, source, offset, [&](std::string_view chunk) {
                     scratch.resize(chunk.size());
                     auto got = other->Read(pos, std::span<char>(scratch));
                     if (!got.ok()) read_error = got.status();
                     if (!got.ok() || *got != chunk) return false;
                     pos += chunk.size();
                     return true;
                   }));
  RETURN_IF_ERROR(read_error);
  return same;
}

}  // namespace

absl::Status WalQuarantine::EnsureDir() {
  if (dir_ready_) return absl::OkStatus();
  std::vector<std::string> missing;  // innermost first
  for (std::string d = dir_; !d.empty() && d != "." && d != "/" && !env_.FileExists(d);
       d = DirName(d)) {
    missing.push_back(d);
  }
  RETURN_IF_ERROR(env_.CreateDirs(dir_));
  // A new directory's entry is durable once its parent is synced, outermost first.
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    RETURN_IF_ERROR(env_.SyncDir(DirName(*it)));
  }
  dir_ready_ = true;
  return absl::OkStatus();
}

absl::StatusOr<WalQuarantine::Kept> WalQuarantine::ChooseName(const std::string& base,
                                                              const std::string& source,
                                                              uint64_t offset) {
  RETURN_IF_ERROR(EnsureDir());
  for (int n = 0;; ++n) {
    Kept kept{JoinPath(dir_, n == 0 ? base : absl::StrCat(base, ".", n)), false};
    if (!env_.FileExists(kept.path)) return kept;
    ASSIGN_OR_RETURN(kept.before, SameBytes(env_, source, offset, kept.path));
    if (kept.before) return kept;
  }
}

absl::Status WalQuarantine::CopyRange(const std::string& source, uint64_t offset,
                                      const std::string& target) {
  const std::string tmp = absl::StrCat(target, ".tmp");
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env_.NewWritableFile(tmp));
  absl::Status write_error;
  ASSIGN_OR_RETURN(bool complete, ForEachChunk(env_, source, offset, [&](std::string_view chunk) {
                     write_error = out->Append(chunk);
                     return write_error.ok();
                   }));
  RETURN_IF_ERROR(write_error);
  if (!complete) return absl::InternalError(absl::StrCat("copying ", source, " stopped"));
  RETURN_IF_ERROR(out->Sync());
  RETURN_IF_ERROR(out->Close());
  RETURN_IF_ERROR(env_.RenameFile(tmp, target));
  return env_.SyncDir(dir_);
}

absl::StatusOr<WalQuarantine::Kept> WalQuarantine::Move(const std::string& path) {
  ASSIGN_OR_RETURN(Kept kept, ChooseName(std::string(BaseName(path)), path, 0));
  // Onto a file with the same bytes, the rename loses nothing.
  RETURN_IF_ERROR(env_.RenameFile(path, kept.path));
  RETURN_IF_ERROR(env_.SyncDir(dir_));
  RETURN_IF_ERROR(env_.SyncDir(DirName(path)));
  return kept;
}

absl::StatusOr<WalQuarantine::Kept> WalQuarantine::Copy(const std::string& path) {
  ASSIGN_OR_RETURN(Kept kept, ChooseName(std::string(BaseName(path)), path, 0));
  if (!kept.before) RETURN_IF_ERROR(CopyRange(path, 0, kept.path));
  return kept;
}

absl::StatusOr<std::optional<WalQuarantine::Kept>> WalQuarantine::SaveTail(const std::string& path,
                                                                           uint64_t offset) {
  ASSIGN_OR_RETURN(bool all_zero, ForEachChunk(env_, path, offset, [](std::string_view chunk) {
                     return std::all_of(chunk.begin(), chunk.end(),
                                        [](char c) { return c == '\0'; });
                   }));
  if (all_zero) return std::nullopt;
  ASSIGN_OR_RETURN(
      Kept kept,
      ChooseName(absl::StrCat(std::string(BaseName(path)), ".tail-", offset), path, offset));
  if (!kept.before) RETURN_IF_ERROR(CopyRange(path, offset, kept.path));
  return kept;
}

}  // namespace strand
