#include "wal/format.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "wal/log_scanner.h"

namespace tri::wal {
namespace {

TEST(WalFormat, RecordIsLengthCrcTypePayloadLittleEndian) {
  std::string out;
  AppendRecord(out, RecordType::kEntry, "abc");
  ASSERT_EQ(out.size(), kRecordHeaderBytes + 3);
  EXPECT_EQ(coding::DecodeFixed32(out.data()), 3u);
  const std::string typed = std::string(1, '\x02') + "abc";
  EXPECT_EQ(coding::DecodeFixed32(out.data() + 4), crc32c::Value(typed));
  EXPECT_EQ(out[8], '\x02');
  EXPECT_EQ(out.substr(9), "abc");
}

TEST(WalFormat, SegmentNameCarriesSeqAndFirstIndexInHex) {
  EXPECT_EQ(SegmentFileName(1, 0), "0000000000000001-0000000000000000.wal");
  EXPECT_EQ(SegmentFileName(0x2a, 0x1000), "000000000000002a-0000000000001000.wal");
  auto parsed = ParseSegmentFileName("000000000000002a-0000000000001000.wal");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->seq, 0x2au);
  EXPECT_EQ(parsed->first_index, 0x1000u);
  EXPECT_FALSE(ParseSegmentFileName("000000000000002a-0000000000001000.snap"));
  EXPECT_FALSE(ParseSegmentFileName("000000000000002A-0000000000001000.wal"));
  EXPECT_FALSE(ParseSegmentFileName("LOCK"));
}

RC_GTEST_PROP(WalFormat, EntryRoundTrips,
              (std::uint64_t index, std::uint64_t term, std::string data)) {
  std::string out;
  AppendEntryRecord(out, Entry{index, term, data});
  auto scan = ScanSegment(out, "x", /*is_last=*/false);
  RC_ASSERT(scan.ok());
  RC_ASSERT(scan->records.size() == 1u);
  auto entry = DecodeEntry(scan->records[0].payload, kWalFormatVersion);
  RC_ASSERT(entry.ok());
  RC_ASSERT(*entry == (Entry{index, term, data}));
}

RC_GTEST_PROP(WalFormat, HardStateAndSegmentHeaderRoundTrip,
              (std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint32_t flags)) {
  std::string out;
  AppendHardStateRecord(out, HardState{a, b, c});
  AppendSegmentHeaderRecord(out, SegmentHeader{a, b, flags});
  auto scan = ScanSegment(out, "x", false);
  RC_ASSERT(scan.ok());
  RC_ASSERT(scan->records.size() == 2u);
  RC_ASSERT(*DecodeHardState(scan->records[0].payload) == (HardState{a, b, c}));
  RC_ASSERT(*DecodeSegmentHeader(scan->records[1].payload) == (SegmentHeader{a, b, flags}));
}

TEST(WalFormat, RejectsAnUnsupportedSegmentVersion) {
  std::string payload(kSegmentMagic);
  coding::PutFixed32(payload, kWalFormatVersion + 1);
  coding::PutFixed32(payload, 0);
  coding::PutFixed64(payload, 1);
  coding::PutFixed64(payload, 1);
  auto header = DecodeSegmentHeader(payload);
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.status().message().find("version " + std::to_string(kWalFormatVersion + 1) +
                                           " is not supported"),
            std::string::npos);
}

TEST(WalFormat, VersionOneEntriesReadAsTypeZeroAndVersionTwoKeepTheType) {
  const Entry conf_change{7, 3, "change", 1};
  std::string v2;
  AppendEntryRecord(v2, conf_change);
  auto scan = ScanSegment(v2, "test", /*is_last=*/true);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(*DecodeEntry(scan->records[0].payload, 2), conf_change);

  std::string v1;
  AppendEntryRecord(v1, conf_change, /*version=*/1);
  EXPECT_EQ(v1.size(), v2.size() - 1);  // no type byte
  scan = ScanSegment(v1, "test", /*is_last=*/true);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(*DecodeEntry(scan->records[0].payload, 1), (Entry{7, 3, "change", 0}));
}

TEST(WalFormat, SegmentHeaderCarriesItsVersion) {
  std::string out;
  AppendSegmentHeaderRecord(out, SegmentHeader{4, 9, 0, 1});
  auto scan = ScanSegment(out, "test", /*is_last=*/true);
  ASSERT_TRUE(scan.ok());
  auto header = DecodeSegmentHeader(scan->records[0].payload);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, 1u);
  EXPECT_EQ(SegmentHeader{}.version, kWalFormatVersion);
}

}  // namespace
}  // namespace tri::wal
