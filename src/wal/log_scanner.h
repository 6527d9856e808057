#pragma once

// Reading a WAL directory back: the one place that decides what is a clean end,
// what is a torn tail (forgiven) and what is corruption (refused). Used by
// recovery (Wal::Open), by `tri wal check|dump`, and by the fuzz target.
//
// Rules:
// - A segment's data ends at an all-zero record header followed only by zeros.
// - An invalid record (short header, length past the end, unknown type, checksum
//   mismatch, non-zero bytes after the end marker) in the LAST segment is a torn
//   tail unless a sync mark (a record stating "everything before offset M was
//   synced"), found before it or in valid records after it, covers its offset.
//   Anywhere in an earlier segment (sealed, hence synced) it is corruption.
// - Valid records must also make sense: the segment header matches the file name,
//   entry indexes are consecutive across segments, terms never decrease.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "io/file_system.h"
#include "wal/format.h"

namespace tri::wal {

struct SegmentScan {
  std::vector<RecordView> records;  // valid records, in order
  std::uint64_t end_offset = 0;     // just past the last valid record
  bool torn_tail = false;           // invalid bytes at end_offset forgiven as a torn write
  std::string tail_problem;         // what was wrong at end_offset when torn_tail
};

// Scans one segment's bytes. Corruption errors read "<file_name> at offset <N>: <what>".
Result<SegmentScan> ScanSegment(std::string_view bytes, std::string_view file_name, bool is_last);

struct SegmentInfo {
  std::string name;
  SegmentHeader header;
  std::uint64_t file_bytes = 0;
  std::uint64_t end_offset = 0;
  bool torn_tail = false;
  std::string tail_problem;
  std::uint64_t entry_count = 0;
  std::uint64_t hard_state_count = 0;
};

struct EntryLocation {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;
  std::uint32_t record_bytes = 0;
  std::uint64_t term = 0;
};

struct LogScan {
  std::vector<SegmentInfo> segments;      // live segments, oldest first
  std::vector<std::string> obsolete;      // segments superseded by a log reset
  std::optional<std::string> empty_last;  // a last segment with no header (crash while creating)
  std::vector<EntryLocation> locations;   // entry first_index + i at locations[i]
  std::uint64_t first_index = 1;
  std::uint64_t last_index = 0;  // first_index - 1 when there are no entries
  std::uint64_t last_term = 0;
  std::optional<HardState> hard_state;  // the newest one
  std::string hard_state_segment;       // the segment it was read from
};

// Called during ScanLog for everything found, in order (for `tri wal dump`).
class LogVisitor {
 public:
  virtual ~LogVisitor() = default;
  virtual void OnSegment(const SegmentInfo& segment) {}
  virtual void OnEntry(const SegmentInfo& segment, std::uint64_t offset, const Entry& entry) {}
  virtual void OnHardState(const SegmentInfo& segment, std::uint64_t offset,
                           const HardState& state) {}
};

// Scans every segment in `dir` (files that are not segment names are ignored).
// Read-only: it reports torn tails, obsolete and empty segments; Wal::Open repairs them.
// `fresh_first_index` is the first index of a log with no segments.
Result<LogScan> ScanLog(io::FileSystem& fs, const std::string& dir,
                        std::uint64_t fresh_first_index = 1, LogVisitor* visitor = nullptr);

}  // namespace tri::wal
