#include "routing/shard_table.h"

#include <gtest/gtest.h>

#include <numeric>

#include "routing/hash.h"
#include "routing/test_nodes.h"

namespace tri::routing {
namespace {

using testing::MakeNode;
using testing::RandomNodes;

TEST(RoutingShardTable, RefusesShardBitsOutOfRangeAndBadEpsilon) {
  std::vector<Node> nodes = {MakeNode("a", "z")};
  auto ring = Ring::Build(nodes);
  ASSERT_TRUE(ring.ok());
  EXPECT_NE(ShardTable::Build(*ring, {.shard_bits = 0}).status().message().find("shard_bits 0"),
            std::string::npos);
  EXPECT_FALSE(ShardTable::Build(*ring, {.shard_bits = 25}).ok());
  EXPECT_FALSE(
      ShardTable::Build(*ring, {.shard_bits = 4, .bounded_load = {.epsilon_permille = 0}}).ok());
}

TEST(RoutingShardTable, AKeyGoesToTheOwnerOfItsShardAndEveryShardIsWithinItsCap) {
  SeededRng rng(41);
  for (int round = 0; round < 10; ++round) {
    const auto nodes = RandomNodes(rng, 2 + rng.Uniform(40), 3, 4);
    // Few points: the ring alone overloads nodes, so the cap binds.
    auto ring = Ring::Build(nodes, {.vnodes_per_capacity = 2});
    ASSERT_TRUE(ring.ok());
    const unsigned bits = static_cast<unsigned>(6 + rng.Uniform(8));
    auto table = ShardTable::Build(*ring, {.shard_bits = bits});
    ASSERT_TRUE(table.ok());
    ASSERT_EQ(table->shard_count(), std::size_t{1} << bits);
    std::vector<std::uint64_t> counted(nodes.size(), 0);
    for (std::uint32_t s = 0; s < table->shard_count(); ++s)
      ++counted[table->ShardOwner(s)];
    const auto loads = table->shard_loads();
    for (std::uint32_t n = 0; n < nodes.size(); ++n) {
      ASSERT_EQ(counted[n], loads[n]);
      ASSERT_LE(loads[n],
                BoundedLoadCap(table->shard_count(), nodes[n].capacity, ring->total_capacity(),
                               BoundedLoadOptions{}.epsilon_permille));
    }
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t h = rng.Next();
      ASSERT_EQ(table->Shard(h), h >> (64 - bits));
      ASSERT_EQ(table->Owner(h), table->ShardOwner(table->Shard(h)));
    }
  }
}

TEST(RoutingShardTable, WhereTheCapDoesNotBindAShardBelongsToTheRingOwnerOfItsStart) {
  SeededRng rng(2);
  const auto nodes = RandomNodes(rng, 8, 2, 3);
  auto ring = Ring::Build(nodes);
  ASSERT_TRUE(ring.ok());
  auto table = ShardTable::Build(
      *ring, {.shard_bits = 12, .bounded_load = {.epsilon_permille = 3000}});  // 4x: never binds
  ASSERT_TRUE(table.ok());
  for (std::uint32_t s = 0; s < table->shard_count(); ++s) {
    ASSERT_EQ(table->ShardOwner(s), ring->Owner(static_cast<std::uint64_t>(s) << 52));
  }
}

}  // namespace
}  // namespace tri::routing
