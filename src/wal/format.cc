#include "wal/format.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"

namespace tri::wal {

bool IsKnownRecordType(std::uint8_t type) {
  return type >= static_cast<std::uint8_t>(RecordType::kSegmentHeader) &&
         type <= static_cast<std::uint8_t>(RecordType::kSyncMark);
}

std::string_view RecordTypeName(std::uint8_t type) {
  switch (type) {
    case 1:
      return "segment-header";
    case 2:
      return "entry";
    case 3:
      return "hard-state";
    case 4:
      return "sync-mark";
    default:
      return "unknown";
  }
}

RecordCheck CheckRecordAt(std::string_view bytes, std::uint64_t offset, RecordView* record,
                          std::string* problem) {
  const std::uint64_t remaining = bytes.size() - offset;
  const char* p = bytes.data() + offset;
  const std::uint64_t header_bytes = std::min<std::uint64_t>(remaining, kRecordHeaderBytes);
  if (std::all_of(p, p + header_bytes, [](char c) { return c == 0; })) {
    return RecordCheck::kZeroHeader;
  }
  if (remaining < kRecordHeaderBytes) {
    *problem = "truncated record header (" + std::to_string(remaining) + " bytes left)";
    return RecordCheck::kInvalid;
  }
  const std::uint32_t length = coding::DecodeFixed32(p);
  const std::uint32_t stored_crc = coding::DecodeFixed32(p + 4);
  const auto type = static_cast<std::uint8_t>(p[8]);
  if (!IsKnownRecordType(type)) {
    *problem = "bad record type " + std::to_string(type);
    return RecordCheck::kInvalid;
  }
  if (length > remaining - kRecordHeaderBytes) {
    *problem = "record length " + std::to_string(length) + " runs past the end of the segment (" +
               std::to_string(remaining - kRecordHeaderBytes) + " bytes left)";
    return RecordCheck::kInvalid;
  }
  const std::uint32_t crc = crc32c::Extend(crc32c::Value(p + 8, 1), p + kRecordHeaderBytes, length);
  if (crc != stored_crc) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "checksum mismatch in %s record (stored %08x, computed %08x)",
                  std::string(RecordTypeName(type)).c_str(), stored_crc, crc);
    *problem = buf;
    return RecordCheck::kInvalid;
  }
  record->type = static_cast<RecordType>(type);
  record->offset = offset;
  record->payload = bytes.substr(offset + kRecordHeaderBytes, length);
  return RecordCheck::kValid;
}

namespace {

// Writes the header for a payload already appended at out[start + 9 ...].
void FinishRecord(std::string& out, std::size_t start, RecordType type) {
  const std::size_t payload_bytes = out.size() - start - kRecordHeaderBytes;
  const char type_byte = static_cast<char>(type);
  out[start + 8] = type_byte;
  const std::uint32_t crc = crc32c::Extend(crc32c::Value(&type_byte, 1),
                                           out.data() + start + kRecordHeaderBytes, payload_bytes);
  coding::EncodeFixed32(out.data() + start, static_cast<std::uint32_t>(payload_bytes));
  coding::EncodeFixed32(out.data() + start + 4, crc);
}

}  // namespace

void AppendRecord(std::string& out, RecordType type, std::string_view payload) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  out.append(payload);
  FinishRecord(out, start, type);
}

void AppendEntryRecord(std::string& out, const Entry& entry, std::uint32_t version) {
  const std::size_t start = out.size();
  out.reserve(start + EntryRecordBytes(entry.data.size()));
  out.append(kRecordHeaderBytes, '\0');
  coding::PutFixed64(out, entry.index);
  coding::PutFixed64(out, entry.term);
  if (version >= 2) coding::PutFixed8(out, entry.type);
  out.append(entry.data);
  FinishRecord(out, start, RecordType::kEntry);
}

void AppendHardStateRecord(std::string& out, const HardState& state) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  coding::PutFixed64(out, state.term);
  coding::PutFixed64(out, state.vote);
  coding::PutFixed64(out, state.commit);
  FinishRecord(out, start, RecordType::kHardState);
}

