#include "wal/log_scanner.h"

#include <algorithm>
#include <optional>

namespace tri::wal {
namespace {

// The offset of the first valid record starting in [from, end), if any.
std::optional<std::uint64_t> FindValidRecord(std::string_view bytes, std::uint64_t from) {
  std::uint64_t last_nonzero = bytes.size();
  while (last_nonzero > from && bytes[last_nonzero - 1] == 0)
    --last_nonzero;
  for (std::uint64_t off = from; off + kRecordHeaderBytes <= bytes.size() && off < last_nonzero;
       ++off) {
    if (!IsKnownRecordType(static_cast<std::uint8_t>(bytes[off + 8]))) continue;
    RecordView record;
    std::string problem;
    if (CheckRecordAt(bytes, off, &record, &problem) == RecordCheck::kValid) return off;
  }
  return std::nullopt;
}

// The value of a valid sync-mark record, or nullopt for other records.
std::optional<std::uint64_t> SyncMarkOf(const RecordView& record) {
  if (record.type != RecordType::kSyncMark) return std::nullopt;
  auto mark = DecodeSyncMark(record.payload);
  if (!mark.ok()) return std::nullopt;
  return *mark;
}

// The newest sync mark in the run of valid records starting at `from`.
std::uint64_t NewestSyncMarkFrom(std::string_view bytes, std::uint64_t from) {
  std::uint64_t newest = 0;
  RecordView record;
  std::string problem;
  while (from < bytes.size() &&
         CheckRecordAt(bytes, from, &record, &problem) == RecordCheck::kValid) {
    if (auto mark = SyncMarkOf(record); mark && *mark <= record.offset) {
      newest = std::max(newest, *mark);
    }
    from += kRecordHeaderBytes + record.payload.size();
  }
  return newest;
}

Status CorruptionAt(std::string_view file, std::uint64_t offset, std::string_view what) {
  return Corruption(std::string(file) + " at offset " + std::to_string(offset) + ": " +
                    std::string(what));
}

}  // namespace

Result<SegmentScan> ScanSegment(std::string_view bytes, std::string_view file_name, bool is_last) {
  SegmentScan scan;
  std::uint64_t offset = 0;
  std::uint64_t newest_mark_before = 0;
  while (offset < bytes.size()) {
    RecordView record;
    std::string problem;
    const RecordCheck parse = CheckRecordAt(bytes, offset, &record, &problem);
    if (parse == RecordCheck::kValid) {
      if (auto mark = SyncMarkOf(record)) {
        if (*mark > record.offset) {
          return CorruptionAt(file_name, offset,
                              "sync mark " + std::to_string(*mark) + " lies beyond itself");
        }
        newest_mark_before = std::max(newest_mark_before, *mark);
      }
      scan.records.push_back(record);
      offset += kRecordHeaderBytes + record.payload.size();
      continue;
    }
    if (parse == RecordCheck::kZeroHeader) {
      const auto rest = bytes.substr(offset);
      const auto nonzero = rest.find_first_not_of('\0');
      if (nonzero == std::string_view::npos) break;  // clean end of data
      problem = "non-zero bytes at offset " + std::to_string(offset + nonzero) +
                " after the end-of-data marker";
    }
    if (!is_last) return CorruptionAt(file_name, offset, problem);
    // In the last segment, damage is a torn tail unless a sync mark (before it, or
    // in valid records after it) shows these bytes had already been synced. Valid
    // records after a tear are unsynced writes that reached the disk out of order.
    std::uint64_t newest_mark = newest_mark_before;
    if (auto next = FindValidRecord(bytes, offset + 1)) {
      newest_mark = std::max(newest_mark, NewestSyncMarkFrom(bytes, *next));
    }
    if (offset < newest_mark) {
      return CorruptionAt(file_name, offset,
                          problem + "; these bytes were synced (sync mark " +
                              std::to_string(newest_mark) + "), so this is not a torn tail");
    }
    scan.torn_tail = true;
    scan.tail_problem = std::move(problem);
    break;
  }
  scan.end_offset = offset;
  return scan;
}

Result<LogScan> ScanLog(io::FileSystem& fs, const std::string& dir, std::uint64_t fresh_first_index,
                        LogVisitor* visitor) {
  TRI_ASSIGN_OR_RETURN(const std::vector<std::string> names, fs.List(dir));
  std::vector<std::pair<SegmentHeader, std::string>> files;
  for (const std::string& name : names) {
    if (auto parsed = ParseSegmentFileName(name)) files.emplace_back(*parsed, name);
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first.seq < b.first.seq; });

