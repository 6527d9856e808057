#include "io/sim_file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "base/rng.h"
#include "io/forwarding_file_system.h"

namespace tri::io {
namespace {

std::unique_ptr<File> MustOpen(FileSystem& fs, const std::string& path, OpenMode mode) {
  auto file = fs.Open(path, mode);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return std::move(file).value();
}

std::string Contents(FileSystem& fs, const std::string& path) {
  auto bytes = ReadFileToString(fs, path);
  return bytes.ok() ? *bytes : "<" + bytes.status().ToString() + ">";
}

TEST(SimFileSystem, SyncedWriteSurvivesEveryCrash) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SeededRng rng(seed);
    SimFileSystem fs(rng);
    ASSERT_TRUE(fs.CreateDirs("/d").ok());
    auto f = MustOpen(fs, "/d/a", OpenMode::kCreate);
    ASSERT_TRUE(f->Write(0, "hello").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("/d").ok());
    fs.Crash();
    EXPECT_EQ(Contents(fs, "/d/a"), "hello") << "seed " << seed;
  }
}

TEST(SimFileSystem, UnsyncedWriteIsSometimesLostAndOtherwiseKeptAsASectorPrefix) {
  const std::string old_bytes(2048, 'o');
  const std::string new_bytes(2048, 'n');
  int lost = 0, kept = 0, torn = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SeededRng rng(seed);
    SimFileSystem fs(rng);
    auto f = MustOpen(fs, "/a", OpenMode::kCreate);
    ASSERT_TRUE(f->Write(0, old_bytes).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("/").ok());
    ASSERT_TRUE(f->Write(0, new_bytes).ok());
    fs.Crash();
    const std::string after = Contents(fs, "/a");
    ASSERT_EQ(after.size(), 2048u) << "seed " << seed;
    const std::size_t cut = after.find('o');
    if (cut == 0) {
      ++lost;
    } else if (cut == std::string::npos) {
      ++kept;
    } else {
      ++torn;
      EXPECT_EQ(cut % kSimSectorBytes, 0u) << "seed " << seed;
      EXPECT_EQ(after.substr(cut), std::string(2048 - cut, 'o')) << "seed " << seed;
    }
  }
  EXPECT_GT(lost, 0);
  EXPECT_GT(kept, 0);
  EXPECT_GT(torn, 0);
}

TEST(SimFileSystem, ScatteredCrashKeepsUnsyncedSectorsIndependently) {
  bool saw_hole_before_kept_sector = false;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SeededRng rng(seed);
    SimFileSystem fs(rng);
    auto f = MustOpen(fs, "/a", OpenMode::kCreate);
    ASSERT_TRUE(f->Allocate(0, 4096).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("/").ok());
    ASSERT_TRUE(f->Write(0, std::string(4096, 'n')).ok());
    fs.SetFaults({.crash_scatters_sectors = true});
    fs.Crash();
    const std::string after = Contents(fs, "/a");
    ASSERT_EQ(after.size(), 4096u);
    for (std::size_t sector = 0; sector < 8; ++sector) {
      const std::string piece = after.substr(sector * 512, 512);
      ASSERT_TRUE(piece == std::string(512, 'n') || piece == std::string(512, '\0'))
          << "seed " << seed << ": sectors survive whole or not at all";
    }
    const std::size_t first_zero = after.find('\0');
    if (first_zero != std::string::npos && after.find('n', first_zero) != std::string::npos) {
      saw_hole_before_kept_sector = true;
    }
  }
  EXPECT_TRUE(saw_hole_before_kept_sector);
}

