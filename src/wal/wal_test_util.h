// Helpers shared by the WAL tests: a temporary directory and replay into a vector.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/wal_replay.h"

namespace strand {

// A fresh directory under the gtest temp dir, removed with everything in it.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string tmpl = ::testing::TempDir() + "strand_wal.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~ScopedTempDir() { std::filesystem::remove_all(path_); }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ReplayedRecord {
  uint8_t type = 0;
  std::string payload;
  bool operator==(const ReplayedRecord&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const ReplayedRecord& r) {
  return os << "{type " << int{r.type} << ", " << r.payload.size()
            << " bytes: " << r.payload.substr(0, 40) << "}";
}

struct ReplayResult {
  std::vector<ReplayedRecord> records;
  ReplayStats stats;
};

inline absl::StatusOr<ReplayResult> ReplayAll(Env& env, const std::string& dir,
                                              const ReplayOptions& options = {}) {
  ReplayResult result;
  absl::StatusOr<ReplayStats> stats = ReplayWal(
      env, dir,
      [&result](uint8_t type, std::string_view payload) {
        result.records.push_back({type, std::string(payload)});
        return absl::OkStatus();
      },
      options);
  if (!stats.ok()) return stats.status();
  result.stats = std::move(*stats);
  return result;
}

}  // namespace strand
