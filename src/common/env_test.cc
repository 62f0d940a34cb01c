#include "common/env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace strand {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "env_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(std::string_view name) const { return JoinPath(dir_, name); }

  void WriteFile(const std::string& path, std::string_view data) {
    auto file = env_.NewWritableFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Append(data).ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  std::string ReadFile(const std::string& path) {
    absl::StatusOr<std::string> data = env_.ReadFileToString(path);
    EXPECT_TRUE(data.ok()) << data.status();
    return data.ok() ? *data : "";
  }

  Env& env_ = *Env::Default();
  std::string dir_;
};

TEST_F(EnvTest, AppendedBytesAreReadBackInOrder) {
  auto file = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  std::vector<std::string_view> parts = {"wor", "", "ld"};
  ASSERT_TRUE((*file)->AppendV(parts).ok());
  EXPECT_EQ((*file)->Size(), 11u);
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadFile(Path("f")), "hello world");
  EXPECT_EQ(*env_.GetFileSize(Path("f")), 11u);
}

TEST_F(EnvTest, LargeAndManySmallAppendsKeepOrder) {
  auto file = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  std::string expected;
  std::string big(200 * 1024, 'b');
  ASSERT_TRUE((*file)->Append("x").ok());
  ASSERT_TRUE((*file)->Append(big).ok());
  expected += "x" + big;
  // More parts than IOV_MAX, and more bytes than the buffer, in one AppendV.
  std::vector<std::string> owned;
  for (int i = 0; i < 3000; ++i) owned.push_back(std::to_string(i) + std::string(30, 'p'));
  std::vector<std::string_view> parts(owned.begin(), owned.end());
  ASSERT_TRUE((*file)->AppendV(parts).ok());
  for (const std::string& s : owned) expected += s;
  ASSERT_TRUE((*file)->Append("tail").ok());
  expected += "tail";
  EXPECT_EQ((*file)->Size(), expected.size());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadFile(Path("f")), expected);
}

TEST_F(EnvTest, FlushMakesBytesVisibleToReaders) {
  auto file = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Flush().ok());
  EXPECT_EQ(ReadFile(Path("f")), "abc");
}

TEST_F(EnvTest, NewWritableFileTruncatesAnExistingFile) {
  WriteFile(Path("f"), "old contents");
  WriteFile(Path("f"), "new");
  EXPECT_EQ(ReadFile(Path("f")), "new");
}

TEST_F(EnvTest, AppendableFileContinuesAtTheEnd) {
  WriteFile(Path("f"), "abc");
  auto file = env_.NewAppendableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Size(), 3u);
  ASSERT_TRUE((*file)->Append("def").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadFile(Path("f")), "abcdef");

  auto fresh = env_.NewAppendableFile(Path("g"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->Size(), 0u);
}

