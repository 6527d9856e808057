#include "routing/rendezvous.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "routing/hash.h"
#include "routing/test_nodes.h"

namespace tri::routing {
namespace {

using testing::MakeNode;
using testing::RandomNodes;

// The naive rule: sort every node by score (ties: lower index), then take
// them in order, skipping a zone already used while unused zones remain.
std::vector<std::uint32_t> NaiveChoose(const Rendezvous& r, std::uint64_t key, std::size_t count) {
  std::vector<std::uint32_t> order(r.node_count());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return r.Score(key, a) > r.Score(key, b);
  });
  std::vector<std::uint32_t> out;
  std::set<std::uint32_t> zones;
  for (std::uint32_t n : order) {
    if (out.size() == count) break;
    if (zones.count(r.zone(n)) != 0) continue;
    out.push_back(n);
    zones.insert(r.zone(n));
    if (zones.size() == r.zone_count()) break;
  }
  for (std::uint32_t n : order) {
    if (out.size() == count) break;
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

TEST(RoutingRendezvous, ChoosesWhatTheNaiveSortAndSkipRuleChooses) {
  SeededRng rng(31);
  for (int round = 0; round < 40; ++round) {
    const auto nodes = RandomNodes(rng, 1 + rng.Uniform(30), 1 + rng.Uniform(6), 8);
    auto r = Rendezvous::Build(nodes);
    ASSERT_TRUE(r.ok());
    const std::size_t count = 1 + rng.Uniform(5);
    for (int i = 0; i < 100; ++i) {
      const std::uint64_t key = rng.Next();
      ASSERT_EQ(r->Choose(key, count), NaiveChoose(*r, key, count));
    }
  }
}

TEST(RoutingRendezvous, ReplicasNeverShareAZoneWhenThereAreEnoughZones) {
  SeededRng rng(9);
  const auto nodes = RandomNodes(rng, 60, 3, 4);
  auto r = Rendezvous::Build(nodes);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->zone_count(), 3u);
  for (int i = 0; i < 2000; ++i) {
    const auto chosen = r->Choose(rng.Next(), 3);
    ASSERT_EQ(chosen.size(), 3u);
    std::set<std::string> zones;
    for (std::uint32_t n : chosen)
      zones.insert(nodes[n].zone);
    ASSERT_EQ(zones.size(), 3u);
  }
}

TEST(RoutingRendezvous, TheFirstChoiceFollowsCapacity) {
  // Capacities 1 and 3 in one zone: the second node wins about 3/4 of keys.
  std::vector<Node> nodes = {MakeNode("small", "z", 1), MakeNode("large", "z", 3)};
  auto r = Rendezvous::Build(nodes);
  ASSERT_TRUE(r.ok());
  int large = 0;
  const int keys = 40'000;
  for (int i = 0; i < keys; ++i)
    large += r->Choose(HashBytes("k" + std::to_string(i)), 1)[0] == 1;
  EXPECT_NEAR(static_cast<double>(large) / keys, 0.75, 0.01);
}

TEST(RoutingRendezvous, AJoinChangesASetOnlyByTheNewNodeEnteringIt) {
  SeededRng rng(13);
  auto nodes = RandomNodes(rng, 25, 4, 3);
  auto before = Rendezvous::Build(nodes);
  nodes.push_back(MakeNode("newcomer", "z2", 3));
  auto after = Rendezvous::Build(nodes);
  ASSERT_TRUE(before.ok() && after.ok());
  const std::uint32_t newcomer = static_cast<std::uint32_t>(nodes.size() - 1);
  int changed = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t key = rng.Next();
    const auto a = before->Choose(key, 3);
    const auto b = after->Choose(key, 3);
    std::set<std::uint32_t> old_set(a.begin(), a.end());
    std::size_t kept = 0;
    for (std::uint32_t n : b) {
      if (old_set.count(n) != 0) {
        ++kept;
      } else {
        ASSERT_EQ(n, newcomer) << "a set gained an old node on a join";
      }
    }
    ASSERT_GE(kept, 2u);
    changed += kept != 3;
  }
  EXPECT_GT(changed, 0);
}

TEST(RoutingRendezvous, ALeaveKeepsEverySurvivingReplica) {
  SeededRng rng(17);
  auto nodes = RandomNodes(rng, 25, 4, 3);
  auto before = Rendezvous::Build(nodes);
  const std::string gone = nodes[7].name;
  nodes.erase(nodes.begin() + 7);
  auto after = Rendezvous::Build(nodes);
  ASSERT_TRUE(before.ok() && after.ok());
  auto new_index = [](std::uint32_t old) { return old > 7 ? old - 1 : old; };
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t key = rng.Next();
    const auto a = before->Choose(key, 3);
    const auto b = after->Choose(key, 3);
    for (std::uint32_t n : a) {
      if (n == 7) continue;
      ASSERT_NE(std::find(b.begin(), b.end(), new_index(n)), b.end())
          << "a surviving replica was dropped when '" << gone << "' left";
    }
  }
}

TEST(RoutingRendezvous, AskingForMoreReplicasThanNodesGivesEveryNode) {
  std::vector<Node> nodes = {MakeNode("a", "z"), MakeNode("b", "z")};
  auto r = Rendezvous::Build(nodes);
  ASSERT_TRUE(r.ok());
  auto chosen = r->Choose(42, 5);
  std::sort(chosen.begin(), chosen.end());
  EXPECT_EQ(chosen, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_FALSE(Rendezvous::Build({}).ok());
}

}  // namespace
}  // namespace tri::routing
