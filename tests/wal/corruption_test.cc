// The ways a log can be damaged, one test each (after LevelDB's log_test.cc):
// what is forgiven as a torn tail, and what is refused, with file and offset.
#include <gtest/gtest.h>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "wal/log_scanner.h"
#include "wal/wal.h"
#include "wal/wal_test_util.h"

namespace tri::wal {
namespace {

using testing::MakeEntries;
using testing::MakeEntry;
using testing::SegmentNames;

constexpr const char* kDir = "/wal";
constexpr WalOptions kOptions{.segment_size_bytes = 4096};

class WalCorruptionTest : public ::testing::Test {
 protected:
  // 81 entries of 100 bytes in two batches: three segments (32 entries fill one).
  void SetUp() override {
    auto wal = Wal::Open(fs_, kDir, kOptions);
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->AppendAndSync(MakeEntries(1, 80, 1, 100), HardState{1, 1, 1}).ok());
    // A second batch: it starts with a sync mark covering everything above.
    ASSERT_TRUE((*wal)->AppendAndSync(MakeEntries(81, 1, 1, 100)).ok());
    auto scan = ScanLog(fs_, kDir);
    ASSERT_TRUE(scan.ok());
    scan_ = *scan;
    ASSERT_GE(scan_.segments.size(), 3u);
  }

  std::string SegmentPath(std::uint64_t seq) {
    for (const auto& s : scan_.segments) {
      if (s.header.seq == seq) return io::JoinPath(kDir, s.name);
    }
    return "";
  }
  const EntryLocation& Loc(std::uint64_t index) { return scan_.locations[index - 1]; }
  const SegmentInfo& LastSegment() { return scan_.segments.back(); }
  std::string LastPath() { return io::JoinPath(kDir, LastSegment().name); }