void AppendSegmentHeaderRecord(std::string& out, const SegmentHeader& header) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  out.append(kSegmentMagic);
  coding::PutFixed32(out, header.version);
  coding::PutFixed32(out, header.flags);
  coding::PutFixed64(out, header.seq);
  coding::PutFixed64(out, header.first_index);
  FinishRecord(out, start, RecordType::kSegmentHeader);
}

void AppendSyncMarkRecord(std::string& out, std::uint64_t durable_offset) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  coding::PutFixed64(out, durable_offset);
  FinishRecord(out, start, RecordType::kSyncMark);
}

Result<std::uint64_t> DecodeSyncMark(std::string_view payload) {
  if (payload.size() != kSyncMarkPayloadBytes) {
    return Corruption("sync-mark payload has " + std::to_string(payload.size()) +
                      " bytes, expected 8");
  }
  return coding::DecodeFixed64(payload.data());
}

Result<Entry> DecodeEntry(std::string_view payload, std::uint32_t version) {
  coding::Decoder in(payload);
  Entry e;
  if (version < 2) {
    if (!in.ReadFixed64(e.index) || !in.ReadFixed64(e.term)) {
      return Corruption("entry payload of " + std::to_string(payload.size()) +
                        " bytes is shorter than its 16-byte index and term");
    }
  } else if (!in.ReadFixed64(e.index) || !in.ReadFixed64(e.term) || !in.ReadFixed8(e.type)) {
    return Corruption("entry payload of " + std::to_string(payload.size()) +
                      " bytes is shorter than its 17-byte index, term and type");
  }
  e.data.assign(in.rest());
  return e;
}

Result<HardState> DecodeHardState(std::string_view payload) {
  coding::Decoder in(payload);
  HardState state;
  if (!in.ReadFixed64(state.term) || !in.ReadFixed64(state.vote) || !in.ReadFixed64(state.commit) ||
      !in.done()) {
    return Corruption("hard-state payload has " + std::to_string(payload.size()) +
                      " bytes, expected 24");
  }
  return state;
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view payload) {
  if (payload.size() != kSegmentHeaderPayloadBytes) {
    return Corruption("segment-header payload has " + std::to_string(payload.size()) +
                      " bytes, expected 32");
  }
  coding::Decoder in(payload);
  std::string_view magic;
  std::uint32_t version = 0;
  SegmentHeader h;
  // Cannot fail: the size was checked above.
  in.ReadBytes(kSegmentMagic.size(), magic);
  in.ReadFixed32(version);
  in.ReadFixed32(h.flags);
  in.ReadFixed64(h.seq);
  in.ReadFixed64(h.first_index);
  if (magic != kSegmentMagic) return Corruption("segment header has a bad magic");
  if (version < kOldestWalFormatVersion || version > kWalFormatVersion) {
    return Corruption("segment format version " + std::to_string(version) +
                      " is not supported (this build reads versions " +
                      std::to_string(kOldestWalFormatVersion) + " to " +
                      std::to_string(kWalFormatVersion) + ")");
  }
  h.version = version;
  return h;
}

std::string SegmentFileName(std::uint64_t seq, std::uint64_t first_index) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "-%016" PRIx64 ".wal", seq, first_index);
  return buf;
}

bool ParseHexPairFileName(std::string_view name, std::string_view suffix, std::uint64_t* first,
                          std::uint64_t* second) {
  if (name.size() != 16 + 1 + 16 + suffix.size()) return false;
  if (name[16] != '-' || name.substr(33) != suffix) return false;
  auto parse_hex = [](std::string_view s, std::uint64_t* out) {
    std::uint64_t v = 0;
    for (char c : s) {
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else
        return false;
      v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    *out = v;
    return true;
  };
  return parse_hex(name.substr(0, 16), first) && parse_hex(name.substr(17, 16), second);
}

std::optional<SegmentHeader> ParseSegmentFileName(std::string_view name) {
  SegmentHeader h;
  if (!ParseHexPairFileName(name, kSegmentSuffix, &h.seq, &h.first_index)) return std::nullopt;
  return h;
}

}  // namespace tri::wal
