#pragma once

// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the
// checksum of the WAL and snapshot formats. Uses the SSE4.2 `crc32`
// instruction when the CPU has it and a table-driven fallback otherwise; both
// paths are exposed so tests can check each against published values.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tri::crc32c {

// Extends `crc` (the CRC32C of some prefix; 0 for the empty prefix) with
// `size` bytes at `data`. Extend(Extend(0, a), b) == Value(a + b).
std::uint32_t Extend(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t Value(const void* data, std::size_t size) {
  return Extend(0, data, size);
}
inline std::uint32_t Value(std::string_view bytes) {
  return Extend(0, bytes.data(), bytes.size());
}

// The two implementations behind Extend.
std::uint32_t ExtendPortable(std::uint32_t crc, const void* data, std::size_t size);
// REQUIRES: HardwareAvailable().
std::uint32_t ExtendHardware(std::uint32_t crc, const void* data, std::size_t size);
// True when this CPU has the SSE4.2 crc32 instruction.
bool HardwareAvailable();

}  // namespace tri::crc32c
