#pragma once

#include <array>
#include <cstdint>

namespace tri {

// Randomness is injected into every core so that a seed replays exactly.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual std::uint64_t Next() = 0;

  // Uniform in [0, bound); bound > 0. Unbiased (Lemire's method).
  std::uint64_t Uniform(std::uint64_t bound);
  // Uniform in [lo, hi]; lo <= hi.
  std::int64_t Range(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, 1).
  double NextDouble();
  // True with probability p (clamped to [0, 1]).
  bool Bernoulli(double p);
};

// xoshiro256** seeded through SplitMix64: fast, small state, good quality.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed);
  std::uint64_t Next() override;
  // A new generator whose stream is independent of this one's continuation.
  SeededRng Fork();

  // The generator's whole state, to persist it (a replicated state machine's
  // snapshot) and continue the same stream after a restore.
  std::array<std::uint64_t, 4> State() const;
  static SeededRng FromState(const std::array<std::uint64_t, 4>& state);

 private:
  std::uint64_t s_[4];
};

}  // namespace tri