TEST_F(EnvTest, ClosedFileRefusesWritesAndCloseIsIdempotent) {
  auto file = env_.NewWritableFile(Path("f"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_FALSE((*file)->Append("x").ok());
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE((*file)->Close().ok());
}

TEST_F(EnvTest, RandomAccessReadIsShortOnlyAtEndOfFile) {
  WriteFile(Path("f"), "0123456789");
  auto file = env_.NewRandomAccessFile(Path("f"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Size(), 10u);
  char scratch[8];
  EXPECT_EQ(*(*file)->Read(2, scratch), "23456789");
  EXPECT_EQ(*(*file)->Read(7, scratch), "789");
  EXPECT_EQ(*(*file)->Read(10, scratch), "");
  EXPECT_EQ(*(*file)->Read(50, scratch), "");
}

TEST_F(EnvTest, StringRandomAccessFileServesItsContents) {
  auto file = NewStringRandomAccessFile("abcdef", "mem");
  char scratch[4];
  EXPECT_EQ((*file).path(), "mem");
  EXPECT_EQ(*file->Read(1, scratch), "bcde");
  EXPECT_EQ(*file->Read(4, scratch), "ef");
  EXPECT_EQ(*file->Read(6, scratch), "");
}

TEST_F(EnvTest, GetChildrenListsNamesWithoutDots) {
  WriteFile(Path("a"), "");
  WriteFile(Path("b"), "");
  ASSERT_TRUE(env_.CreateDirs(Path("sub")).ok());
  auto names = env_.GetChildren(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, UnorderedElementsAre("a", "b", "sub"));
}

TEST_F(EnvTest, CreateDirsCreatesParentsAndIsIdempotent) {
  const std::string deep = Path("x/y/z/");
  ASSERT_TRUE(env_.CreateDirs(deep).ok());
  EXPECT_TRUE(std::filesystem::is_directory(Path("x/y/z")));
  EXPECT_TRUE(env_.CreateDirs(deep).ok());
  EXPECT_TRUE(env_.CreateDirs(Path("x//y")).ok());
}

TEST_F(EnvTest, CreateDirsFailsWhenAFileIsInTheWay) {
  WriteFile(Path("file"), "x");
  absl::Status status = env_.CreateDirs(Path("file/sub"));
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(Path("file")));
}

TEST_F(EnvTest, RenameAtomicallyReplacesTheTarget) {
  WriteFile(Path("a"), "new");
  WriteFile(Path("b"), "old");
  ASSERT_TRUE(env_.RenameFile(Path("a"), Path("b")).ok());
  EXPECT_FALSE(env_.FileExists(Path("a")));
  EXPECT_EQ(ReadFile(Path("b")), "new");
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
}

TEST_F(EnvTest, TruncateFileShrinksToTheGivenLength) {
  WriteFile(Path("f"), "0123456789");
  ASSERT_TRUE(env_.TruncateFile(Path("f"), 4).ok());
  EXPECT_EQ(ReadFile(Path("f")), "0123");
}

TEST_F(EnvTest, RemoveFileAndRemoveDir) {
  WriteFile(Path("f"), "x");
  ASSERT_TRUE(env_.CreateDirs(Path("d")).ok());
  EXPECT_TRUE(env_.FileExists(Path("f")));
  ASSERT_TRUE(env_.RemoveFile(Path("f")).ok());
  EXPECT_FALSE(env_.FileExists(Path("f")));
  ASSERT_TRUE(env_.RemoveDir(Path("d")).ok());
  EXPECT_FALSE(env_.FileExists(Path("d")));
  EXPECT_TRUE(absl::IsNotFound(env_.RemoveFile(Path("f"))));
}

TEST_F(EnvTest, ErrorsCarryTheCodeThePathAndTheErrnoText) {
  const std::string missing = Path("missing");
  absl::StatusOr<std::string> data = env_.ReadFileToString(missing);
  ASSERT_FALSE(data.ok());
  EXPECT_TRUE(absl::IsNotFound(data.status()));
  EXPECT_THAT(std::string(data.status().message()), HasSubstr(missing));
  EXPECT_THAT(std::string(data.status().message()), HasSubstr("No such file or directory"));

  EXPECT_TRUE(absl::IsNotFound(env_.GetFileSize(missing).status()));
  EXPECT_TRUE(absl::IsNotFound(env_.NewRandomAccessFile(missing).status()));
  EXPECT_TRUE(absl::IsNotFound(env_.TruncateFile(missing, 0)));
  EXPECT_TRUE(absl::IsNotFound(env_.GetChildren(missing).status()));
  EXPECT_TRUE(absl::IsNotFound(env_.SyncDir(missing)));
  EXPECT_TRUE(absl::IsNotFound(env_.NewWritableFile(Path("no/such/dir/f")).status()));
  EXPECT_TRUE(absl::IsNotFound(env_.RenameFile(missing, Path("other"))));
}

TEST_F(EnvTest, WriteFileAtomicallyReplacesContentsAndLeavesNoTemporary) {
  WriteFile(Path("meta"), "v1");
  ASSERT_TRUE(WriteFileAtomically(env_, Path("meta"), "v2").ok());
  EXPECT_EQ(ReadFile(Path("meta")), "v2");
  EXPECT_FALSE(env_.FileExists(Path("meta.tmp")));
}

TEST(PathTest, DirNameAndJoinPath) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

TEST(PathTest, BaseName) {
  EXPECT_EQ(BaseName("a/b/c"), "c");
  EXPECT_EQ(BaseName("c"), "c");
  EXPECT_EQ(BaseName("a/"), "");
}

}  // namespace
}  // namespace strand
