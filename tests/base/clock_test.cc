#include <gtest/gtest.h>

#include <chrono>

#include "base/clock.h"

namespace tri {
namespace {

using std::chrono::milliseconds;

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  EXPECT_EQ(clock.Now(), TimePoint{0});
  clock.Advance(milliseconds(5));
  EXPECT_EQ(clock.Now(), milliseconds(5));
  clock.AdvanceTo(milliseconds(9));
  EXPECT_EQ(clock.Now(), milliseconds(9));
}

TEST(ManualClockDeathTest, RefusesToGoBackwards) {
  ManualClock clock(milliseconds(10));
  EXPECT_DEATH(clock.AdvanceTo(milliseconds(3)), "cannot go backwards");
}

TEST(RealClock, IsMonotonic) {
  auto& clock = RealClock::Instance();
  auto a = clock.Now();
  auto b = clock.Now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace tri
