#include "base/rng.h"

#include "base/assert.h"

namespace tri {
namespace {

std::uint64_t SplitMix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t Rng::Uniform(std::uint64_t bound) {
  TRI_ASSERT(bound > 0);
  // Lemire: multiply-shift with rejection of the biased low region.
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(Next()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t Rng::Range(std::int64_t lo, std::int64_t hi) {
  TRI_ASSERT(lo <= hi);
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(Next());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + Uniform(span + 1));
}

double Rng::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Rng::Bernoulli(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return NextDouble() < p;
}

SeededRng::SeededRng(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& word : s_) word = SplitMix64(x);
}

std::uint64_t SeededRng::Next() {
  const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

std::array<std::uint64_t, 4> SeededRng::State() const { return {s_[0], s_[1], s_[2], s_[3]}; }

SeededRng SeededRng::FromState(const std::array<std::uint64_t, 4>& state) {
  SeededRng rng(0);
  for (int i = 0; i < 4; ++i)
    rng.s_[i] = state[static_cast<std::size_t>(i)];
  return rng;
}

SeededRng SeededRng::Fork() { return SeededRng(Next() ^ 0x6a09e667f3bcc909ULL); }

}  // namespace tri
