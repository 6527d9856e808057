#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/file_system.h"
#include "wal/format.h"

namespace tri::wal::testing {

// Deterministic payload for (index, term): a test can tell a right entry from a
// stale or invented one.
inline std::string PayloadFor(std::uint64_t index, std::uint64_t term, std::size_t size) {
  std::string data(size, '\0');
  std::uint64_t x = index * 0x9E3779B97F4A7C15ull ^ term * 0xC2B2AE3D27D4EB4Full;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    data[i] = static_cast<char>('a' + (x >> 59));
  }
  return data;
}

inline Entry MakeEntry(std::uint64_t index, std::uint64_t term, std::size_t size = 32) {
  return Entry{index, term, PayloadFor(index, term, size)};
}

inline std::vector<Entry> MakeEntries(std::uint64_t first, std::uint64_t count, std::uint64_t term,
                                      std::size_t size = 32) {
  std::vector<Entry> out;
  for (std::uint64_t i = 0; i < count; ++i)
    out.push_back(MakeEntry(first + i, term, size));
  return out;
}

inline std::vector<std::string> SegmentNames(io::FileSystem& fs, const std::string& dir) {
  std::vector<std::string> out;
  auto names = fs.List(dir);
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (ParseSegmentFileName(n)) out.push_back(n);
  }
  return out;
}

}  // namespace tri::wal::testing
