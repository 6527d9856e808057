// Reading a version 1 log: its entries read as type 0, and new appends go to a
// version 2 segment, so one log may hold both versions.

#include <gtest/gtest.h>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "wal/format.h"
#include "wal/log_scanner.h"
#include "wal/wal.h"

namespace tri::wal {
namespace {

constexpr char kDir[] = "/v1log";
constexpr std::uint64_t kSegmentBytes = 4096;

// Writes a version 1 segment with entries 1..3 (term 1) and a hard state, as the
// previous build did.
void WriteVersionOneLog(io::FileSystem& fs) {
  ASSERT_TRUE(fs.CreateDirs(kDir).ok());
  std::string bytes;
  AppendSegmentHeaderRecord(bytes, SegmentHeader{1, 1, 0, /*version=*/1});
  for (std::uint64_t i = 1; i <= 3; ++i) {
    AppendEntryRecord(bytes, Entry{i, 1, "v1-" + std::to_string(i)}, /*version=*/1);
  }
  AppendHardStateRecord(bytes, HardState{1, 1, 3});
  bytes.resize(kSegmentBytes, '\0');
  auto file = fs.Open(io::JoinPath(kDir, SegmentFileName(1, 1)), io::OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Write(0, bytes).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs.SyncDir(kDir).ok());
}

TEST(WalVersions, VersionOneLogOpensAndNewEntriesGoToAVersionTwoSegment) {
  SeededRng rng(7);
  io::SimFileSystem fs(rng);
  WriteVersionOneLog(fs);
  {
    auto wal = Wal::Open(fs, kDir, {.segment_size_bytes = kSegmentBytes});
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    EXPECT_EQ((*wal)->LastIndex(), 3u);
    EXPECT_EQ((*wal)->hard_state(), (HardState{1, 1, 3}));
    const std::vector<Entry> more{{4, 2, "v2-4", 1}};
    ASSERT_TRUE((*wal)->AppendAndSync(more).ok());
  }
  auto scan = ScanLog(fs, kDir);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  ASSERT_EQ(scan->segments.size(), 2u);
  EXPECT_EQ(scan->segments[0].header.version, 1u);
  EXPECT_EQ(scan->segments[1].header.version, kWalFormatVersion);

  auto wal = Wal::Open(fs, kDir, {.segment_size_bytes = kSegmentBytes});
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  auto entries = (*wal)->Read(1, 5);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(*entries,
            (std::vector<Entry>{
                {1, 1, "v1-1", 0}, {2, 1, "v1-2", 0}, {3, 1, "v1-3", 0}, {4, 2, "v2-4", 1}}));
}

}  // namespace
}  // namespace tri::wal
