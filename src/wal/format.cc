#include "wal/format.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

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

void PutU32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}

void PutU64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

std::uint32_t GetU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

std::uint64_t GetU64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

namespace {

// Writes the header for a payload already appended at out[start + 9 ...].
void FinishRecord(std::string& out, std::size_t start, RecordType type) {
  const std::size_t payload_bytes = out.size() - start - kRecordHeaderBytes;
  const char type_byte = static_cast<char>(type);
  out[start + 8] = type_byte;
  const std::uint32_t crc = crc32c::Extend(crc32c::Value(&type_byte, 1),
                                           out.data() + start + kRecordHeaderBytes, payload_bytes);
  std::string header;
  PutU32(header, static_cast<std::uint32_t>(payload_bytes));
  PutU32(header, crc);
  std::memcpy(out.data() + start, header.data(), 8);
}

}  // namespace

void AppendRecord(std::string& out, RecordType type, std::string_view payload) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  out.append(payload);
  FinishRecord(out, start, type);
}

void AppendEntryRecord(std::string& out, const Entry& entry) {
  const std::size_t start = out.size();
  out.reserve(start + EntryRecordBytes(entry.data.size()));
  out.append(kRecordHeaderBytes, '\0');
  PutU64(out, entry.index);
  PutU64(out, entry.term);
  out.append(entry.data);
  FinishRecord(out, start, RecordType::kEntry);
}

void AppendHardStateRecord(std::string& out, const HardState& state) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  PutU64(out, state.term);
  PutU64(out, state.vote);
  PutU64(out, state.commit);
  FinishRecord(out, start, RecordType::kHardState);
}

void AppendSegmentHeaderRecord(std::string& out, const SegmentHeader& header) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  out.append(kSegmentMagic);
  PutU32(out, kWalFormatVersion);
  PutU32(out, header.flags);
  PutU64(out, header.seq);
  PutU64(out, header.first_index);
  FinishRecord(out, start, RecordType::kSegmentHeader);
}

void AppendSyncMarkRecord(std::string& out, std::uint64_t durable_offset) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  PutU64(out, durable_offset);
  FinishRecord(out, start, RecordType::kSyncMark);
}

Result<std::uint64_t> DecodeSyncMark(std::string_view payload) {
  if (payload.size() != kSyncMarkPayloadBytes) {
    return Corruption("sync-mark payload has " + std::to_string(payload.size()) +
                      " bytes, expected 8");
  }
  return GetU64(payload.data());
}

Result<Entry> DecodeEntry(std::string_view payload) {
  if (payload.size() < kEntryPayloadFixedBytes) {
    return Corruption("entry payload of " + std::to_string(payload.size()) +
                      " bytes is shorter than its 16-byte index and term");
  }
  Entry e;
  e.index = GetU64(payload.data());
  e.term = GetU64(payload.data() + 8);
  e.data.assign(payload.substr(kEntryPayloadFixedBytes));
  return e;
}

Result<HardState> DecodeHardState(std::string_view payload) {
  if (payload.size() != kHardStatePayloadBytes) {
    return Corruption("hard-state payload has " + std::to_string(payload.size()) +
                      " bytes, expected 24");
  }
  return HardState{GetU64(payload.data()), GetU64(payload.data() + 8), GetU64(payload.data() + 16)};
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view payload) {
  if (payload.size() != kSegmentHeaderPayloadBytes) {
    return Corruption("segment-header payload has " + std::to_string(payload.size()) +
                      " bytes, expected 32");
  }
  if (payload.substr(0, 8) != kSegmentMagic) return Corruption("segment header has a bad magic");
  const std::uint32_t version = GetU32(payload.data() + 8);
  if (version != kWalFormatVersion) {
    return Corruption("segment format version " + std::to_string(version) +
                      " is not supported (this build reads version " +
                      std::to_string(kWalFormatVersion) + ")");
  }
  SegmentHeader h;
  h.flags = GetU32(payload.data() + 12);
  h.seq = GetU64(payload.data() + 16);
  h.first_index = GetU64(payload.data() + 24);
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