TEST(SimFileSystem, CreatedFileWithoutDirSyncMayVanishButWithDirSyncNeverDoes) {
  int vanished = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    SeededRng rng(seed);
    SimFileSystem fs(rng);
    auto unsynced = MustOpen(fs, "/u", OpenMode::kCreate);
    ASSERT_TRUE(unsynced->Write(0, "x").ok());
    ASSERT_TRUE(unsynced->Sync().ok());
    auto synced = MustOpen(fs, "/s", OpenMode::kCreate);
    ASSERT_TRUE(synced->Write(0, "y").ok());
    ASSERT_TRUE(synced->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("/").ok());  // covers both: the journal is ordered
    auto late = MustOpen(fs, "/late", OpenMode::kCreate);
    ASSERT_TRUE(late->Sync().ok());
    fs.Crash();
    EXPECT_TRUE(fs.Exists("/s")) << "seed " << seed;
    EXPECT_TRUE(fs.Exists("/u")) << "seed " << seed;
    if (!fs.Exists("/late")) ++vanished;
  }
  EXPECT_GT(vanished, 0);
}

TEST(SimFileSystem, RenameIsAtomicAcrossACrash) {
  int renamed = 0, reverted = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    SeededRng rng(seed);
    SimFileSystem fs(rng);
    ASSERT_TRUE(fs.CreateDirs("/d").ok());
    auto f = MustOpen(fs, "/d/tmp", OpenMode::kCreate);
    ASSERT_TRUE(f->Write(0, "body").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("/d").ok());
    ASSERT_TRUE(fs.Rename("/d/tmp", "/d/final").ok());
    fs.Crash();
    const bool has_tmp = fs.Exists("/d/tmp");
    const bool has_final = fs.Exists("/d/final");
    ASSERT_NE(has_tmp, has_final) << "seed " << seed;
    (has_final ? renamed : reverted)++;
    EXPECT_EQ(Contents(fs, has_final ? "/d/final" : "/d/tmp"), "body");
  }
  EXPECT_GT(renamed, 0);
  EXPECT_GT(reverted, 0);
}

TEST(SimFileSystem, RenameFollowedByDirSyncIsDurable) {
  SeededRng rng(7);
  SimFileSystem fs(rng);
  auto f = MustOpen(fs, "/tmp1", OpenMode::kCreate);
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(fs.Rename("/tmp1", "/final").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  fs.Crash();
  EXPECT_TRUE(fs.Exists("/final"));
  EXPECT_FALSE(fs.Exists("/tmp1"));
}

TEST(SimFileSystem, SameSeedReplaysTheSameCrashOutcome) {
  auto run = [](std::uint64_t seed) {
    SeededRng rng(seed);
    SimFileSystem fs(rng);
    auto f = MustOpen(fs, "/a", OpenMode::kCreate);
    for (int i = 0; i < 10; ++i)
      EXPECT_TRUE(f->Append(std::string(700, static_cast<char>('a' + i))).ok());
    fs.Crash();
    return Contents(fs, "/a");
  };
  for (std::uint64_t seed = 0; seed < 20; ++seed)
    EXPECT_EQ(run(seed), run(seed)) << "seed " << seed;
}

TEST(SimFileSystem, HandlesFromBeforeACrashFail) {
  SeededRng rng(1);
  SimFileSystem fs(rng);
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  fs.Crash();
  EXPECT_FALSE(f->Write(0, "x").ok());
  EXPECT_FALSE(f->Sync().ok());
}

TEST(SimFileSystem, InjectsWriteAndSyncErrors) {
  SeededRng rng(3);
  SimFileSystem fs(rng);
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  fs.SetFaults({.write_error_probability = 1.0});
  Status st = f->Write(0, "x");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("EIO"), std::string::npos);
  fs.SetFaults({.sync_error_probability = 1.0});
  EXPECT_EQ(f->Sync().code(), StatusCode::kIoError);
  EXPECT_EQ(fs.SyncDir("/").code(), StatusCode::kIoError);
}