  void Corrupt(std::uint64_t index, std::uint64_t byte_in_record, std::uint8_t mask = 0x40) {
    ASSERT_TRUE(
        fs_.CorruptByte(SegmentPath(Loc(index).seq), Loc(index).offset + byte_in_record, mask)
            .ok());
  }
  // Overwrites [offset, offset + n) of a file with zeros or a byte.
  void Fill(const std::string& path, std::uint64_t offset, std::uint64_t n, char byte = '\0') {
    auto f = fs_.Open(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Write(offset, std::string(n, byte)).ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }

  Status OpenStatus() {
    auto wal = Wal::Open(fs_, kDir, kOptions);
    return wal.ok() ? Status::Ok() : wal.status();
  }

  void ExpectRefused(const std::string& file, std::uint64_t offset, const std::string& what) {
    const Status st = OpenStatus();
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
    const std::string name = file.substr(file.rfind('/') + 1);
    EXPECT_NE(st.message().find(name + " at offset " + std::to_string(offset)), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find(what), std::string::npos) << st.message();
  }

  std::unique_ptr<Wal> OpenOrDie() {
    auto wal = Wal::Open(fs_, kDir, kOptions);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    return wal.ok() ? std::move(wal).value() : nullptr;
  }

  SeededRng rng_{1};
  io::SimFileSystem fs_{rng_};
  LogScan scan_;
};

TEST_F(WalCorruptionTest, IntactLogOpens) {
  auto wal = OpenOrDie();
  EXPECT_EQ(wal->LastIndex(), 81u);
  EXPECT_FALSE(wal->recovery().torn_tail);
}

TEST_F(WalCorruptionTest, ChecksumMismatchBeforeTheTailIsRefused) {
  Corrupt(30, kRecordHeaderBytes + 20);
  ExpectRefused(SegmentPath(Loc(30).seq), Loc(30).offset, "checksum mismatch in entry record");
}

TEST_F(WalCorruptionTest, BadRecordTypeBeforeTheTailIsRefused) {
  Corrupt(30, 8, 0x70);  // type 2 -> 0x72
  ExpectRefused(SegmentPath(Loc(30).seq), Loc(30).offset, "bad record type 114");
}

TEST_F(WalCorruptionTest, CorruptLengthBeforeTheTailIsRefused) {
  Corrupt(78, 2, 0x01);  // length += 65536: past the end of the segment
  ExpectRefused(SegmentPath(Loc(78).seq), Loc(78).offset, "runs past the end of the segment");
}

TEST_F(WalCorruptionTest, ShortenedLengthBeforeTheTailIsRefused) {
  Corrupt(78, 0, 0x01);  // 116 -> 117 or 115: the checksum no longer matches
  ExpectRefused(SegmentPath(Loc(78).seq), Loc(78).offset, "checksum mismatch");
}

TEST_F(WalCorruptionTest, CorruptionInTheLastRecordOfASealedSegmentIsRefused) {
  const std::uint64_t seq = Loc(1).seq;
  std::uint64_t last_in_first = 1;
  while (Loc(last_in_first + 1).seq == seq)
    ++last_in_first;
  Corrupt(last_in_first, kRecordHeaderBytes + 30);
  ExpectRefused(SegmentPath(seq), Loc(last_in_first).offset, "checksum mismatch");
}

TEST_F(WalCorruptionTest, ZeroedRecordHeaderBeforeTheTailIsRefusedNotTakenAsTheEnd) {
  Fill(SegmentPath(Loc(78).seq), Loc(78).offset, kRecordHeaderBytes);
  ExpectRefused(SegmentPath(Loc(78).seq), Loc(78).offset, "after the end-of-data marker");
}

TEST_F(WalCorruptionTest, CorruptSegmentHeaderIsRefused) {
  ASSERT_TRUE(fs_.CorruptByte(SegmentPath(2), kRecordHeaderBytes + 1, 0x01).ok());
  ExpectRefused(SegmentPath(2), 0, "checksum mismatch in segment-header record");
}

TEST_F(WalCorruptionTest, MissingMiddleSegmentIsRefused) {
  ASSERT_TRUE(fs_.Remove(SegmentPath(2)).ok());
  const Status st = OpenStatus();
  ASSERT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("a segment is missing or damaged"), std::string::npos)
      << st.message();
}

TEST_F(WalCorruptionTest, SegmentWhoseNameDisagreesWithItsHeaderIsRefused) {
  const auto named = *ParseSegmentFileName(scan_.segments[1].name);
  const std::string renamed = io::JoinPath(kDir, SegmentFileName(named.seq, named.first_index + 1));
  ASSERT_TRUE(fs_.Rename(SegmentPath(2), renamed).ok());
  ExpectRefused(renamed, 0, "does not match the file name");
}

TEST_F(WalCorruptionTest, TruncatedTrailingRecordIsATornTailAndIsRepaired) {
  const std::uint64_t offset = Loc(81).offset;
  Fill(LastPath(), offset + 40, 4096 - offset - 40);  // the record's end never reached disk
  {
    auto wal = OpenOrDie();
    EXPECT_TRUE(wal->recovery().torn_tail);
    EXPECT_EQ(wal->recovery().tail_offset, offset);
    EXPECT_NE(wal->recovery().tail_problem.find("checksum mismatch"), std::string::npos);
    EXPECT_EQ(wal->LastIndex(), 80u);
    ASSERT_TRUE(wal->AppendAndSync(MakeEntries(81, 2, 2, 100)).ok());
  }
  auto wal = OpenOrDie();
  EXPECT_FALSE(wal->recovery().torn_tail);
  EXPECT_EQ(wal->LastIndex(), 82u);
  EXPECT_EQ(wal->Read(81, 82)->front(), MakeEntry(81, 2, 100));
}

TEST_F(WalCorruptionTest, PartialLastRecordHeaderIsATornTail) {
  Fill(LastPath(), Loc(81).offset + 5, 4096 - Loc(81).offset - 5);  // 5 of 9 header bytes landed
  auto wal = OpenOrDie();
  EXPECT_TRUE(wal->recovery().torn_tail);
  EXPECT_EQ(wal->LastIndex(), 80u);
}

TEST_F(WalCorruptionTest, LengthRunningPastTheEndOfTheLastSegmentIsATornTail) {
  ASSERT_TRUE(fs_.CorruptByte(LastPath(), Loc(81).offset + 3, 0x10).ok());
  auto wal = OpenOrDie();
  EXPECT_TRUE(wal->recovery().torn_tail);
  EXPECT_NE(wal->recovery().tail_problem.find("runs past the end"), std::string::npos);
  EXPECT_EQ(wal->LastIndex(), 80u);
}

TEST_F(WalCorruptionTest, DamageAfterTheNewestSyncMarkIsIndistinguishableFromATornWrite) {
  // Documented limit: nothing on disk says the newest batch was synced (its mark
  // would arrive with the next batch), so a bit flip there reads as a tear.
  ASSERT_TRUE(fs_.CorruptByte(LastPath(), Loc(81).offset + kRecordHeaderBytes + 2, 0x01).ok());
  auto wal = OpenOrDie();
  EXPECT_TRUE(wal->recovery().torn_tail);
  EXPECT_EQ(wal->LastIndex(), 80u);
}

TEST_F(WalCorruptionTest, DamageJustBelowTheNewestSyncMarkIsRefused) {
  Corrupt(80, kRecordHeaderBytes + 50);
  ExpectRefused(SegmentPath(Loc(80).seq), Loc(80).offset, "these bytes were synced (sync mark");
}

TEST_F(WalCorruptionTest, UnsyncedWritesThatReachedDiskOutOfOrderAreATornTail) {
  {
    auto wal = OpenOrDie();
    ASSERT_TRUE(wal->Append(MakeEntries(82, 14, 1, 100)).ok());  // never synced
  }
  auto scan = ScanLog(fs_, kDir);
  ASSERT_TRUE(scan.ok());
  const EntryLocation& first_unsynced = scan->locations[82 - 1];
  const EntryLocation& last_unsynced = scan->locations[95 - 1];
  ASSERT_EQ(first_unsynced.seq, last_unsynced.seq);
  // A sector in the middle never made it; the ones after it did.
  const std::uint64_t hole = (first_unsynced.offset / 512 + 1) * 512;
  ASSERT_LT(hole + 512, last_unsynced.offset);
  Fill(LastPath(), hole, 512);
  auto wal = OpenOrDie();
  EXPECT_TRUE(wal->recovery().torn_tail);
  EXPECT_GE(wal->LastIndex(), 81u);
  EXPECT_LT(wal->LastIndex(), 95u);
  const std::uint64_t last = wal->LastIndex();
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(last + 1, 1, 3)).ok());
}