  LogScan log;
  log.first_index = fresh_first_index;
  log.last_index = fresh_first_index - 1;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& [named, name] = files[i];
    const bool is_last = i + 1 == files.size();
    TRI_ASSIGN_OR_RETURN(const std::string bytes,
                         io::ReadFileToString(fs, io::JoinPath(dir, name)));
    TRI_ASSIGN_OR_RETURN(const SegmentScan scan, ScanSegment(bytes, name, is_last));

    SegmentInfo info;
    info.name = name;
    info.file_bytes = bytes.size();
    info.end_offset = scan.end_offset;
    info.torn_tail = scan.torn_tail;
    info.tail_problem = scan.tail_problem;
    if (scan.records.empty()) {
      if (!is_last) return Corruption(name + " at offset 0: segment has no header record");
      log.empty_last = name;
      break;
    }
    const RecordView& first = scan.records.front();
    if (first.type != RecordType::kSegmentHeader) {
      return Corruption(name + " at offset 0: first record is a " +
                        std::string(RecordTypeName(static_cast<std::uint8_t>(first.type))) +
                        ", not a segment header");
    }
    auto header = DecodeSegmentHeader(first.payload);
    if (!header.ok()) return Corruption(name + " at offset 0: " + header.status().message());
    if (header->seq != named.seq || header->first_index != named.first_index) {
      return Corruption(name + " at offset 0: header says seq " + std::to_string(header->seq) +
                        " first index " + std::to_string(header->first_index) +
                        ", which does not match the file name");
    }
    info.header = *header;

    const bool reset = (header->flags & kSegmentFlagLogReset) != 0;
    if (log.segments.empty() || reset) {
      for (const SegmentInfo& old : log.segments)
        log.obsolete.push_back(old.name);
      log.segments.clear();
      log.locations.clear();
      log.first_index = header->first_index;
      log.last_index = header->first_index - 1;
      log.last_term = 0;
    } else if ((header->flags & kSegmentFlagTruncate) != 0) {
      if (header->first_index < log.first_index || header->first_index > log.last_index + 1) {
        return Corruption(name + " at offset 0: truncation to first index " +
                          std::to_string(header->first_index) + " is outside the log [" +
                          std::to_string(log.first_index) + ", " +
                          std::to_string(log.last_index + 1) + "]");
      }
      // Older segments that hold only voided entries are obsolete.
      while (!log.segments.empty() &&
             log.segments.back().header.first_index >= header->first_index) {
        log.obsolete.push_back(log.segments.back().name);
        log.segments.pop_back();
      }
      log.locations.resize(header->first_index - log.first_index);
      log.last_index = header->first_index - 1;
      log.last_term = log.locations.empty() ? 0 : log.locations.back().term;
    } else if (header->first_index != log.last_index + 1) {
      return Corruption(name + " at offset 0: first index " + std::to_string(header->first_index) +
                        " does not follow the previous segment's last index " +
                        std::to_string(log.last_index) + " (a segment is missing or damaged)");
    }
    if (visitor != nullptr) visitor->OnSegment(info);

    for (std::size_t r = 1; r < scan.records.size(); ++r) {
      const RecordView& rec = scan.records[r];
      const std::string where = name + " at offset " + std::to_string(rec.offset) + ": ";
      switch (rec.type) {
        case RecordType::kSegmentHeader:
          return Corruption(where + "a second segment header");
        case RecordType::kEntry: {
          auto entry = DecodeEntry(rec.payload, header->version);
          if (!entry.ok()) return Corruption(where + entry.status().message());
          if (entry->index != log.last_index + 1) {
            return Corruption(where + "entry index " + std::to_string(entry->index) + " where " +
                              std::to_string(log.last_index + 1) + " was expected");
          }
          if (entry->term < log.last_term) {
            return Corruption(where + "entry term " + std::to_string(entry->term) +
                              " is below the previous term " + std::to_string(log.last_term));
          }
          log.locations.push_back(EntryLocation{
              header->seq, rec.offset,
              static_cast<std::uint32_t>(kRecordHeaderBytes + rec.payload.size()), entry->term});
          log.last_index = entry->index;
          log.last_term = entry->term;
          ++info.entry_count;
          if (visitor != nullptr) visitor->OnEntry(info, rec.offset, *entry);
          break;
        }
        case RecordType::kSyncMark:
          break;
        case RecordType::kHardState: {
          auto state = DecodeHardState(rec.payload);
          if (!state.ok()) return Corruption(where + state.status().message());
          log.hard_state = *state;
          log.hard_state_segment = name;
          ++info.hard_state_count;
          if (visitor != nullptr) visitor->OnHardState(info, rec.offset, *state);
          break;
        }
      }
    }
    log.segments.push_back(std::move(info));
  }
  return log;
}

}  // namespace tri::wal
