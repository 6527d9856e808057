#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "base/rng.h"

namespace tri {
namespace {

TEST(SeededRng, SameSeedSameStream) {
  SeededRng a(42), b(42), c(43);
  std::vector<std::uint64_t> xa, xb, xc;
  for (int i = 0; i < 100; ++i) {
    xa.push_back(a.Next());
    xb.push_back(b.Next());
    xc.push_back(c.Next());
  }
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
}

RC_GTEST_PROP(SeededRng, RangeStaysInBounds, (std::uint64_t seed, int lo, unsigned span)) {
  SeededRng rng(seed);
  const std::int64_t hi = static_cast<std::int64_t>(lo) + span % 1000;
  for (int i = 0; i < 100; ++i) {
    const auto v = rng.Range(lo, hi);
    RC_ASSERT(v >= lo);
    RC_ASSERT(v <= hi);
  }
}

TEST(SeededRng, UniformIsRoughlyUniform) {
  SeededRng rng(7);
  int counts[10] = {};
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) counts[rng.Uniform(10)]++;
  for (int c : counts) {
    EXPECT_GT(c, kDraws / 10 * 9 / 10);
    EXPECT_LT(c, kDraws / 10 * 11 / 10);
  }
}

TEST(SeededRng, BernoulliExtremes) {
  SeededRng rng(1);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(rng.Bernoulli(0.0));
    EXPECT_TRUE(rng.Bernoulli(1.0));
    const double d = rng.NextDouble();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
}

}  // namespace
}  // namespace tri
