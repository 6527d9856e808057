// Small clusters on the deterministic test network: join, crash detection,
// leave, metadata, partitions healed by push/pull, stalls, determinism.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "membership/member.h"
#include "membership/wire.h"
#include "test_network.h"

namespace tri::membership {
namespace {

using testing::TestNetwork;

int CountEvents(const TestNetwork& net, Event::Kind kind, const std::string& member = "",
                Millis since = 0) {
  return static_cast<int>(
      std::count_if(net.events().begin(), net.events().end(), [&](const auto& e) {
        return e.second.kind == kind && (member.empty() || e.second.member == member) &&
               e.second.at >= since;
      }));
}

std::string Deaths(const TestNetwork& net) {
  std::string out;
  for (const auto& [observer, e] : net.events()) {
    if (e.kind == Event::Kind::kDead) {
      out += observer + " saw " + e.member + " dead at " + std::to_string(e.at) + ": " + e.cause +
             "\n";
    }
  }
  return out;
}

TEST(MembershipCluster, TenMembersJoinThroughOneSeedAndAllBecomeActive) {
  TestNetwork net(1);
  net.AddCluster(10);
  net.Run(5000);
  ASSERT_TRUE(net.Converged());
  for (int i = 0; i < 10; ++i) {
    const Member& m = net.member("m" + std::to_string(i));
    EXPECT_EQ(m.AliveCount(), 10u);
    for (const MemberView& v : m.Members())
      EXPECT_EQ(v.lifecycle, Lifecycle::kActive) << v.name;
  }
  EXPECT_EQ(CountEvents(net, Event::Kind::kSuspected), 0);
}

TEST(MembershipCluster, ACrashedMemberIsDeclaredDeadEverywhereWithACause) {
  TestNetwork net(2);
  net.AddCluster(12);
  net.Run(5000);
  ASSERT_TRUE(net.Converged());
  const Millis crashed_at = net.now();
  net.Crash("m5");
  net.Run(20000);
  EXPECT_TRUE(net.Converged());
  Millis first_death = -1;
  bool declared_with_cause = false;
  for (const auto& [observer, e] : net.events()) {
    if (e.kind != Event::Kind::kDead) continue;
    EXPECT_EQ(e.member, "m5");
    if (first_death < 0) first_death = e.at;
    declared_with_cause |= e.cause.find("suspicion started by") != std::string::npos;
  }
  EXPECT_TRUE(declared_with_cause);
  ASSERT_GE(first_death, 0);
  EXPECT_LT(first_death - crashed_at, 10000);
  EXPECT_EQ(CountEvents(net, Event::Kind::kDead), 11);
  for (int i = 0; i < 12; ++i) {
    if (i == 5) continue;
    EXPECT_EQ(net.member("m" + std::to_string(i)).Find("m5")->lifecycle, Lifecycle::kFailed);
  }
}

TEST(MembershipCluster, PlainSwimWithoutLifeguardAlsoDetectsACrash) {
  Config config;
  config.lifeguard_local_health = false;
  config.lifeguard_dogpile = false;
  config.lifeguard_buddy = false;
  TestNetwork net(3, config);
  net.AddCluster(8);
  net.Run(5000);
  ASSERT_TRUE(net.Converged());
  net.Crash("m3");
  net.Run(15000);
  EXPECT_TRUE(net.Converged());
  EXPECT_EQ(CountEvents(net, Event::Kind::kDead), 7);
}

TEST(MembershipCluster, ALeavingMemberIsMarkedLeftNotFailed) {
  TestNetwork net(4);
  net.AddCluster(8);
  net.Run(5000);
  net.member("m2").Leave(net.now());
  net.Run(3000);
  for (int i = 0; i < 8; ++i) {
    if (i == 2) continue;
    const MemberView* v = net.member("m" + std::to_string(i)).Find("m2");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->state, State::kLeft);
    EXPECT_EQ(v->lifecycle, Lifecycle::kLeaving);
  }
  EXPECT_EQ(CountEvents(net, Event::Kind::kLeft, "m2"), 7);
  EXPECT_EQ(CountEvents(net, Event::Kind::kDead), 0);
}

TEST(MembershipCluster, AMetadataUpdateReachesEveryMember) {
  TestNetwork net(5);
  net.AddCluster(15);
  net.Run(5000);
  Metadata meta;
  meta.role = Role::kVoter;
  meta.address = "10.0.0.7:7946";
  meta.zone = "eu-1";
  meta.load = 12;
  meta.capacity = 4;
  meta.syncing = true;
  const Millis at = net.now();
  ASSERT_TRUE(net.member("m7").UpdateMetadata(meta, at).ok());
  net.Run(1000);
  for (int i = 0; i < 15; ++i) {
    const MemberView* v = net.member("m" + std::to_string(i)).Find("m7");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->metadata, meta) << i;
    EXPECT_EQ(v->lifecycle, Lifecycle::kSyncing) << i;
  }
  EXPECT_EQ(CountEvents(net, Event::Kind::kUpdated, "m7", at), 14);
}

