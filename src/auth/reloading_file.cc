#include "auth/reloading_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/file_stamp.h"
#include "common/logging.h"

namespace strand::auth {

absl::StatusOr<std::string> WatchedFile::Read() {
  stamp_ = FileStamp(path_);
  next_check_nanos_ = clock_.MonotonicNanos() + interval_.count();
  std::ifstream in(path_, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path_));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path_));
  return ss.str();
}

bool WatchedFile::DueAndChanged() {
  const int64_t now = clock_.MonotonicNanos();
  if (now < next_check_nanos_) return false;
  next_check_nanos_ = now + interval_.count();
  std::string stamp = FileStamp(path_);
  if (stamp == stamp_) return false;
  stamp_ = std::move(stamp);  // a file that fails to load is not retried until it changes
  return true;
}

void LogKeptPrevious(const std::string& path, const absl::Status& why) {
  LOG_WARN("{} changed but cannot be used; keeping what it held before: {}", path,
           std::string(why.message()));
}

}  // namespace strand::auth
