#include "common/fault_injection_env.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace strand {
namespace {

std::string NormalizeDir(std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return std::string(dir);
}

const char* OpName(FaultInjectionEnv::Op op) {
  switch (op) {
    case FaultInjectionEnv::Op::kOpenWritable:
      return "open";
    case FaultInjectionEnv::Op::kWrite:
      return "write";
    case FaultInjectionEnv::Op::kSync:
      return "sync";
    case FaultInjectionEnv::Op::kSyncDir:
      return "syncdir";
    case FaultInjectionEnv::Op::kRename:
      return "rename";
    case FaultInjectionEnv::Op::kRemove:
      return "remove";
    case FaultInjectionEnv::Op::kTruncate:
      return "truncate";
  }
  return "?";
}

}  // namespace

// A WritableFile that forwards to the base file, flushing after every append so the bytes
// on disk always equal state_->size (DropUnsyncedData can then truncate safely), and that
// dies when the env's generation moves on.
class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::unique_ptr<WritableFile> base, std::shared_ptr<FileState> state,
       uint64_t generation)
      : env_(env), base_(std::move(base)), state_(std::move(state)), generation_(generation) {}

  absl::Status Append(std::string_view data) override {
    absl::MutexLock lock(&env_.mu_);
    RETURN_IF_ERROR(CheckAlive());
    RETURN_IF_ERROR(env_.CheckOp(Op::kWrite));
    RETURN_IF_ERROR(base_->Append(data));
    return FlushBase();
  }

  absl::Status AppendV(std::span<const std::string_view> parts) override {
    absl::MutexLock lock(&env_.mu_);
    RETURN_IF_ERROR(CheckAlive());
    RETURN_IF_ERROR(env_.CheckOp(Op::kWrite));
    RETURN_IF_ERROR(base_->AppendV(parts));
    return FlushBase();
  }

  absl::Status Flush() override {
    absl::MutexLock lock(&env_.mu_);
    RETURN_IF_ERROR(CheckAlive());
    return env_.CheckOp(Op::kWrite);
  }

  absl::Status Sync() override {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&env_.mu_);
      RETURN_IF_ERROR(CheckAlive());
      RETURN_IF_ERROR(env_.CheckOp(Op::kSync));
      hook = env_.before_sync_hook_;
    }
    if (hook) hook();
    absl::MutexLock lock(&env_.mu_);
    // The world may have changed while the hook ran.
    RETURN_IF_ERROR(CheckAlive());
    if (!env_.active_) return absl::InternalError("fault injection: filesystem inactive");
    RETURN_IF_ERROR(base_->Sync());
    state_->synced_size = state_->size;
    ++env_.syncs_;
    return absl::OkStatus();
  }

  absl::Status Close() override {
    // The base file holds no buffered bytes, so closing it never changes the disk.
    absl::MutexLock lock(&env_.mu_);
    return base_->Close();
  }

  uint64_t Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  absl::Status CheckAlive() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(env_.mu_) {
    if (generation_ != env_.generation_) {
      return absl::FailedPreconditionError(
          absl::StrCat(base_->path(), ": file handle opened before a simulated power cut"));
    }
    return absl::OkStatus();
  }

  absl::Status FlushBase() ABSL_EXCLUSIVE_LOCKS_REQUIRED(env_.mu_) {
    absl::Status status = base_->Flush();
    state_->size = base_->Size();
    return status;
  }

  FaultInjectionEnv& env_;
  std::unique_ptr<WritableFile> base_;
  std::shared_ptr<FileState> state_;
  const uint64_t generation_;
};

absl::Status FaultInjectionEnv::CheckOp(Op op) {
  if (!active_) {
    return absl::InternalError(absl::StrCat(
        "fault injection: filesystem inactive (simulated power cut), op ", OpName(op)));
  }
  auto it = faults_.find(op);
  if (it != faults_.end() && it->second.remaining > 0) {
    --it->second.remaining;
    return it->second.error;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kOpenWritable));
  const bool existed = base_.FileExists(path);
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base_file, base_.NewWritableFile(path));
  std::shared_ptr<FileState>& state = files_[path];
  if (state == nullptr) {
    state = std::make_shared<FileState>();
    state->path = path;
    state->entry_durable = existed;
  }
  // O_TRUNC is not durable either: after a power cut the file may be empty.
  state->size = 0;
  state->synced_size = 0;
  return std::unique_ptr<WritableFile>(
      std::make_unique<File>(*this, std::move(base_file), state, generation_));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kOpenWritable));
  const bool existed = base_.FileExists(path);
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base_file, base_.NewAppendableFile(path));
  std::shared_ptr<FileState>& state = files_[path];
  if (state == nullptr) {
    // Bytes that were there before this env touched the file count as durable.
    state = std::make_shared<FileState>();
    state->path = path;
    state->entry_durable = existed;
    state->size = base_file->Size();
    state->synced_size = existed ? base_file->Size() : 0;
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<File>(*this, std::move(base_file), state, generation_));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  return base_.NewRandomAccessFile(path);
}

