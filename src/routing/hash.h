#pragma once

// The one hash function of the routing core (docs/routing.md, "Hashing").
// Placement must agree across processes, builds and platforms, so this is a
// fixed function, never std::hash: changing it moves every key.
//
//   Mix64(x): x ^= x >> 32; x *= 0xd6e8feb86659fd93; x ^= x >> 32;
//             x *= 0xd6e8feb86659fd93; x ^= x >> 32        (a bijection on 64 bits)
//   HashBytes(bytes, seed): h = seed ^ (size * 0x9e3779b97f4a7c15); for each
//             8-byte little-endian word w (the last one zero-padded):
//             h = Mix64(h ^ w) + 0x9e3779b97f4a7c15;  result Mix64(h)
//   HashCombine(a, b) = Mix64(a ^ Mix64(b + 0x9e3779b97f4a7c15))

#include <cstdint>
#include <string_view>

#include "base/coding.h"

namespace tri::routing {

inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

constexpr std::uint64_t Mix64(std::uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

inline std::uint64_t HashBytes(std::string_view bytes, std::uint64_t seed = 0) {
  std::uint64_t h = seed ^ (static_cast<std::uint64_t>(bytes.size()) * kGoldenGamma);
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  for (; left >= 8; left -= 8, p += 8)
    h = Mix64(h ^ coding::DecodeFixed64(p)) + kGoldenGamma;
  if (left > 0) {
    char tail[8] = {};
    for (std::size_t i = 0; i < left; ++i)
      tail[i] = p[i];
    h = Mix64(h ^ coding::DecodeFixed64(tail)) + kGoldenGamma;
  }
  return Mix64(h);
}

constexpr std::uint64_t HashCombine(std::uint64_t a, std::uint64_t b) {
  return Mix64(a ^ Mix64(b + kGoldenGamma));
}

}  // namespace tri::routing
