#include "routing/bounded_load.h"

#include <gtest/gtest.h>

#include <numeric>

#include "routing/hash.h"
#include "routing/test_nodes.h"

namespace tri::routing {
namespace {

using testing::MakeNode;
using testing::RandomNodes;

TEST(RoutingBoundedLoad, CapIsTheCeilingOfOnePlusEpsilonTimesTheWeightedShare) {
  EXPECT_EQ(BoundedLoadCap(100, 1, 4, 250), 32u);  // ceil(1.25 * 25) = ceil(31.25)
  EXPECT_EQ(BoundedLoadCap(100, 2, 4, 250), 63u);  // ceil(62.5)
  EXPECT_EQ(BoundedLoadCap(80, 1, 4, 250), 25u);   // exactly 25
  EXPECT_EQ(BoundedLoadCap(1, 1, 1000, 240), 1u);  // never 0 once a ball exists
  EXPECT_EQ(BoundedLoadCap(0, 1, 4, 250), 0u);
  // No overflow at the extremes.
  EXPECT_EQ(BoundedLoadCap(UINT64_MAX / 2, 1, 1, 1000), UINT64_MAX - 1);
}

TEST(RoutingBoundedLoad, RefusesEpsilonOutOfRange) {
  EXPECT_FALSE(ValidateBoundedLoadOptions({.epsilon_permille = 0}).ok());
  EXPECT_FALSE(ValidateBoundedLoadOptions({.epsilon_permille = 1'000'001}).ok());
  EXPECT_TRUE(ValidateBoundedLoadOptions({.epsilon_permille = 1}).ok());
}

TEST(RoutingBoundedLoad, AFullOwnerSendsTheBallToTheNextNodeClockwiseWithRoom) {
  std::vector<Node> nodes = {MakeNode("a", "z"), MakeNode("b", "z"), MakeNode("c", "z")};
  auto ring = Ring::Build(nodes, {.vnodes_per_capacity = 4});
  ASSERT_TRUE(ring.ok());
  const auto points = ring->points();
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::uint64_t h = points[i].hash;  // owned by points[i].node
    std::vector<std::uint64_t> loads(3, 0);
    // 9 balls with epsilon 0.333: cap = ceil(1.333 * 9 / 3) = ceil(3.999) = 4.
    loads[points[i].node] = 4;
    loads[(points[i].node + 1) % 3] = 4;
    const std::uint32_t third = (points[i].node + 2) % 3;
    EXPECT_EQ(ChooseBoundedLoad(*ring, loads, 9, h, 333), third);
    // With room at the owner, the owner.
    loads[points[i].node] = 3;
    EXPECT_EQ(ChooseBoundedLoad(*ring, loads, 9, h, 333), points[i].node);
    // The owner full: the next distinct node clockwise with room.
    loads[points[i].node] = 4;
    loads[(points[i].node + 1) % 3] = 0;
    std::size_t j = i;
    while (points[j].node == points[i].node)
      j = (j + 1) % points.size();
    EXPECT_EQ(ChooseBoundedLoad(*ring, loads, 9, h, 333), points[j].node);
  }
}

TEST(RoutingBoundedLoad, NoLoadEverExceedsItsCapOnRandomRings) {
  SeededRng rng(21);
  for (int round = 0; round < 30; ++round) {
    const auto nodes = RandomNodes(rng, 2 + rng.Uniform(30), 3, 6);
    // Few points, so the ring alone overloads nodes and the cap must bind.
    auto ring =
        Ring::Build(nodes, {.vnodes_per_capacity = static_cast<std::uint32_t>(1 + rng.Uniform(3))});
    ASSERT_TRUE(ring.ok());
    const std::uint32_t epsilon = static_cast<std::uint32_t>(1 + rng.Uniform(500));
    const std::uint64_t balls = 1 + rng.Uniform(3000);
    for (std::uint64_t planned : {std::uint64_t{0}, balls}) {
      BoundedLoadPlacer placer(*ring, {.epsilon_permille = epsilon}, planned);
      for (std::uint64_t b = 0; b < balls; ++b) {
        placer.Place(rng.Next());
        for (std::uint32_t n = 0; n < nodes.size(); ++n) {
          ASSERT_LE(placer.loads()[n], placer.Cap(n)) << "round " << round << " ball " << b;
        }
      }
      const auto loads = placer.loads();
      EXPECT_EQ(std::accumulate(loads.begin(), loads.end(), std::uint64_t{0}), balls);
      for (std::uint32_t n = 0; n < nodes.size(); ++n) {
        EXPECT_LE(loads[n],
                  BoundedLoadCap(balls, nodes[n].capacity, ring->total_capacity(), epsilon));
      }
    }
  }
}

TEST(RoutingBoundedLoad, WhereTheCapDoesNotBindTheRingOwnerKeepsEveryBall) {
  SeededRng rng(4);
  const auto nodes = RandomNodes(rng, 10, 2, 3);
  auto ring = Ring::Build(nodes, {.vnodes_per_capacity = 200});
  ASSERT_TRUE(ring.ok());
  // A generous epsilon (4): the ring alone never reaches 5x a fair share.
  BoundedLoadPlacer placer(*ring, {.epsilon_permille = 4000}, 5000);
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t h = HashBytes("k" + std::to_string(i));
    ASSERT_EQ(placer.Place(h), ring->Owner(h));
  }
}

}  // namespace
}  // namespace tri::routing