TEST(MembershipCluster, PushPullHealsAPartition) {
  Config config;
  config.push_pull_interval = 3000;
  TestNetwork net(6, config);
  net.AddCluster(8);
  net.Run(5000);
  ASSERT_TRUE(net.Converged());
  net.Partition({"m0", "m1", "m2", "m3"});
  net.Run(30000);
  // Each side has declared the other dead.
  EXPECT_EQ(net.member("m0").Find("m6")->state, State::kDead);
  EXPECT_EQ(net.member("m6").Find("m0")->state, State::kDead);
  net.Heal();
  net.Run(30000);
  EXPECT_TRUE(net.Converged());
}

TEST(MembershipCluster, StalledMembersAloneNeverCauseADeath) {
  Config config;
  TestNetwork net(7, config);
  net.AddCluster(10);
  net.set_loss(0.05);
  net.Run(5000);
  // Two members stall for 0.5-2 s again and again for two simulated minutes.
  SeededRng rng(99);
  for (int round = 0; round < 40; ++round) {
    for (const char* name : {"m3", "m8"}) {
      net.Stall(name, net.now() + rng.Range(500, 2000));
    }
    net.Run(3000);
  }
  net.Run(10000);
  EXPECT_EQ(CountEvents(net, Event::Kind::kDead), 0) << Deaths(net);
  EXPECT_TRUE(net.Converged());
  // The stalls were noticed: the stalled members' health rose at some point and
  // they refuted by raising their incarnations.
  EXPECT_GT(net.member("m3").Incarnation(), 10u);
}

TEST(MembershipCluster, GossipReachesEveryMemberQuicklyDespiteLoss) {
  TestNetwork net(8);
  net.AddCluster(20);
  net.Run(8000);
  ASSERT_TRUE(net.Converged());
  net.set_loss(0.10);
  Metadata meta;
  meta.load = 99;
  const Millis at = net.now();
  ASSERT_TRUE(net.member("m11").UpdateMetadata(meta, at).ok());
  Millis all_at = -1;
  for (Millis t = 0; t <= 3000 && all_at < 0; t += 50) {
    net.Run(50);
    bool all = true;
    for (int i = 0; i < 20; ++i)
      all &= net.member("m" + std::to_string(i)).Find("m11")->metadata.load == 99;
    if (all) all_at = net.now() - at;
  }
  ASSERT_GE(all_at, 0);
  EXPECT_LE(all_at, 1000);
}

TEST(MembershipCluster, EveryPacketStaysWithinTheBound) {
  TestNetwork net(9);
  std::size_t largest = 0;
  net.set_tap([&](const std::string&, const Packet& p, Millis) {
    largest = std::max(largest, p.bytes.size());
    auto decoded = wire::DecodePacket(p.bytes, wire::Limits{});
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  });
  net.AddCluster(20);
  net.set_loss(0.05);
  net.Crash("m4");
  net.Run(20000);
  EXPECT_GT(largest, 0u);
  EXPECT_LE(largest, Config{}.max_packet_bytes);
}

std::vector<std::string> RunAndRecord(std::uint64_t seed) {
  TestNetwork net(seed);
  net.AddCluster(10);
  net.set_loss(0.1);
  net.Run(5000);
  net.Crash("m4");
  net.Stall("m6", net.now() + 1500);
  net.Run(15000);
  std::vector<std::string> out;
  for (const auto& [observer, e] : net.events()) {
    out.push_back(observer + " " + std::to_string(static_cast<int>(e.kind)) + " " + e.member + " " +
                  std::to_string(e.incarnation) + " " + std::to_string(e.at) + " " + e.cause);
  }
  return out;
}

TEST(MembershipCluster, TheSameSeedReplaysTheSameEvents) {
  const auto first = RunAndRecord(11);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, RunAndRecord(11));
}

}  // namespace
}  // namespace tri::membership
