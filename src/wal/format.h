#pragma once

// The on-disk format of the write-ahead log (documented with tables in
// docs/storage.md; keep the two in step and bump kWalFormatVersion on change).
//
// A record:   length u32 | crc32c u32 | type u8 | payload (length bytes)
//   little endian; crc32c covers type and payload. An all-zero header marks the
//   end of data in a preallocated segment (a real record never has crc 0 with type 0).
// A segment:  file "<seq:016x>-<first_index:016x>.wal", preallocated (zeros),
//   starting with a kSegmentHeader record; then kEntry and kHardState records.
// Versions: the segment header's version says how its entry records are laid out.
//   v1: entry payload = index u64 | term u64 | data
//   v2: entry payload = index u64 | term u64 | type u8 | data
//   This build writes v2 and reads both (a v1 entry reads as type 0); a log recovered
//   with a v1 tail segment rolls to a new v2 segment before appending.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tri::wal {

inline constexpr std::uint32_t kWalFormatVersion = 2;
inline constexpr std::uint32_t kOldestWalFormatVersion = 1;  // the oldest version read
inline constexpr std::size_t kRecordHeaderBytes = 9;
inline constexpr std::string_view kSegmentMagic = "TRIWALSG";
inline constexpr std::string_view kSegmentSuffix = ".wal";

enum class RecordType : std::uint8_t {
  kSegmentHeader = 1,
  kEntry = 2,
  kHardState = 3,
  kSyncMark = 4,
};
bool IsKnownRecordType(std::uint8_t type);
std::string_view RecordTypeName(std::uint8_t type);

// One Raft log entry: index and term, opaque bytes, and an opaque type byte (the
// Raft storage adapter stores raft::EntryType there: 0 normal, 1 conf change).
struct Entry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string data;
  std::uint8_t type = 0;
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Raft's hard state: current term, vote (0 = none) and commit index.
struct HardState {
  std::uint64_t term = 0;
  std::uint64_t vote = 0;
  std::uint64_t commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
};

// Segment header flags.
inline constexpr std::uint32_t kSegmentFlagLogReset = 1;  // every older segment is obsolete
// Entries >= this segment's first index in older segments are void (a suffix
// truncation, made atomic by the creation of this segment).
inline constexpr std::uint32_t kSegmentFlagTruncate = 2;

struct SegmentHeader {
  std::uint64_t seq = 0;
  std::uint64_t first_index = 0;
  std::uint32_t flags = 0;
  std::uint32_t version = kWalFormatVersion;  // the layout of this segment's entry records
  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

inline constexpr std::size_t kSegmentHeaderPayloadBytes = 8 + 4 + 4 + 8 + 8;
inline constexpr std::size_t kEntryPayloadFixedBytes = 17;    // v2: index, term, type
inline constexpr std::size_t kEntryPayloadFixedBytesV1 = 16;  // v1: index, term
inline constexpr std::size_t kHardStatePayloadBytes = 24;
inline constexpr std::size_t kSyncMarkPayloadBytes = 8;

// Appends one framed record to `out`.
void AppendRecord(std::string& out, RecordType type, std::string_view payload);
// `version` is the segment's format version (tests write v1 segments with it).
void AppendEntryRecord(std::string& out, const Entry& entry,
                       std::uint32_t version = kWalFormatVersion);
void AppendHardStateRecord(std::string& out, const HardState& state);
// Writes header.version (kWalFormatVersion unless a test writes an old segment).
void AppendSegmentHeaderRecord(std::string& out, const SegmentHeader& header);
// A sync mark states that every byte of its segment before `durable_offset` had
// been fdatasynced when the mark was written. Recovery refuses damage below the
// newest mark instead of taking it for a torn tail.
void AppendSyncMarkRecord(std::string& out, std::uint64_t durable_offset);

inline std::size_t EntryRecordBytes(std::size_t data_bytes) {
  return kRecordHeaderBytes + kEntryPayloadFixedBytes + data_bytes;
}

// Payload decoders; the error says what is wrong with the payload.
// `version` is the format version of the segment holding the record.
Result<Entry> DecodeEntry(std::string_view payload, std::uint32_t version);
Result<HardState> DecodeHardState(std::string_view payload);
Result<SegmentHeader> DecodeSegmentHeader(std::string_view payload);
Result<std::uint64_t> DecodeSyncMark(std::string_view payload);

std::string SegmentFileName(std::uint64_t seq, std::uint64_t first_index);
// Parses a name made by SegmentFileName; nullopt for any other name.
std::optional<SegmentHeader> ParseSegmentFileName(std::string_view name);

// Segment and snapshot files are named "%016x-%016x<suffix>" (lowercase hex):
// parses such a name into its two numbers; false for any other name.
bool ParseHexPairFileName(std::string_view name, std::string_view suffix, std::uint64_t* first,
                          std::uint64_t* second);

// One framed record found in a byte string.
struct RecordView {
  RecordType type;
  std::uint64_t offset = 0;  // of the record header within the bytes scanned
  std::string_view payload;
};

enum class RecordCheck {
  kValid,       // *record is filled in
  kZeroHeader,  // an all-zero (or all-zero short) header: end of data if only zeros follow
  kInvalid,     // *problem says what is wrong
};

// The one record verifier, used by the log scanner (recovery, `tri wal`) and by
// Wal::Read: checks the record starting at bytes[offset] (header in bounds, known
// type, length in bounds, CRC32C over type and payload).
// REQUIRES: offset < bytes.size().
RecordCheck CheckRecordAt(std::string_view bytes, std::uint64_t offset, RecordView* record,
                          std::string* problem);

}  // namespace tri::wal
