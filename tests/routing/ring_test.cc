#include "routing/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "routing/hash.h"
#include "routing/test_nodes.h"

namespace tri::routing {
namespace {

using testing::MakeNode;
using testing::RandomNodes;

// The naive owner: the smallest point >= hash, else the smallest point.
std::uint32_t NaiveOwner(const Ring& ring, std::uint64_t hash) {
  const Ring::Point* best = nullptr;
  const Ring::Point* lowest = nullptr;
  for (const Ring::Point& p : ring.points()) {
    auto less = [](const Ring::Point* a, const Ring::Point& b) {
      return a == nullptr || b.hash < a->hash || (b.hash == a->hash && b.node < a->node);
    };
    if (less(lowest, p)) lowest = &p;
    if (p.hash >= hash && less(best, p)) best = &p;
  }
  return (best != nullptr ? best : lowest)->node;
}

TEST(RoutingRing, RefusesBadNodeListsNamingTheNode) {
  EXPECT_EQ(Ring::Build({}).status().code(), StatusCode::kInvalidArgument);
  std::vector<Node> dup = {MakeNode("a", "z"), MakeNode("a", "y")};
  EXPECT_NE(Ring::Build(dup).status().message().find("'a' appears twice"), std::string::npos);
  std::vector<Node> zero = {MakeNode("a", "z", 0)};
  EXPECT_NE(Ring::Build(zero).status().message().find("'a': capacity is 0"), std::string::npos);
  std::vector<Node> unnamed = {MakeNode("", "z")};
  EXPECT_NE(Ring::Build(unnamed).status().message().find("has no name"), std::string::npos);
}

TEST(RoutingRing, EnforcesItsBounds) {
  std::vector<Node> nodes = {MakeNode("a", "z", 3), MakeNode("b", "z", 1)};
  RingOptions options;
  options.vnodes_per_capacity = 0;
  EXPECT_FALSE(Ring::Build(nodes, options).ok());
  options.vnodes_per_capacity = 100;
  options.max_vnodes_per_node = 299;
  EXPECT_NE(Ring::Build(nodes, options).status().message().find("'a' needs 300 points"),
            std::string::npos);
  options.max_vnodes_per_node = 300;
  options.max_points = 399;
  EXPECT_NE(Ring::Build(nodes, options).status().message().find("400 points exceed max_points"),
            std::string::npos);
  options.max_points = 400;
  EXPECT_TRUE(Ring::Build(nodes, options).ok());
  options.node_limits.max_nodes = 1;
  EXPECT_FALSE(Ring::Build(nodes, options).ok());
}

TEST(RoutingRing, PointsPerNodeAreProportionalToCapacity) {
  std::vector<Node> nodes = {MakeNode("a", "z", 1), MakeNode("b", "z", 4)};
  RingOptions options;
  options.vnodes_per_capacity = 50;
  auto ring = Ring::Build(nodes, options);
  ASSERT_TRUE(ring.ok());
  std::map<std::uint32_t, int> count;
  for (const auto& p : ring->points())
    ++count[p.node];
  EXPECT_EQ(count[0], 50);
  EXPECT_EQ(count[1], 200);
  EXPECT_EQ(ring->total_capacity(), 5u);
  EXPECT_TRUE(std::is_sorted(ring->points().begin(), ring->points().end(),
                             [](const auto& x, const auto& y) { return x.hash < y.hash; }));
}

TEST(RoutingRing, OwnerEqualsTheNaiveScanOnRandomRingsAndHashes) {
  SeededRng rng(11);
  for (int round = 0; round < 20; ++round) {
    const auto nodes = RandomNodes(rng, 1 + rng.Uniform(40), 4, 5);
    RingOptions options;
    options.vnodes_per_capacity = static_cast<std::uint32_t>(1 + rng.Uniform(30));
    auto ring = Ring::Build(nodes, options);
    ASSERT_TRUE(ring.ok());
    std::vector<std::uint64_t> probes = {0, 1, UINT64_MAX, UINT64_MAX - 1};
    for (const auto& p : ring->points()) {
      probes.push_back(p.hash);
      probes.push_back(p.hash + 1);
      probes.push_back(p.hash - 1);
    }
    for (int i = 0; i < 500; ++i)
      probes.push_back(rng.Next());
    for (std::uint64_t h : probes)
      ASSERT_EQ(ring->Owner(h), NaiveOwner(*ring, h)) << h;
  }
}

TEST(RoutingRing, AJoinMovesKeysOnlyToTheNewNodeAndALeaveOnlyFromTheOldOne) {
  SeededRng rng(3);
  auto nodes = RandomNodes(rng, 30, 3, 4);
  auto before = Ring::Build(nodes);
  auto joined_nodes = nodes;
  joined_nodes.push_back(MakeNode("newcomer", "z1", 2));
  auto after = Ring::Build(joined_nodes);
  ASSERT_TRUE(before.ok() && after.ok());
  int moved = 0;
  for (int i = 0; i < 20'000; ++i) {
    const std::uint64_t h = HashBytes("k" + std::to_string(i));
    const std::uint32_t a = before->Owner(h);
    const std::uint32_t b = after->Owner(h);
    if (a != b) {
      ASSERT_EQ(b, nodes.size()) << "a key moved between two old nodes";
      ++moved;
    }
  }
  EXPECT_GT(moved, 0);
  // The reverse is a leave of "newcomer": only its keys move, back to where they were.
}

TEST(RoutingRing, ReplicasSpreadOverZonesWhileZonesRemain) {
  SeededRng rng(5);
  for (int round = 0; round < 30; ++round) {
    const std::size_t zones = 1 + rng.Uniform(5);
    const auto nodes = RandomNodes(rng, 1 + rng.Uniform(25), zones, 3);
    auto ring = Ring::Build(nodes, {.vnodes_per_capacity = 8});
    ASSERT_TRUE(ring.ok());
    for (int i = 0; i < 200; ++i) {
      std::uint32_t out[4];
      const std::size_t n = ring->Replicas(rng.Next(), out);
      ASSERT_EQ(n, std::min<std::size_t>(4, nodes.size()));
      std::set<std::uint32_t> distinct(out, out + n);
      ASSERT_EQ(distinct.size(), n) << "a node twice";
      // The first min(n, zones) replicas are in distinct zones.
      std::set<std::uint32_t> zone_set;
      const std::size_t spread = std::min(n, ring->zone_count());
      for (std::size_t k = 0; k < spread; ++k)
        zone_set.insert(ring->zone(out[k]));
      ASSERT_EQ(zone_set.size(), spread);
    }
  }
}

TEST(RoutingRing, TheFirstReplicaIsTheOwner) {
  SeededRng rng(8);
  const auto nodes = RandomNodes(rng, 20, 3, 2);
  auto ring = Ring::Build(nodes);
  ASSERT_TRUE(ring.ok());
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t h = rng.Next();
    std::uint32_t out[3];
    ring->Replicas(h, out);
    EXPECT_EQ(out[0], ring->Owner(h));
  }
}

TEST(RoutingRing, ANodeWithoutAZoneIsAZoneOfItsOwn) {
  std::vector<Node> nodes = {MakeNode("a", ""), MakeNode("b", ""), MakeNode("c", "")};
  auto ring = Ring::Build(nodes);
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->zone_count(), 3u);
  EXPECT_EQ(NodesFingerprint(nodes), ring->fingerprint());
  nodes[1].capacity = 2;
  EXPECT_NE(NodesFingerprint(nodes), ring->fingerprint());
}

}  // namespace
}  // namespace tri::routing
