#include "sim/network.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "sim/tick_clock.h"

namespace tri::sim {
namespace {

struct Msg {
  int n = 0;
};

using Net = SimNetwork<Msg>;

std::vector<Net::Delivery> DrainUntil(Net& net, SimTimeUs until_us) {
  std::vector<Net::Delivery> out;
  Net::Delivery d;
  for (SimTimeUs t = 0; t <= until_us; t += 100) {
    while (net.PopDue(t, &d))
      out.push_back(d);
  }
  return out;
}

TEST(SimNetwork, DeliversEveryMessageOnceWithoutFaults) {
  SeededRng rng(1);
  Net net({1, 2, 3}, NetworkConfig{}, &rng);
  for (int i = 0; i < 100; ++i)
    net.Send(1, 2, Msg{i}, 0);
  const auto got = DrainUntil(net, 1'000'000);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(net.stats().delivered, 100u);
  EXPECT_EQ(net.in_flight(), 0u);
}

TEST(SimNetwork, LinksAreFifoWithoutTheReorderFault) {
  SeededRng rng(2);
  Net net({1, 2}, NetworkConfig{}, &rng);
  for (int i = 0; i < 200; ++i)
    net.Send(1, 2, Msg{i}, i * 10);
  const auto got = DrainUntil(net, 1'000'000);
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(got[i].message.n, i);
}

TEST(SimNetwork, ReorderFaultDeliversSomeMessagesOutOfOrder) {
  SeededRng rng(3);
  NetworkConfig config;
  config.reorder = true;
  Net net({1, 2}, config, &rng);
  for (int i = 0; i < 200; ++i)
    net.Send(1, 2, Msg{i}, i * 10);
  const auto got = DrainUntil(net, 1'000'000);
  ASSERT_EQ(got.size(), 200u);
  int inversions = 0;
  for (std::size_t i = 1; i < got.size(); ++i)
    inversions += got[i].message.n < got[i - 1].message.n;
  EXPECT_GT(inversions, 0);
}

TEST(SimNetwork, LossAndDuplicationHappenAtRoughlyTheConfiguredRates) {
  SeededRng rng(4);
  NetworkConfig config;
  config.loss_probability = 0.2;
  config.duplicate_probability = 0.1;
  Net net({1, 2}, config, &rng);
  for (int i = 0; i < 2000; ++i)
    net.Send(1, 2, Msg{i}, 0);
  const auto got = DrainUntil(net, 1'000'000);
  EXPECT_GT(net.stats().lost, 300u);
  EXPECT_LT(net.stats().lost, 500u);
  EXPECT_GT(net.stats().duplicated, 100u);
  std::map<int, int> copies;
  for (const auto& d : got)
    ++copies[d.message.n];
  int duplicated = 0;
  for (const auto& [n, c] : copies) {
    EXPECT_LE(c, 2);
    duplicated += c == 2;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(duplicated), net.stats().duplicated);
}

TEST(SimNetwork, SymmetricPartitionCutsBothDirectionsUntilHealed) {
  SeededRng rng(5);
  Net net({1, 2, 3}, NetworkConfig{}, &rng);
  net.links().PartitionSymmetric({1});
  EXPECT_FALSE(net.links().Connected(1, 2));
  EXPECT_FALSE(net.links().Connected(3, 1));
  EXPECT_TRUE(net.links().Connected(2, 3));
  net.Send(1, 2, Msg{1}, 0);
  net.Send(2, 1, Msg{2}, 0);
  net.Send(2, 3, Msg{3}, 0);
  auto got = DrainUntil(net, 1'000'000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message.n, 3);
  EXPECT_EQ(net.stats().dropped_partition, 2u);
  net.links().Heal();
  net.Send(1, 2, Msg{4}, 0);
  EXPECT_EQ(DrainUntil(net, 1'000'000).size(), 1u);
}

TEST(SimNetwork, OneWayPartitionLetsTheSenderHearButNotBeHeard) {
  LinkTable links({1, 2, 3});
  links.PartitionOneWay({1});
  EXPECT_FALSE(links.Connected(1, 2));
  EXPECT_FALSE(links.Connected(1, 3));
  EXPECT_TRUE(links.Connected(2, 1));
  EXPECT_TRUE(links.Connected(3, 1));
  EXPECT_TRUE(links.Connected(2, 3));
}

TEST(SimNetwork, BridgeNodeReachesBothSidesThatCannotReachEachOther) {
  LinkTable links({1, 2, 3, 4, 5});
  links.PartitionBridge(3, {1, 2});
  EXPECT_TRUE(links.Connected(1, 2));
  EXPECT_TRUE(links.Connected(4, 5));
  EXPECT_FALSE(links.Connected(1, 4));
  EXPECT_FALSE(links.Connected(5, 2));
  for (SimNodeId n : {1, 2, 4, 5}) {
    EXPECT_TRUE(links.Connected(3, n));
    EXPECT_TRUE(links.Connected(n, 3));
  }
}

TEST(SimNetwork, MessagesToADownNodeAreDropped) {
  SeededRng rng(6);
  Net net({1, 2}, NetworkConfig{}, &rng);
  net.Send(1, 2, Msg{1}, 0);
  net.links().SetUp(2, false);
  EXPECT_TRUE(DrainUntil(net, 1'000'000).empty());
  EXPECT_EQ(net.stats().dropped_node_down, 1u);
}

TEST(SimNetwork, SameSeedGivesTheSameDeliverySchedule) {
  auto run = [](std::uint64_t seed) {
    SeededRng rng(seed);
    NetworkConfig config;
    config.reorder = true;
    config.loss_probability = 0.1;
    config.duplicate_probability = 0.1;
    Net net({1, 2, 3}, config, &rng);
    for (int i = 0; i < 300; ++i)
      net.Send(1 + i % 3, 1 + (i + 1) % 3, Msg{i}, i * 7);
    std::vector<int> order;
    for (const auto& d : DrainUntil(net, 1'000'000))
      order.push_back(d.message.n);
    return order;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(TickClock, DriftChangesThePeriodAndPauseDelaysTheNextTick) {
  TickClock fast(10'000, -0.2, 0);
  TickClock slow(10'000, 0.2, 0);
  EXPECT_EQ(fast.period_us(), 8'000);
  EXPECT_EQ(slow.period_us(), 12'000);
  int fast_ticks = 0, slow_ticks = 0;
  for (SimTimeUs t = 0; t < 1'200'000; t += 1'000) {
    while (fast.Due(t))
      fast.OnTick(), ++fast_ticks;
    while (slow.Due(t))
      slow.OnTick(), ++slow_ticks;
  }
  EXPECT_EQ(fast_ticks, 150);
  EXPECT_EQ(slow_ticks, 100);
  fast.ResumeAt(5'000'000);
  EXPECT_FALSE(fast.Due(4'999'999));
  EXPECT_TRUE(fast.Due(5'000'000));
}

}  // namespace
}  // namespace tri::sim
