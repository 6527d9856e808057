#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define TRI_CRC32C_X86 1
#endif

#include "base/assert.h"

namespace tri::crc32c {
namespace {

constexpr std::uint32_t kPolyReflected = 0x82F63B78u;

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes.
struct Tables {
  std::uint32_t t[8][256];
  constexpr Tables() : t{} {
    for (std::uint32_t b = 0; b < 256; ++b) {
      std::uint32_t crc = b;
      for (int i = 0; i < 8; ++i)
        crc = (crc >> 1) ^ ((crc & 1u) ? kPolyReflected : 0u);
      t[0][b] = crc;
    }
    for (std::uint32_t b = 0; b < 256; ++b) {
      for (int k = 1; k < 8; ++k)
        t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
    }
  }
};

constexpr Tables kTables;

std::uint64_t LoadLe64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian hosts only");
  return v;
}

#ifdef TRI_CRC32C_X86
__attribute__((target("sse4.2"))) std::uint32_t ExtendSse42(std::uint32_t crc,
                                                            const unsigned char* p, std::size_t n) {
  std::uint64_t c = ~crc;
  while (n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    c = _mm_crc32_u8(static_cast<std::uint32_t>(c), *p++);
    --n;
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, LoadLe64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = _mm_crc32_u8(static_cast<std::uint32_t>(c), *p++);
    --n;
  }
  return ~static_cast<std::uint32_t>(c);
}

bool DetectSse42() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif

}  // namespace

std::uint32_t ExtendPortable(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = ~crc;
  while (size >= 8) {
    std::uint64_t v = LoadLe64(p) ^ c;
    c = kTables.t[7][v & 0xFF] ^ kTables.t[6][(v >> 8) & 0xFF] ^ kTables.t[5][(v >> 16) & 0xFF] ^
        kTables.t[4][(v >> 24) & 0xFF] ^ kTables.t[3][(v >> 32) & 0xFF] ^
        kTables.t[2][(v >> 40) & 0xFF] ^ kTables.t[1][(v >> 48) & 0xFF] ^
        kTables.t[0][(v >> 56) & 0xFF];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = (c >> 8) ^ kTables.t[0][(c ^ *p++) & 0xFF];
    --size;
  }
  return ~c;
}

bool HardwareAvailable() {
#ifdef TRI_CRC32C_X86
  static const bool available = DetectSse42();
  return available;
#else
  return false;
#endif
}

std::uint32_t ExtendHardware(std::uint32_t crc, const void* data, std::size_t size) {
#ifdef TRI_CRC32C_X86
  TRI_ASSERT_MSG(HardwareAvailable(), "crc32c: SSE4.2 not available on this CPU");
  return ExtendSse42(crc, static_cast<const unsigned char*>(data), size);
#else
  TRI_ASSERT_MSG(false, "crc32c: no hardware path on this architecture");
  return 0;
#endif
}

std::uint32_t Extend(std::uint32_t crc, const void* data, std::size_t size) {
  if (HardwareAvailable()) return ExtendHardware(crc, data, size);
  return ExtendPortable(crc, data, size);
}

}  // namespace tri::crc32c
