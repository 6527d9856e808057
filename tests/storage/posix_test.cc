// WalRaftStorage on the real disk (PosixFileSystem): state survives a reopen, and a
// directory locked by another open storage (flock) is refused with a clear message.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "io/posix_file_system.h"
#include "storage/wal_raft_storage.h"

namespace tri::storage {
namespace {

class WalRaftStoragePosixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "tri-storage-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    options_.wal.segment_size_bytes = 1 << 20;
    options_.bootstrap = raft::ConfState{{1, 2, 3}, {}, {}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  io::PosixFileSystem& fs_ = io::PosixFileSystem::Instance();
  std::string dir_;
  WalRaftStorageOptions options_;
};

TEST_F(WalRaftStoragePosixTest, StateSurvivesAReopenOnTheRealDisk) {
  const std::vector<raft::Entry> log{{1, 1, raft::EntryType::kNormal, "one"},
                                     {2, 1, raft::EntryType::kConfChange, "two"}};
  {
    auto s = WalRaftStorage::Open(fs_, dir_, options_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    raft::Ready ready;
    ready.entries = log;
    ready.hard_state = raft::HardState{1, 1, 2};
    ASSERT_TRUE((*s)->Persist(ready).ok());
    ASSERT_TRUE((*s)->CreateSnapshot(1, *options_.bootstrap, "state@1").ok());
  }
  auto s = WalRaftStorage::Open(fs_, dir_, options_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->FirstIndex(), 2u);
  EXPECT_EQ(*(*s)->Entries(2, 3, raft::kNoSizeLimit), std::vector<raft::Entry>{log[1]});
  EXPECT_EQ((*s)->hard_state(), (raft::HardState{1, 1, 2}));
  EXPECT_EQ((*s)->GetSnapshot()->data, "state@1");
  EXPECT_EQ((*s)->GetInitialState()->conf_state, *options_.bootstrap);
}

TEST_F(WalRaftStoragePosixTest, ADirectoryLockedByAnotherOpenStorageIsRefused) {
  auto first = WalRaftStorage::Open(fs_, dir_, options_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = WalRaftStorage::Open(fs_, dir_, options_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(
      second.status().message().find("data directory " + dir_ + " is locked by another process"),
      std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("in use by pid"), std::string::npos)
      << second.status().message();
}

}  // namespace
}  // namespace tri::storage
