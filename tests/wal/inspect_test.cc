#include "wal/inspect.h"

#include <gtest/gtest.h>

#include <sstream>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "wal/log_scanner.h"
#include "wal/wal.h"
#include "wal/wal_test_util.h"

namespace tri::wal {
namespace {

constexpr const char* kDir = "/wal";

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto wal = Wal::Open(fs_, kDir, {.segment_size_bytes = 4096});
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE(
        (*wal)->AppendAndSync(testing::MakeEntries(1, 40, 2, 100), HardState{2, 1, 39}).ok());
  }
  SeededRng rng_{1};
  io::SimFileSystem fs_{rng_};
};

TEST_F(InspectTest, CheckOfAnIntactLogListsSegmentsAndSaysOk) {
  std::ostringstream out;
  EXPECT_EQ(RunWalCheck(fs_, kDir, out), kInspectOk);
  const std::string text = out.str();
  EXPECT_NE(
      text.find("0000000000000001-0000000000000001.wal version=2 seq=1 first_index=1 entries=32"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("entries: [1, 40], last term 2"), std::string::npos) << text;
  EXPECT_NE(text.find("hard state: term=2 vote=1 commit=39"), std::string::npos) << text;
  EXPECT_NE(text.find("\nOK\n"), std::string::npos) << text;
}

TEST_F(InspectTest, CheckReportsATornTailButStillSucceeds) {
  auto scan = ScanLog(fs_, kDir);
  const SegmentInfo& last = scan->segments.back();
  auto f = fs_.Open(io::JoinPath(kDir, last.name), io::OpenMode::kReadWrite);
  ASSERT_TRUE((*f)->Write(last.end_offset - 10, std::string(10, '\0')).ok());
  std::ostringstream out;
  EXPECT_EQ(RunWalCheck(fs_, kDir, out), kInspectOk);
  EXPECT_NE(out.str().find("torn tail: " + last.name + " at offset"), std::string::npos)
      << out.str();
}

TEST_F(InspectTest, CheckOfACorruptLogNamesFileAndOffsetAndFails) {
  auto scan = ScanLog(fs_, kDir);
  const EntryLocation& loc = scan->locations[9];
  const std::string name = scan->segments.front().name;
  ASSERT_TRUE(fs_.CorruptByte(io::JoinPath(kDir, name), loc.offset + 20, 0x08).ok());
  std::ostringstream out;
  EXPECT_EQ(RunWalCheck(fs_, kDir, out), kInspectCorrupt);
  EXPECT_NE(out.str().find("CORRUPT: " + name + " at offset " + std::to_string(loc.offset) +
                           ": checksum mismatch"),
            std::string::npos)
      << out.str();
}

TEST_F(InspectTest, DumpPrintsRecordsFromTheGivenIndex) {
  std::ostringstream out;
  EXPECT_EQ(RunWalDump(fs_, kDir, 39, out), kInspectOk);
  const std::string text = out.str();
  EXPECT_EQ(text.find("entry index=38 "), std::string::npos) << text;
  EXPECT_NE(text.find("entry index=39 term=2 type=0 bytes=100 data=\""), std::string::npos) << text;
  EXPECT_NE(text.find("entry index=40 "), std::string::npos) << text;
  EXPECT_NE(text.find("hard-state term=2 vote=1 commit=39"), std::string::npos) << text;
  EXPECT_NE(text.find("segment 0000000000000002-0000000000000021.wal"), std::string::npos) << text;
}

TEST_F(InspectTest, MissingDirectoryIsUnreadable) {
  std::ostringstream out;
  EXPECT_EQ(RunWalCheck(fs_, "/nope", out), kInspectUnreadable);
  EXPECT_EQ(RunWalDump(fs_, "/nope", 0, out), kInspectUnreadable);
}

}  // namespace
}  // namespace tri::wal
