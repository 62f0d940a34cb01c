// Atomic publication, proven on the fault-injecting Env: a power cut at any moment of
// writing a block leaves either no block (no meta.json) or a whole, verifiable one; a
// block whose Finish() returned OK survives a power cut.
#include <cstdint>
#include <memory>
#include <string>

#include "block/block_reader.h"
#include "block/block_recovery.h"
#include "block/block_test_util.h"
#include "common/fault_injection_env.h"
#include "gtest/gtest.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::block {
namespace {

using testdata::CanonicalSpans;
using testdata::TraceSet;
using testing::TempDir;
using testing::WriteTraceSet;

// Forwards to a FaultInjectionEnv and cuts the power (SetFilesystemActive(false)) just
// before its `crash_at`-th mutating operation (1-based), counting file operations too.
class CrashingEnv final : public Env {
 public:
  CrashingEnv(FaultInjectionEnv& env, int64_t crash_at) : env_(env), crash_at_(crash_at) {}

  int64_t ops() const { return ops_; }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    Tick();
    return Wrap(env_.NewWritableFile(path));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    Tick();
    return Wrap(env_.NewAppendableFile(path));
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    return env_.NewRandomAccessFile(path);
  }
  absl::StatusOr<std::string> ReadFileToString(const std::string& path) override {
    return env_.ReadFileToString(path);
  }
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return env_.GetChildren(dir);
  }
  absl::Status CreateDirs(const std::string& dir) override {
    Tick();
    return env_.CreateDirs(dir);
  }
  absl::Status RemoveFile(const std::string& path) override {
    Tick();
    return env_.RemoveFile(path);
  }
  absl::Status RemoveDir(const std::string& dir) override {
    Tick();
    return env_.RemoveDir(dir);
  }
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    Tick();
    return env_.RenameFile(from, to);
  }
  bool FileExists(const std::string& path) override { return env_.FileExists(path); }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    return env_.GetFileSize(path);
  }
  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    Tick();
    return env_.TruncateFile(path, size);
  }
  absl::Status SyncDir(const std::string& dir) override {
    Tick();
    return env_.SyncDir(dir);
  }

 private:
  class File final : public WritableFile {
   public:
    File(CrashingEnv& env, std::unique_ptr<WritableFile> base)
        : env_(env), base_(std::move(base)) {}
    absl::Status Append(std::string_view data) override {
      env_.Tick();
      return base_->Append(data);
    }
    absl::Status Flush() override {
      env_.Tick();
      return base_->Flush();
    }
    absl::Status Sync() override {
      env_.Tick();
      return base_->Sync();
    }
    absl::Status Close() override {
      env_.Tick();
      return base_->Close();
    }
    uint64_t Size() const override { return base_->Size(); }
    const std::string& path() const override { return base_->path(); }

   private:
    CrashingEnv& env_;
    std::unique_ptr<WritableFile> base_;
  };

  void Tick() {
    if (++ops_ == crash_at_) env_.SetFilesystemActive(false);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> Wrap(
      absl::StatusOr<std::unique_ptr<WritableFile>> file) {
    if (!file.ok()) return file.status();
    return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, std::move(*file)));
  }

  FaultInjectionEnv& env_;
  const int64_t crash_at_;
  int64_t ops_ = 0;
};

class BlockPublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(set_.AddRequest(testdata::RealisticRequest({}, 0)).ok());
    options_.spans_per_row_group = 150;  // several row groups, several appends
  }

  // The blocks visible under `parent`: directories with meta.json. Each must open, verify
  // and hold exactly the written traces.
  int CheckVisibleBlocks(Env& env, const std::string& parent) {
    absl::StatusOr<std::vector<std::string>> children = env.GetChildren(parent);
    EXPECT_TRUE(children.ok());
    int blocks = 0;
    for (const std::string& child : *children) {
      const std::string dir = JoinPath(parent, child);
      if (!env.FileExists(JoinPath(dir, "meta.json"))) continue;  // never published
      ++blocks;
      absl::StatusOr<std::unique_ptr<BlockReader>> reader = BlockReader::Open(env, dir);
      EXPECT_TRUE(reader.ok()) << reader.status();
      if (!reader.ok()) continue;
      EXPECT_TRUE((*reader)->Verify().ok());
      for (const auto& [id, spans] : set_.traces) {
        absl::StatusOr<std::optional<FoundTrace>> found = (*reader)->FindTrace(id);
        EXPECT_TRUE(found.ok() && found->has_value());
        if (found.ok() && found->has_value()) {
          EXPECT_EQ(CanonicalSpans((*found)->spans), CanonicalSpans(spans));
        }
      }
    }
    return blocks;
  }

  // The mutating operations of a clean write of the block.
  int64_t CountOps() {
    TempDir dir;
    FaultInjectionEnv fault_env(*Env::Default());
    CrashingEnv env(fault_env, INT64_MAX);
    EXPECT_TRUE(WriteTraceSet(env, dir.path(), set_, options_).ok());
    return env.ops();
  }

  TraceSet set_;
  BlockWriterOptions options_;
};

