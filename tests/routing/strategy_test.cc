#include "routing/strategy.h"

#include <gtest/gtest.h>

#include "routing/hash.h"
#include "routing/test_nodes.h"

namespace tri::routing {
namespace {

using testing::MakeNode;

Node With(Node n, std::uint32_t rtt_us, std::uint32_t load, std::uint64_t bandwidth = 0,
          bool local = false) {
  n.rtt_us = rtt_us;
  n.load = load;
  n.bandwidth_bytes_per_s = bandwidth;
  n.local = local;
  return n;
}

std::size_t Pick(Strategy s, const std::vector<Node>& c, const Request& r = {}) {
  ChooserState state;
  auto chosen = Choose(s, c, r, state);
  EXPECT_TRUE(chosen.ok()) << chosen.status().ToString();
  return chosen.value_or(SIZE_MAX);
}

TEST(RoutingStrategy, NamesRoundTripAndUnknownNamesListTheKnownOnes) {
  for (Strategy s : {Strategy::kLocalFirst, Strategy::kLeastLatency, Strategy::kBandwidthAware,
                     Strategy::kLeastLoaded, Strategy::kRoundRobin, Strategy::kConsistentHash}) {
    auto parsed = ParseStrategy(StrategyName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = ParseStrategy("random");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'random'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("least-loaded"), std::string::npos);
}

TEST(RoutingStrategy, EveryStrategyRefusesAnEmptyCandidateList) {
  ChooserState state;
  for (Strategy s : {Strategy::kLocalFirst, Strategy::kLeastLatency, Strategy::kBandwidthAware,
                     Strategy::kLeastLoaded, Strategy::kRoundRobin, Strategy::kConsistentHash}) {
    auto chosen = Choose(s, {}, {}, state);
    ASSERT_FALSE(chosen.ok());
    EXPECT_EQ(chosen.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(chosen.status().message().find(StrategyName(s)), std::string::npos);
  }
}

TEST(RoutingStrategy, LocalFirstPrefersTheLocalNodeThenTheOriginZoneThenTheNearest) {
  std::vector<Node> c = {With(MakeNode("far", "z1"), 900, 0), With(MakeNode("near", "z2"), 10, 0),
                         With(MakeNode("zone-mate", "z1"), 50, 0),
                         With(MakeNode("self", "z3"), 500, 9, 0, true)};
  EXPECT_EQ(Pick(Strategy::kLocalFirst, c, {.origin_zone = "z1"}), 3u);
  c[3].local = false;
  EXPECT_EQ(Pick(Strategy::kLocalFirst, c, {.origin_zone = "z1"}), 2u);
  EXPECT_EQ(Pick(Strategy::kLocalFirst, c, {.origin_zone = "z9"}), 1u);
  EXPECT_EQ(Pick(Strategy::kLocalFirst, c), 1u);
}

TEST(RoutingStrategy, LeastLatencyTakesTheSmallestRoundTripAndTheFirstOnATie) {
  std::vector<Node> c = {With(MakeNode("a", "z"), 30, 0), With(MakeNode("b", "z"), 20, 5),
                         With(MakeNode("c", "z"), 20, 0)};
  EXPECT_EQ(Pick(Strategy::kLeastLatency, c), 1u);
}

TEST(RoutingStrategy, BandwidthAwareWeighsPayloadSizeAgainstRoundTrip) {
  // near: 100 us, 1 MB/s; far: 2000 us, 1 GB/s.
  std::vector<Node> c = {With(MakeNode("near", "z"), 100, 0, 1'000'000),
                         With(MakeNode("far", "z"), 2000, 0, 1'000'000'000),
                         With(MakeNode("unknown", "z"), 1, 0, 0)};
  EXPECT_EQ(Pick(Strategy::kBandwidthAware, c, {.payload_bytes = 100}), 0u);  // 200 us vs 2000
  EXPECT_EQ(Pick(Strategy::kBandwidthAware, c, {.payload_bytes = 10'000'000}), 1u);  // 10 s vs 2 ms
  ChooserState state;
  std::vector<Node> none = {With(MakeNode("unknown", "z"), 1, 0, 0)};
  auto chosen = Choose(Strategy::kBandwidthAware, none, {.payload_bytes = 1}, state);
  ASSERT_FALSE(chosen.ok());
  EXPECT_EQ(chosen.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(chosen.status().message().find("bandwidth estimate"), std::string::npos);
}

TEST(RoutingStrategy, LeastLoadedComparesLoadPerCapacityThenRoundTrip) {
  std::vector<Node> c = {With(MakeNode("a", "z", 1), 10, 3), With(MakeNode("b", "z", 4), 50, 8),
                         With(MakeNode("c", "z", 2), 40, 4)};
  // 3/1, 8/4 = 2, 4/2 = 2: b and c tie on load; c is nearer.
  EXPECT_EQ(Pick(Strategy::kLeastLoaded, c), 2u);
  c[0].capacity = 0;
  ChooserState state;
  auto chosen = Choose(Strategy::kLeastLoaded, c, {}, state);
  ASSERT_FALSE(chosen.ok());
  EXPECT_NE(chosen.status().message().find("'a' has capacity 0"), std::string::npos);
}

TEST(RoutingStrategy, RoundRobinVisitsEveryCandidateInTurnFromItsCursor) {
  std::vector<Node> c = {MakeNode("a", "z"), MakeNode("b", "z"), MakeNode("c", "z")};
  ChooserState state;
  std::vector<std::size_t> seen;
  for (int i = 0; i < 7; ++i)
    seen.push_back(*Choose(Strategy::kRoundRobin, c, {}, state));
  EXPECT_EQ(seen, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(state.round_robin_cursor, 7u);
}

TEST(RoutingStrategy, ConsistentHashFollowsTheRingAndSkipsANodeAtItsCap) {
  std::vector<Node> c = {MakeNode("a", "z"), MakeNode("b", "z"), MakeNode("c", "z")};
  ChooserState state;
  auto ring = Ring::Build(c, state.ring_options);
  ASSERT_TRUE(ring.ok());
  const Request request{.key = "saga/42"};
  const std::uint32_t owner = ring->Owner(HashBytes(request.key));
  EXPECT_EQ(*Choose(Strategy::kConsistentHash, c, request, state), owner);
  EXPECT_TRUE(state.ring.has_value());
  // The owner holds every one of 30 tasks: over its cap ceil(1.24 * 31 / 3) = 13.
  c[owner].load = 30;
  const std::size_t moved = *Choose(Strategy::kConsistentHash, c, request, state);
  EXPECT_NE(moved, owner);
  // Loads are not part of the ring: the cached ring is kept.
  const std::uint64_t fingerprint = state.ring->fingerprint();
  EXPECT_EQ(fingerprint, NodesFingerprint(c));
}

TEST(RoutingStrategy, ConsistentHashRebuildsItsRingWhenTheCandidatesChange) {
  std::vector<Node> c = {MakeNode("a", "z"), MakeNode("b", "z")};
  ChooserState state;
  ASSERT_TRUE(Choose(Strategy::kConsistentHash, c, {.key = "k"}, state).ok());
  const std::uint64_t first = state.ring->fingerprint();
  c.push_back(MakeNode("c", "z"));
  ASSERT_TRUE(Choose(Strategy::kConsistentHash, c, {.key = "k"}, state).ok());
  EXPECT_NE(state.ring->fingerprint(), first);
  EXPECT_EQ(state.ring->node_count(), 3u);
  // Candidates the ring refuses are an error naming them.
  c.push_back(MakeNode("c", "z"));
  auto chosen = Choose(Strategy::kConsistentHash, c, {.key = "k"}, state);
  ASSERT_FALSE(chosen.ok());
  EXPECT_NE(chosen.status().message().find("'c' appears twice"), std::string::npos);
}

TEST(RoutingStrategy, ConsistentHashWithAVersionSkipsTheFingerprintUntilTheVersionChanges) {
  std::vector<Node> c = {MakeNode("a", "z"), MakeNode("b", "z"), MakeNode("c", "z")};
  ChooserState state;
  state.candidates_version = 7;
  const Request request{.key = "saga/7"};
  const std::size_t owner = *Choose(Strategy::kConsistentHash, c, request, state);
  const std::uint64_t built = state.ring->fingerprint();
  // Loads still count under an unchanged version.
  c[owner].load = 30;
  EXPECT_NE(*Choose(Strategy::kConsistentHash, c, request, state), owner);
  // A new version with new candidates rebuilds the ring.
  c[0].name = "renamed";
  state.candidates_version = 8;
  ASSERT_TRUE(Choose(Strategy::kConsistentHash, c, request, state).ok());
  EXPECT_NE(state.ring->fingerprint(), built);
  EXPECT_EQ(state.ring->fingerprint(), NodesFingerprint(c));
}

}  // namespace
}  // namespace tri::routing
