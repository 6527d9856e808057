#include "io/posix_file_system.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tri::io {
namespace {

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "tri-io-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  PosixFileSystem& fs_ = PosixFileSystem::Instance();
  std::string dir_;
};

TEST_F(PosixFileSystemTest, WritesReadsAndSizesAFile) {
  const std::string path = JoinPath(dir_, "a");
  auto f = fs_.Open(path, OpenMode::kCreate);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Write(0, "hello").ok());
  ASSERT_TRUE((*f)->Append(" world").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(*(*f)->Size(), 11u);
  char buf[32];
  EXPECT_EQ(*(*f)->Read(6, buf, sizeof(buf)), 5u);
  EXPECT_EQ(std::string(buf, 5), "world");
  EXPECT_EQ(*fs_.FileSize(path), 11u);
  EXPECT_EQ(*ReadFileToString(fs_, path), "hello world");
}

TEST_F(PosixFileSystemTest, AllocateGrowsWithZerosAndTruncateShrinks) {
  auto f = fs_.Open(JoinPath(dir_, "a"), OpenMode::kCreate);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Write(0, "abc").ok());
  ASSERT_TRUE((*f)->Allocate(0, 4096).ok());
  EXPECT_EQ(*(*f)->Size(), 4096u);
  EXPECT_EQ(*ReadFileToString(fs_, JoinPath(dir_, "a")), "abc" + std::string(4093, '\0'));
  ASSERT_TRUE((*f)->Truncate(2).ok());
  EXPECT_EQ(*(*f)->Size(), 2u);
}

TEST_F(PosixFileSystemTest, RenamesListsAndRemoves) {
  ASSERT_TRUE(fs_.CreateDirs(JoinPath(dir_, "x/y")).ok());
  ASSERT_TRUE(fs_.Open(JoinPath(dir_, "t"), OpenMode::kCreate).ok());
  ASSERT_TRUE(fs_.Rename(JoinPath(dir_, "t"), JoinPath(dir_, "u")).ok());
  ASSERT_TRUE(fs_.SyncDir(dir_).ok());
  EXPECT_EQ(*fs_.List(dir_), (std::vector<std::string>{"u", "x"}));
  ASSERT_TRUE(fs_.Remove(JoinPath(dir_, "u")).ok());
  EXPECT_FALSE(fs_.Exists(JoinPath(dir_, "u")));
  EXPECT_EQ(fs_.Open(JoinPath(dir_, "u"), OpenMode::kRead).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.Open(JoinPath(dir_, "x"), OpenMode::kCreateExclusive).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_F(PosixFileSystemTest, SecondLockerInThisProcessIsToldThePid) {
  auto first = fs_.LockDir(dir_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = fs_.LockDir(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            "data directory " + dir_ + " is in use by pid " + std::to_string(::getpid()));
  first.value().reset();
  EXPECT_TRUE(fs_.LockDir(dir_).ok());
}

TEST_F(PosixFileSystemTest, LockHeldByAnotherProcessNamesThatProcess) {
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = PosixFileSystem::Instance().LockDir(dir_);
    char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto mine = fs_.LockDir(dir_);
  ASSERT_FALSE(mine.ok());
  EXPECT_EQ(mine.status().message(),
            "data directory " + dir_ + " is in use by pid " + std::to_string(child));
  ASSERT_EQ(::write(release[1], &c, 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(fs_.LockDir(dir_).ok());
  for (int fd : {ready[0], ready[1], release[0], release[1]})
    ::close(fd);
}

}  // namespace
}  // namespace tri::io