TEST_F(BlockPublishTest, PowerCutAtAnyMomentLeavesNoBlockOrAWholeOne) {
  const int64_t total_ops = CountOps();
  ASSERT_GT(total_ops, 8);

  int no_block = 0;
  int whole_block = 0;
  for (int64_t crash_at = 1; crash_at <= total_ops + 1; ++crash_at) {
    SCOPED_TRACE("power cut before operation " + std::to_string(crash_at));
    TempDir dir;
    FaultInjectionEnv fault_env(*Env::Default());
    bool finished;
    {
      CrashingEnv env(fault_env, crash_at);
      finished = WriteTraceSet(env, dir.path(), set_, options_).ok();
    }
    EXPECT_EQ(finished, crash_at > total_ops);
    ASSERT_TRUE(fault_env.DropUnsyncedData().ok());
    fault_env.SetFilesystemActive(true);
    const int blocks = CheckVisibleBlocks(fault_env, dir.path());
    EXPECT_LE(blocks, 1);
    if (finished) {
      EXPECT_EQ(blocks, 1) << "a finished block must survive a power cut";
    }
    (blocks == 0 ? no_block : whole_block)++;
  }
  EXPECT_GT(no_block, 0);
  EXPECT_GT(whole_block, 0);
}

// What a block list does at start with a directory that has no meta.json: a data file
// left by a power cut is either absent or empty (nothing to lose) or complete, and then
// rebuilding its meta.json publishes the whole block.
TEST_F(BlockPublishTest, PowerCutBeforePublicationLeavesNoDataOrADataFileRebuiltWhole) {
  const int64_t total_ops = CountOps();
  int rebuilt = 0;
  for (int64_t crash_at = 1; crash_at <= total_ops; ++crash_at) {
    SCOPED_TRACE("power cut before operation " + std::to_string(crash_at));
    TempDir dir;
    FaultInjectionEnv fault_env(*Env::Default());
    {
      CrashingEnv env(fault_env, crash_at);
      WriteTraceSet(env, dir.path(), set_, options_).IgnoreError();
    }
    ASSERT_TRUE(fault_env.DropUnsyncedData().ok());
    fault_env.SetFilesystemActive(true);
    absl::StatusOr<std::vector<std::string>> children = fault_env.GetChildren(dir.path());
    ASSERT_TRUE(children.ok()) << children.status();
    for (const std::string& child : *children) {
      const std::string block_dir = JoinPath(dir.path(), child);
      const std::string data = JoinPath(block_dir, kDataFileName);
      if (fault_env.FileExists(JoinPath(block_dir, kMetaFileName))) continue;
      if (!fault_env.FileExists(data) || *fault_env.GetFileSize(data) == 0) continue;
      absl::StatusOr<BlockMeta> meta = RebuildBlockMeta(fault_env, block_dir, "single-tenant", 1);
      ASSERT_TRUE(meta.ok()) << meta.status();
      ASSERT_TRUE(
          WriteFileAtomically(fault_env, JoinPath(block_dir, kMetaFileName), meta->ToJson()).ok());
      ++rebuilt;
    }
    EXPECT_LE(CheckVisibleBlocks(fault_env, dir.path()), 1);
  }
  EXPECT_GT(rebuilt, 0) << "some power cut falls between the data file and meta.json";
}

TEST_F(BlockPublishTest, FailedSyncPublishesNothing) {
  for (FaultInjectionEnv::Op op : {FaultInjectionEnv::Op::kSync, FaultInjectionEnv::Op::kSyncDir,
                                   FaultInjectionEnv::Op::kRename, FaultInjectionEnv::Op::kWrite}) {
    TempDir dir;
    FaultInjectionEnv env(*Env::Default());
    absl::StatusOr<std::unique_ptr<BlockWriter>> writer =
        BlockWriter::Create(env, dir.path(), "t", options_);
    ASSERT_TRUE(writer.ok());
    for (const auto& [id, spans] : set_.traces) ASSERT_TRUE((*writer)->Add(id, spans).ok());
    env.FailNext(op, 1);
    EXPECT_FALSE((*writer)->Finish().ok());
    // Errors are sticky.
    EXPECT_FALSE((*writer)->Finish().ok());
    EXPECT_EQ(CheckVisibleBlocks(env, dir.path()), 0);
  }
}

}  // namespace
}  // namespace strand::block
