// Suspicion timeouts: the bounds' formulas and Lifeguard's dogpile.

#include "membership/suspicion.h"

#include <gtest/gtest.h>

namespace tri::membership {
namespace {

TEST(Suspicion, BoundsFollowTheFormulaWithN) {
  Config config;  // 3 * max(1, log10 N) * 500 ms, max 6x, k = 3
  const SuspicionBounds small = ComputeSuspicionBounds(config, 5);
  EXPECT_EQ(small.min, 1500);
  EXPECT_EQ(small.max, 9000);
  EXPECT_EQ(small.confirmations_wanted, 3);
  const SuspicionBounds hundred = ComputeSuspicionBounds(config, 100);
  EXPECT_EQ(hundred.min, 3000);
  EXPECT_EQ(hundred.max, 18000);
  const SuspicionBounds thousand = ComputeSuspicionBounds(config, 1000);
  EXPECT_EQ(thousand.min, 4500);
}

TEST(Suspicion, TooFewMembersForKConfirmationsUseTheMinimumAtOnce) {
  Config config;
  const SuspicionBounds bounds = ComputeSuspicionBounds(config, 4);  // fewer than k + 2
  EXPECT_EQ(bounds.confirmations_wanted, 0);
  EXPECT_EQ(SuspicionTimeout(bounds, 0), bounds.min);
}

TEST(Suspicion, TheDogpileTimeoutFallsFromMaxToMinAsConfirmationsArrive) {
  Config config;
  const SuspicionBounds bounds = ComputeSuspicionBounds(config, 100);
  EXPECT_EQ(SuspicionTimeout(bounds, 0), bounds.max);
  Millis previous = bounds.max;
  for (int n = 1; n <= bounds.confirmations_wanted; ++n) {
    const Millis t = SuspicionTimeout(bounds, n);
    EXPECT_LT(t, previous) << n;
    previous = t;
  }
  EXPECT_EQ(SuspicionTimeout(bounds, bounds.confirmations_wanted), bounds.min);
  EXPECT_EQ(SuspicionTimeout(bounds, bounds.confirmations_wanted + 5), bounds.min);
  // log(2)/log(4) = 1/2: one confirmation of three halves the span.
  EXPECT_EQ(SuspicionTimeout(bounds, 1), bounds.max - (bounds.max - bounds.min) / 2);
}

TEST(Suspicion, WithoutTheDogpileTheTimeoutIsFixedAtTheMinimum) {
  Config config;
  config.lifeguard_dogpile = false;
  const SuspicionBounds bounds = ComputeSuspicionBounds(config, 100);
  EXPECT_EQ(bounds.max, bounds.min);
  EXPECT_EQ(SuspicionTimeout(bounds, 0), bounds.min);
}

}  // namespace
}  // namespace tri::membership