TEST(SimFileSystem, FullDiskFailsGrowthWithNoSpace) {
  SeededRng rng(3);
  SimFileSystem fs(rng);
  fs.SetFaults({.capacity_bytes = 100});
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  EXPECT_TRUE(f->Write(0, std::string(100, 'x')).ok());
  EXPECT_EQ(f->Write(100, "y").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(f->Allocate(0, 200).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(f->Write(0, "overwrite in place needs no space").ok());
}

TEST(SimFileSystem, ShortWriteLandsAPrefixThenFails) {
  SeededRng rng(11);
  SimFileSystem fs(rng);
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  fs.SetFaults({.short_write_probability = 1.0});
  const Status st = f->Write(0, std::string(1000, 'z'));
  ASSERT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("short write"), std::string::npos);
  EXPECT_LT(*f->Size(), 1000u);
}

TEST(SimFileSystem, BitFlipOnReadChangesReturnedDataButNotTheFile) {
  SeededRng rng(5);
  SimFileSystem fs(rng);
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  const std::string data(64, '\0');
  ASSERT_TRUE(f->Write(0, data).ok());
  fs.SetFaults({.read_bit_flip_probability = 1.0});
  std::string buf(64, '\0');
  ASSERT_EQ(*f->Read(0, buf.data(), buf.size()), 64u);
  EXPECT_NE(buf, data);
  fs.SetFaults({});
  ASSERT_EQ(*f->Read(0, buf.data(), buf.size()), 64u);
  EXPECT_EQ(buf, data);
}

TEST(SimFileSystem, SecondLockerOfADirectoryIsToldWhoHoldsIt) {
  SeededRng rng(5);
  SimFileSystem fs(rng);
  ASSERT_TRUE(fs.CreateDirs("/data").ok());
  auto first = fs.LockDir("/data");
  ASSERT_TRUE(first.ok());
  auto second = fs.LockDir("/data");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            "data directory /data is in use by pid " + std::to_string(::getpid()));
  first.value().reset();
  EXPECT_TRUE(fs.LockDir("/data").ok());
}

TEST(SimFileSystem, CrashReleasesLocks) {
  SeededRng rng(5);
  SimFileSystem fs(rng);
  auto lock = fs.LockDir("/");
  ASSERT_TRUE(lock.ok());
  fs.Crash();
  EXPECT_TRUE(fs.LockDir("/").ok());
}

TEST(SimFileSystem, ListShowsCurrentNamesSorted) {
  SeededRng rng(5);
  SimFileSystem fs(rng);
  ASSERT_TRUE(fs.CreateDirs("/d/sub").ok());
  MustOpen(fs, "/d/b", OpenMode::kCreate);
  MustOpen(fs, "/d/a", OpenMode::kCreate);
  ASSERT_TRUE(fs.Remove("/d/b").ok());
  auto names = fs.List("/d");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "sub"}));
  EXPECT_EQ(fs.Open("/d/a", OpenMode::kCreateExclusive).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(fs.Open("/d/zz", OpenMode::kRead).status().code(), StatusCode::kNotFound);
}

TEST(SimFileSystem, AllocateAndTruncateReadAsZeros) {
  SeededRng rng(5);
  SimFileSystem fs(rng);
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  ASSERT_TRUE(f->Write(0, "abc").ok());
  ASSERT_TRUE(f->Allocate(0, 10).ok());
  EXPECT_EQ(Contents(fs, "/a"), std::string("abc") + std::string(7, '\0'));
  ASSERT_TRUE(f->Truncate(1).ok());
  ASSERT_TRUE(f->Truncate(4).ok());
  EXPECT_EQ(Contents(fs, "/a"), std::string("a") + std::string(3, '\0'));
}

// ForwardingFileSystem: override one call, everything else reaches the base.
class FailingDirSync final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  Status SyncDir(const std::string& dir) override { return IoError("no dir sync for " + dir); }
};

TEST(ForwardingFileSystem, OverridesOneCallAndForwardsTheRest) {
  SeededRng rng(1);
  SimFileSystem sim(rng);
  FailingDirSync fs(sim);
  auto f = MustOpen(fs, "/a", OpenMode::kCreate);
  ASSERT_TRUE(f->Write(0, "abc").ok());
  ASSERT_TRUE(f->Sync().ok());
  EXPECT_EQ(Contents(sim, "/a"), "abc");
  EXPECT_EQ(fs.SyncDir("/").code(), StatusCode::kIoError);
  EXPECT_TRUE(fs.Exists("/a"));
  EXPECT_EQ(*fs.List("/"), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace tri::io
