#include "crdt/hlc.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

namespace tri::crdt {
namespace {

TEST(Hlc, NowFollowsThePhysicalClockAndCountsWithinOneMillisecond) {
  HybridLogicalClock clock;
  EXPECT_EQ(clock.Now(100), (HlcTimestamp{100, 0}));
  EXPECT_EQ(clock.Now(100), (HlcTimestamp{100, 1}));
  EXPECT_EQ(clock.Now(105), (HlcTimestamp{105, 0}));
}

TEST(Hlc, NowNeverGoesBackwardsWhenThePhysicalClockDoes) {
  HybridLogicalClock clock;
  clock.Now(200);
  EXPECT_EQ(clock.Now(150), (HlcTimestamp{200, 1}));
  EXPECT_EQ(clock.Now(199), (HlcTimestamp{200, 2}));
}

TEST(Hlc, UpdateTakesTheRemoteTimeWhenItLeads) {
  HybridLogicalClock clock;
  clock.Now(100);
  auto ts = clock.Update(HlcTimestamp{120, 4}, 101);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(*ts, (HlcTimestamp{120, 5}));
  // The next local event at an earlier physical time still follows the receive.
  EXPECT_EQ(clock.Now(110), (HlcTimestamp{120, 6}));
}

TEST(Hlc, UpdateContinuesTheLargerCounterWhenBothShareTheTime) {
  HybridLogicalClock clock;
  clock.Now(100);
  clock.Now(100);  // 100.1
  auto ts = clock.Update(HlcTimestamp{100, 7}, 90);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(*ts, (HlcTimestamp{100, 8}));
}

TEST(Hlc, UpdateRestartsTheCounterWhenThePhysicalClockLeads) {
  HybridLogicalClock clock;
  clock.Now(100);
  auto ts = clock.Update(HlcTimestamp{100, 9}, 300);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(*ts, (HlcTimestamp{300, 0}));
}

TEST(Hlc, UpdateRefusesARemoteTimestampPastMaxDriftAndKeepsTheClock) {
  HybridLogicalClock clock(HlcOptions{.max_drift_ms = 500});
  clock.Now(1000);
  auto accepted = clock.Update(HlcTimestamp{1500, 0}, 1000);  // exactly at the bound
  ASSERT_TRUE(accepted.ok());
  const HlcTimestamp before = clock.last();
  auto refused = clock.Update(HlcTimestamp{2001, 0}, 1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(refused.status().message(),
            "hlc: remote timestamp 2001.0 is 1001 ms ahead of the local physical clock 1000 ms, "
            "past max_drift_ms 500; refused (the sender's clock or this one is wrong)");
  EXPECT_EQ(clock.last(), before);
}

TEST(Hlc, TimestampEncodingRoundTripsAndRefusesTruncation) {
  const HlcTimestamp ts{1'700'000'000'000, 3};
  auto decoded = HlcTimestamp::Decode(ts.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, ts);
  const std::string bytes = ts.Encode();
  auto truncated = HlcTimestamp::Decode(bytes.substr(0, bytes.size() - 1));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("timestamp.logical truncated"), std::string::npos)
      << truncated.status().ToString();
}

// The paper's guarantees over random send/receive histories of a few clocks with
// drifting physical clocks: every event's timestamp exceeds its causal
// predecessors' (local order and message receipt), and l never leads the largest
// physical time any clock has seen by more than the drift allowed.
RC_GTEST_PROP(HlcProperty, TimestampsRespectCausalityAndStayNearPhysicalTime, ()) {
  constexpr int kClocks = 3;
  constexpr std::uint64_t kMaxDrift = 50;
  std::vector<HybridLogicalClock> clocks(kClocks, HybridLogicalClock(HlcOptions{kMaxDrift}));
  std::vector<std::uint64_t> physical(kClocks, 1000);
  std::vector<HlcTimestamp> in_flight;
  std::uint64_t max_physical = 1000;
  const auto steps = *rc::gen::container<std::vector<std::tuple<int, int, int>>>(rc::gen::tuple(
      rc::gen::inRange(0, kClocks), rc::gen::inRange(0, 3), rc::gen::inRange(0, 40)));
  for (auto [who, kind, advance] : steps) {
    physical[who] += static_cast<std::uint64_t>(advance) / 4;  // some clocks run slow
    max_physical = std::max(max_physical, physical[who]);
    const HlcTimestamp before = clocks[who].last();
    if (kind == 0 || in_flight.empty()) {
      const HlcTimestamp sent = clocks[who].Now(physical[who]);
      RC_ASSERT(before < sent);
      in_flight.push_back(sent);
    } else {
      const HlcTimestamp message = in_flight[static_cast<std::size_t>(advance) % in_flight.size()];
      auto received = clocks[who].Update(message, physical[who]);
      if (received.ok()) {
        RC_ASSERT(before < *received);
        RC_ASSERT(message < *received);
      } else {
        RC_ASSERT(message.physical_ms > physical[who] + kMaxDrift);
        RC_ASSERT(clocks[who].last() == before);
      }
    }
    RC_ASSERT(clocks[who].last().physical_ms <= max_physical);
  }
}

}  // namespace
}  // namespace tri::crdt