TEST_F(WalCorruptionTest, GarbageAfterTheEndMarkerOfASealedSegmentIsRefused) {
  // An entry too big for the room left in the last segment seals it with room to spare.
  ASSERT_TRUE(OpenOrDie()->AppendAndSync(MakeEntries(82, 1, 1, 3000)).ok());
  auto scan = ScanLog(fs_, kDir);
  ASSERT_TRUE(scan.ok());
  scan_ = *scan;
  const SegmentInfo* sealed = nullptr;
  for (std::size_t i = 0; i + 1 < scan_.segments.size() && sealed == nullptr; ++i) {
    const SegmentInfo& s = scan_.segments[i];
    if (s.end_offset + 30 <= s.file_bytes) sealed = &s;
  }
  ASSERT_NE(sealed, nullptr) << "every sealed segment is full: change the fixture's sizes";
  Fill(SegmentPath(sealed->header.seq), sealed->end_offset + 20, 3, 'x');
  ExpectRefused(SegmentPath(sealed->header.seq), sealed->end_offset,
                "after the end-of-data marker");
}

TEST_F(WalCorruptionTest, EntryIndexGapIsRefusedEvenWithValidChecksums) {
  // Forge a valid record with index 99 in place of entry 79 (same size).
  std::string forged;
  AppendEntryRecord(forged, MakeEntry(99, 1, 100));
  ASSERT_EQ(forged.size(), Loc(79).record_bytes);
  Fill(SegmentPath(Loc(79).seq), Loc(79).offset, 0);
  auto f = fs_.Open(SegmentPath(Loc(79).seq), io::OpenMode::kReadWrite);
  ASSERT_TRUE((*f)->Write(Loc(79).offset, forged).ok());
  ExpectRefused(SegmentPath(Loc(79).seq), Loc(79).offset, "entry index 99 where 79 was expected");
}

TEST_F(WalCorruptionTest, DecreasingTermIsRefused) {
  std::string forged;
  AppendEntryRecord(forged, MakeEntry(79, 0, 100));
  auto f = fs_.Open(SegmentPath(Loc(79).seq), io::OpenMode::kReadWrite);
  ASSERT_TRUE((*f)->Write(Loc(79).offset, forged).ok());
  ExpectRefused(SegmentPath(Loc(79).seq), Loc(79).offset, "below the previous term");
}

TEST_F(WalCorruptionTest, EmptyLastSegmentFromACrashDuringCreationIsRemoved) {
  const std::string stray = io::JoinPath(kDir, SegmentFileName(LastSegment().header.seq + 1, 82));
  auto f = fs_.Open(stray, io::OpenMode::kCreate);
  ASSERT_TRUE((*f)->Allocate(0, 4096).ok());
  f->reset();
  auto wal = OpenOrDie();
  ASSERT_EQ(wal->recovery().removed_segments.size(), 1u);
  EXPECT_FALSE(fs_.Exists(stray));
  EXPECT_EQ(wal->LastIndex(), 81u);
}

TEST_F(WalCorruptionTest, BitFlipOnReadIsReportedNotReturned) {
  auto wal = OpenOrDie();
  fs_.SetFaults({.read_bit_flip_probability = 1.0});
  const auto got = wal->Read(10, 11);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  fs_.SetFaults({});
  EXPECT_EQ(wal->Read(10, 11)->front(), MakeEntry(10, 1, 100));
}

TEST(WalScanner, ArbitraryBytesAreScannedWithoutCrashing) {
  SeededRng rng(9);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng.Uniform(200), '\0');
    for (char& c : bytes)
      c = static_cast<char>(rng.Uniform(4) == 0 ? rng.Next() : 0);
    (void)ScanSegment(bytes, "x", rng.Bernoulli(0.5));
  }
}

}  // namespace
}  // namespace tri::wal
