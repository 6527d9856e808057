// The pieces of `tri-sim swim` (docs/membership.md): the fault plan, the
// statistics, and the simulator's replay and checkers on small clusters.

#include "sim/swim_sim.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/rng.h"
#include "sim/swim_faults.h"
#include "sim/swim_goals.h"
#include "sim/swim_stats.h"

namespace tri::sim {
namespace {

SwimFaultOptions ManyFaults() {
  SwimFaultOptions f;
  f.crashes = 5;
  f.stall_fraction = 0.5;
  f.stall_mean_gap_ms = 2000;
  f.long_stalls = 5;
  f.long_stall_ms = 10000;
  f.partitions = 3;
  f.partition_ms = 5000;
  return f;
}

TEST(SwimFaultPlan, KeepsEveryFaultInsideTheWindowAndOneMembersStallsApart) {
  SeededRng rng(7);
  const SwimFaultPlan plan = SwimFaultPlan::Draw(ManyFaults(), 40, 1000, 61000, rng);
  ASSERT_EQ(plan.crashes().size(), 5u);
  std::vector<int> crashed;
  for (const CrashFault& c : plan.crashes()) {
    EXPECT_GE(c.at, 1000);
    EXPECT_LT(c.at, 61000);
    EXPECT_EQ(plan.CrashTime(c.member), c.at);
    crashed.push_back(c.member);
  }
  std::sort(crashed.begin(), crashed.end());
  EXPECT_EQ(std::unique(crashed.begin(), crashed.end()), crashed.end()) << "a member crashed twice";
  ASSERT_FALSE(plan.stalls().empty());
  for (const StallFault& a : plan.stalls()) {
    EXPECT_GE(a.start, 1000);
    EXPECT_LE(a.end, 61000);
    EXPECT_LT(a.start, a.end);
    for (const StallFault& b : plan.stalls()) {
      if (&a == &b || a.member != b.member) continue;
      EXPECT_TRUE(a.end <= b.start || b.end <= a.start) << "member " << a.member;
    }
  }
  for (const PartitionFault& p : plan.partitions()) {
    EXPECT_GE(p.start, 1000);
    EXPECT_LE(p.end, 61000);
  }
}

TEST(SwimFaultPlan, TheSameSeedDrawsTheSamePlan) {
  SeededRng a(11);
  SeededRng b(11);
  const SwimFaultPlan x = SwimFaultPlan::Draw(ManyFaults(), 30, 0, 60000, a);
  const SwimFaultPlan y = SwimFaultPlan::Draw(ManyFaults(), 30, 0, 60000, b);
  ASSERT_EQ(x.stalls().size(), y.stalls().size());
  for (std::size_t i = 0; i < x.stalls().size(); ++i) {
    EXPECT_EQ(x.stalls()[i].member, y.stalls()[i].member);
    EXPECT_EQ(x.stalls()[i].start, y.stalls()[i].start);
  }
  ASSERT_EQ(x.crashes().size(), y.crashes().size());
  for (std::size_t i = 0; i < x.crashes().size(); ++i) {
    EXPECT_EQ(x.crashes()[i].member, y.crashes()[i].member);
  }
}

TEST(SwimFaultPlan, APartitionSeparatesOnlyWhileActiveAndOnlyAcrossSides) {
  SwimFaultOptions f;
  f.partitions = 1;
  f.partition_ms = 5000;
  SeededRng rng(3);
  const SwimFaultPlan plan = SwimFaultPlan::Draw(f, 50, 0, 60000, rng);
  ASSERT_EQ(plan.partitions().size(), 1u);
  const PartitionFault& p = plan.partitions()[0];
  int a = -1;
  int b = -1;
  for (int m = 0; m < 50; ++m)
    (p.side[m] == 0 ? a : b) = m;
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_TRUE(plan.Separated(a, b, p.start));
  EXPECT_FALSE(plan.Separated(a, b, p.end));
  EXPECT_FALSE(plan.Separated(a, a, p.start));
  EXPECT_TRUE(plan.PartitionedDuring(a, p.end, p.end + 1000));
  EXPECT_FALSE(plan.PartitionedDuring(a, p.end + 1, p.end + 1000));
}

TEST(SwimStats, NearestRankPicksTheRankedValue) {
  std::vector<double> v{5, 1, 4, 2, 3, 6, 7, 8, 9, 10};
  EXPECT_EQ(NearestRank(v, 0.5), 5);
  EXPECT_EQ(NearestRank(v, 0.99), 10);
  EXPECT_EQ(NearestRank(v, 0.0), 1);
  std::vector<double> empty;
  EXPECT_EQ(NearestRank(empty, 0.5), -1);
}

TEST(SwimStats, NoEventSeenBoundsTheRateByTheRuleOfThree) {
  EXPECT_NEAR(PoissonUpper95(0, 1000), 0.002996, 1e-6);
  EXPECT_NEAR(PoissonUpper95(1, 1000), 0.004744, 1e-6);
  EXPECT_GT(PoissonUpper95(100, 1000), 0.1);
}

SwimSimOptions Small() {
  SwimSimOptions o;
  o.nodes = 30;
  o.loss = 0.01;
  o.duration_ms = 30000;
  o.faults.crashes = 2;
  o.updates = 3;
  return o;
}

TEST(SwimSim, ASeedReplaysExactly) {
  SwimSimOptions o = Small();
  o.faults.stall_fraction = 0.2;
  o.faults.partitions = 1;
  o.seed = 5;
  const SwimSimResult a = RunSwimSim(o);
  const SwimSimResult b = RunSwimSim(o);
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.datagrams_total, b.datagrams_total);
  EXPECT_EQ(a.detect_pair_ms, b.detect_pair_ms);
  EXPECT_EQ(a.dissemination_ms, b.dissemination_ms);
  EXPECT_EQ(a.explained_deaths, b.explained_deaths);
}

TEST(SwimSim, EveryCrashIsSeenDeadByEveryLiveMember) {
  SwimSimOptions o = Small();
  const SwimSimResult r = RunSwimSim(o);
  ASSERT_TRUE(r.ok) << r.violated << ": " << r.details;
  EXPECT_EQ(r.crashes, 2);
  // Every pair of (crash, live member): 27 or 28 live observers per crash.
  EXPECT_GE(r.detect_pair_ms.size(), 2u * 27u);
  EXPECT_EQ(r.detect_all_ms.size(), 2u);
  for (double ms : r.detect_pair_ms)
    EXPECT_GT(ms, 0);
  EXPECT_EQ(r.dissemination_ms.size(), 3u);
  EXPECT_EQ(r.false_positives, 0u);
  EXPECT_GT(r.kbit_per_member_second, 0);
}

TEST(SwimSim, AStallPastTheSuspicionTimeoutIsAnExplainedDeath) {
  SwimSimOptions o = Small();
  o.faults.crashes = 0;
  o.faults.long_stalls = 2;
  o.faults.long_stall_ms = 4 * MaxSuspicionTimeout(o.config, o.nodes);
  o.duration_ms = o.faults.long_stall_ms + 20000;
  const SwimSimResult r = RunSwimSim(o);
  ASSERT_TRUE(r.ok) << r.violated << ": " << r.details;
  EXPECT_GE(r.explained_deaths, 1u);
  EXPECT_EQ(r.false_positives, 0u);
}

TEST(SwimSim, AZombieCrashFailsTheDetectionCheck) {
  SwimSimOptions o = Small();
  o.bug = SwimBug::kZombieCrash;
  const SwimSimResult r = RunSwimSim(o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.violated, "crash detected by every member");
}

TEST(SwimSim, AMemberMuteAfterAShortStallIsAFalsePositive) {
  SwimSimOptions o = Small();
  o.faults.crashes = 0;
  o.faults.stall_fraction = 0.2;
  o.faults.stall_mean_gap_ms = 5000;
  o.bug = SwimBug::kMuteAfterStall;
  o.duration_ms = 60000;
  const SwimSimResult r = RunSwimSim(o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.violated, "no false positive") << r.details;
}

TEST(SwimSim, CountingModeCountsFalsePositivesInsteadOfFailing) {
  SwimSimOptions o = Small();
  o.faults.crashes = 0;
  o.faults.stall_fraction = 0.2;
  o.faults.stall_mean_gap_ms = 5000;
  o.bug = SwimBug::kMuteAfterStall;
  o.duration_ms = 60000;
  o.count_false_positives = true;
  const SwimSimResult r = RunSwimSim(o);
  EXPECT_TRUE(r.ok) << r.violated;
  EXPECT_GE(r.false_positives, 1u);
  EXPECT_GE(r.false_positive_observations, r.false_positives);
}

TEST(SwimSim, PooledSeedsAddUpTheirFigures) {
  SwimSimOptions o = Small();
  const std::vector<SwimSimResult> runs = RunSwimSeeds(o, 1, 3, 2);
  ASSERT_EQ(runs.size(), 3u);
  const SwimSimResult pooled = PoolSwimResults(runs);
  EXPECT_EQ(pooled.crashes, runs[0].crashes + runs[1].crashes + runs[2].crashes);
  EXPECT_NEAR(pooled.node_hours, runs[0].node_hours + runs[1].node_hours + runs[2].node_hours,
              1e-9);
  EXPECT_EQ(pooled.dissemination_ms.size(), 9u);
}

}  // namespace
}  // namespace tri::sim
