#include "common/fault_injection_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace strand {
namespace {

using ::testing::HasSubstr;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "fault_env_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(std::string_view name) const { return JoinPath(dir_, name); }

  // Creates `name` through the fault env with `synced` durable and `unsynced` not.
  std::unique_ptr<WritableFile> Write(std::string_view name, std::string_view synced,
                                      std::string_view unsynced, bool sync_dir) {
    auto file = env_.NewWritableFile(Path(name));
    EXPECT_TRUE(file.ok()) << file.status();
    EXPECT_TRUE((*file)->Append(synced).ok());
    EXPECT_TRUE((*file)->Sync().ok());
    if (sync_dir) {
      EXPECT_TRUE(env_.SyncDir(dir_).ok());
    }
    EXPECT_TRUE((*file)->Append(unsynced).ok());
    return std::move(*file);
  }

  std::string Read(std::string_view name) {
    absl::StatusOr<std::string> data = base_.ReadFileToString(Path(name));
    return data.ok() ? *data : "<" + data.status().ToString() + ">";
  }

  Env& base_ = *Env::Default();
  FaultInjectionEnv env_{base_};
  std::string dir_;
};

TEST_F(FaultInjectionEnvTest, PowerCutKeepsOnlySyncedBytes) {
  auto file = Write("f", "durable", "-lost", /*sync_dir=*/true);
  EXPECT_EQ(Read("f"), "durable-lost");
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read("f"), "durable");
}

TEST_F(FaultInjectionEnvTest, PowerCutRemovesFileWhoseDirectoryWasNotSynced) {
  auto file = Write("f", "synced data", "", /*sync_dir=*/false);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(base_.FileExists(Path("f")));
}

TEST_F(FaultInjectionEnvTest, SyncDirMakesNewFilesSurvive) {
  auto file = Write("f", "abc", "", /*sync_dir=*/true);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read("f"), "abc");
}

TEST_F(FaultInjectionEnvTest, TruncatedOpenCountsAsUnsynced) {
  auto first = Write("f", "old", "", /*sync_dir=*/true);
  ASSERT_TRUE(first->Close().ok());
  auto again = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Append("new").ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read("f"), "");
}

TEST_F(FaultInjectionEnvTest, AppendableFileKeepsBytesItFoundThere) {
  {
    auto plain = base_.NewWritableFile(Path("f"));
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE((*plain)->Append("before").ok());
    ASSERT_TRUE((*plain)->Close().ok());
  }
  auto file = env_.NewAppendableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("+after").ok());
  EXPECT_EQ(Read("f"), "before+after");
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read("f"), "before");
}

TEST_F(FaultInjectionEnvTest, UnsyncedRenameIsUndone) {
  auto file = Write("a", "payload", "", /*sync_dir=*/true);
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(env_.RenameFile(Path("a"), Path("b")).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(base_.FileExists(Path("b")));
  EXPECT_EQ(Read("a"), "payload");
}

TEST_F(FaultInjectionEnvTest, SyncedRenameSurvives) {
  auto file = Write("a", "payload", "", /*sync_dir=*/true);
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(env_.RenameFile(Path("a"), Path("b")).ok());
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(base_.FileExists(Path("a")));
  EXPECT_EQ(Read("b"), "payload");
}

TEST_F(FaultInjectionEnvTest, TruncateFileIsDurable) {
  auto file = Write("f", "0123456789", "", /*sync_dir=*/true);
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(env_.TruncateFile(Path("f"), 4).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read("f"), "0123");
}

TEST_F(FaultInjectionEnvTest, InjectedWriteErrorsFailWithoutWriting) {
  auto file = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  env_.FailNext(FaultInjectionEnv::Op::kWrite, 2);
  absl::Status first = (*file)->Append("a");
  EXPECT_FALSE(first.ok());
  EXPECT_THAT(std::string(first.message()), HasSubstr("injected fault: write"));
  EXPECT_FALSE((*file)->Append("b").ok());
  EXPECT_TRUE((*file)->Append("c").ok());
  EXPECT_EQ(Read("f"), "c");
}

TEST_F(FaultInjectionEnvTest, InjectedSyncErrorLeavesDataUnsynced) {
  auto file = Write("f", "kept", "", /*sync_dir=*/true);
  ASSERT_TRUE(file->Append("+maybe").ok());
  env_.FailNext(FaultInjectionEnv::Op::kSync, 1, absl::DataLossError("disk on fire"));
  absl::Status status = file->Sync();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read("f"), "kept");
}

TEST_F(FaultInjectionEnvTest, InjectedOpenAndSyncDirErrors) {
  env_.FailNext(FaultInjectionEnv::Op::kOpenWritable, 1);
  EXPECT_FALSE(env_.NewWritableFile(Path("f")).ok());
  EXPECT_FALSE(base_.FileExists(Path("f")));
  EXPECT_TRUE(env_.NewWritableFile(Path("f")).ok());
  env_.FailNext(FaultInjectionEnv::Op::kSyncDir, 1);
  EXPECT_FALSE(env_.SyncDir(dir_).ok());
  EXPECT_TRUE(env_.SyncDir(dir_).ok());
}

TEST_F(FaultInjectionEnvTest, InactiveFilesystemRefusesChangesButServesReads) {
  auto file = Write("f", "abc", "", /*sync_dir=*/true);
  env_.SetFilesystemActive(false);
  EXPECT_FALSE(file->Append("x").ok());
  EXPECT_FALSE(file->Sync().ok());
  EXPECT_FALSE(env_.NewWritableFile(Path("g")).ok());
  EXPECT_FALSE(env_.RemoveFile(Path("f")).ok());
  EXPECT_FALSE(env_.SyncDir(dir_).ok());
  EXPECT_EQ(*env_.ReadFileToString(Path("f")), "abc");
  env_.SetFilesystemActive(true);
  EXPECT_TRUE(file->Append("x").ok());
}

TEST_F(FaultInjectionEnvTest, HandlesOpenedBeforeAPowerCutAreDead) {
  auto file = Write("f", "abc", "", /*sync_dir=*/true);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  absl::Status status = file->Append("x");
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_EQ(Read("f"), "abc");
}

TEST_F(FaultInjectionEnvTest, CountsSyncsAndRunsTheSyncHook) {
  int hook_calls = 0;
  env_.SetBeforeSyncHook([&hook_calls] { ++hook_calls; });
  auto file = Write("f", "a", "b", /*sync_dir=*/true);
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(env_.sync_count(), 2);
  EXPECT_EQ(env_.dir_sync_count(), 1);
  EXPECT_EQ(hook_calls, 2);
}

}  // namespace
}  // namespace strand
