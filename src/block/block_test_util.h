// Helpers shared by the block tests and benchmark (and the tests that damage blocks): a
// temporary directory, flipping a byte of a file, and writing a TraceSet into a block. Header-only,
// test-only.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "block/block_writer.h"
#include "common/env.h"
#include "testdata/trace_set.h"

namespace strand::block::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/strand_block.XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Flips the bits of one byte of a file in place (damage that checksums must catch).
inline void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  const char c = static_cast<char>(f.get());
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

// Writes every trace of `set` (ascending IDs) into a new block under `parent_dir`.
inline absl::StatusOr<BlockMeta> WriteTraceSet(Env& env, const std::string& parent_dir,
                                               const testdata::TraceSet& set,
                                               BlockWriterOptions options = {},
                                               const std::string& tenant = "single-tenant") {
  absl::StatusOr<std::unique_ptr<BlockWriter>> writer =
      BlockWriter::Create(env, parent_dir, tenant, std::move(options));
  if (!writer.ok()) return writer.status();
  for (const auto& [id, spans] : set.traces) {
    absl::Status status = (*writer)->Add(id, spans);
    if (!status.ok()) return status;
  }
  return (*writer)->Finish();
}

}  // namespace strand::block::testing
