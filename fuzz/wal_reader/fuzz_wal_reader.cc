// Arbitrary bytes as one to three WAL segment files, through the scanner,
// `tri wal check`/`dump` and recovery (Wal::Open, then reading every entry).
// Any of them may return an error; none may crash, hang or leak.
//
// Input: byte 0 picks the segment count (1 + b % 3); then, for every segment but
// the last, a little-endian u16 length; the rest is split in that order. A chunk
// that starts with a valid segment-header record is named after it, so the fuzzer
// can reach past the name check.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "wal/inspect.h"
#include "wal/log_scanner.h"
#include "wal/wal.h"

namespace {

constexpr const char* kDir = "/wal";

std::string NameFor(std::string_view chunk, std::uint64_t position) {
  auto scan =
      tri::wal::ScanSegment(chunk.substr(0, std::min<std::size_t>(chunk.size(), 41)), "x", true);
  if (scan.ok() && !scan->records.empty() &&
      scan->records[0].type == tri::wal::RecordType::kSegmentHeader) {
    auto header = tri::wal::DecodeSegmentHeader(scan->records[0].payload);
    if (header.ok()) return tri::wal::SegmentFileName(header->seq, header->first_index);
  }
  return tri::wal::SegmentFileName(position + 1, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t count = 1 + static_cast<std::uint8_t>(input[0]) % 3;
  input.remove_prefix(1);
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (input.size() < 2) break;
    const std::size_t length = static_cast<std::uint8_t>(input[0]) |
                               (static_cast<std::size_t>(static_cast<std::uint8_t>(input[1])) << 8);
    input.remove_prefix(2);
    const std::size_t take = std::min(length, input.size());
    chunks.push_back(input.substr(0, take));
    input.remove_prefix(take);
  }
  chunks.push_back(input);

  for (std::string_view chunk : chunks) {
    (void)tri::wal::ScanSegment(chunk, "x", true);
    (void)tri::wal::ScanSegment(chunk, "x", false);
  }

  tri::SeededRng rng(1);
  tri::io::SimFileSystem fs(rng);
  if (!fs.CreateDirs(kDir).ok()) return 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto file = fs.Open(tri::io::JoinPath(kDir, NameFor(chunks[i], i)), tri::io::OpenMode::kCreate);
    if (!file.ok()) continue;
    (void)(*file)->Write(0, chunks[i]);
  }

  std::ostringstream sink;
  (void)tri::wal::RunWalCheck(fs, kDir, sink);
  (void)tri::wal::RunWalDump(fs, kDir, 0, sink);

  auto wal = tri::wal::Wal::Open(fs, kDir, {.segment_size_bytes = 4096});
  if (wal.ok()) {
    auto& log = **wal;
    if (log.LastIndex() >= log.FirstIndex()) (void)log.Read(log.FirstIndex(), log.LastIndex() + 1);
    const tri::wal::Entry next{log.LastIndex() + 1, 1u << 30, "after recovery"};
    (void)log.AppendAndSync(std::span<const tri::wal::Entry>(&next, 1));
  }
  return 0;
}