absl::StatusOr<std::string> FaultInjectionEnv::ReadFileToString(const std::string& path) {
  return base_.ReadFileToString(path);
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  return base_.GetChildren(dir);
}

absl::Status FaultInjectionEnv::CreateDirs(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  if (!active_) return absl::InternalError("fault injection: filesystem inactive");
  return base_.CreateDirs(dir);
}

absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kRemove));
  RETURN_IF_ERROR(base_.RemoveFile(path));
  files_.erase(path);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kRemove));
  return base_.RemoveDir(dir);
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kRename));
  RETURN_IF_ERROR(base_.RenameFile(from, to));
  std::shared_ptr<FileState> state;
  if (auto it = files_.find(from); it != files_.end()) {
    state = std::move(it->second);
    files_.erase(it);
  } else {
    // A file this env did not write: its bytes and its old name are durable.
    state = std::make_shared<FileState>();
    absl::StatusOr<uint64_t> size = base_.GetFileSize(to);
    state->size = size.ok() ? *size : 0;
    state->synced_size = state->size;
    state->entry_durable = true;
  }
  if (state->entry_durable) state->durable_old_name = from;
  state->entry_durable = false;
  state->path = to;
  files_[to] = std::move(state);
  return absl::OkStatus();
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return base_.FileExists(path); }

absl::StatusOr<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return base_.GetFileSize(path);
}

absl::Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kTruncate));
  RETURN_IF_ERROR(base_.TruncateFile(path, size));
  if (auto it = files_.find(path); it != files_.end()) {
    it->second->size = size;
    it->second->synced_size = size;
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckOp(Op::kSyncDir));
  RETURN_IF_ERROR(base_.SyncDir(dir));
  ++dir_syncs_;
  const std::string normalized = NormalizeDir(dir);
  for (auto& [path, state] : files_) {
    if (DirName(path) == normalized) {
      state->entry_durable = true;
      state->durable_old_name.clear();
    }
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::DropUnsyncedData() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  absl::Status first_error;
  auto note = [&first_error](absl::Status s) {
    if (!s.ok() && !absl::IsNotFound(s) && first_error.ok()) first_error = std::move(s);
  };
  for (const auto& [path, state] : files_) {
    std::string survivor = path;
    if (!state->entry_durable) {
      if (state->durable_old_name.empty()) {
        note(base_.RemoveFile(path));
        continue;
      }
      absl::Status s = base_.RenameFile(path, state->durable_old_name);
      note(s);
      if (!s.ok()) continue;
      survivor = state->durable_old_name;
    }
    absl::StatusOr<uint64_t> size = base_.GetFileSize(survivor);
    if (!size.ok()) {
      note(size.status());
    } else if (*size > state->synced_size) {
      note(base_.TruncateFile(survivor, state->synced_size));
    }
  }
  files_.clear();
  return first_error;
}

void FaultInjectionEnv::SetFilesystemActive(bool active) {
  absl::MutexLock lock(&mu_);
  active_ = active;
}

void FaultInjectionEnv::FailNext(Op op, int count, absl::Status error) {
  absl::MutexLock lock(&mu_);
  if (error.ok()) error = absl::InternalError(absl::StrCat("injected fault: ", OpName(op)));
  faults_[op] = Fault{count, std::move(error)};
}

void FaultInjectionEnv::SetBeforeSyncHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  before_sync_hook_ = std::move(hook);
}

int64_t FaultInjectionEnv::sync_count() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

int64_t FaultInjectionEnv::dir_sync_count() const {
  absl::MutexLock lock(&mu_);
  return dir_syncs_;
}

}  // namespace strand
