#include "sim/raft_sim.h"

#include <gtest/gtest.h>

#include "sim/tick_clock.h"

namespace tri::sim {
namespace {

RaftSimOptions Options(std::uint64_t seed, int nodes, FaultSet faults) {
  RaftSimOptions o;
  o.seed = seed;
  o.nodes = nodes;
  o.ops = 200;
  o.faults = faults;
  return o;
}

TEST(FaultSet, ParsesListsAllAndNoneAndRejectsUnknownNames) {
  auto f = FaultSet::Parse("loss,partition");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->loss && f->partition);
  EXPECT_FALSE(f->dup || f->reorder || f->crash || f->drift);
  EXPECT_EQ(f->ToString(), "loss,partition");
  EXPECT_EQ(FaultSet::Parse("all")->ToString(), "all");
  EXPECT_EQ(FaultSet::Parse("none")->ToString(), "none");
  EXPECT_FALSE(FaultSet::Parse("loss,meteor").ok());
  EXPECT_FALSE(ParseInjectedBug("typo").ok());
  EXPECT_EQ(*ParseInjectedBug("forget-vote"), InjectedBug::kForgetVote);
  for (InjectedBug bug :
       {InjectedBug::kDoubleVote, InjectedBug::kCommitByCount,
        InjectedBug::kVoteNotPersistedSameTerm, InjectedBug::kAcceptStaleTermAppend,
        InjectedBug::kHeartbeatNoTimerReset, InjectedBug::kLearnersCountForCommit,
        InjectedBug::kReadBeforeOwnTermCommit}) {
    EXPECT_EQ(*ParseInjectedBug(InjectedBugName(bug)), bug);
  }
}

TEST(RaftSim, ReplayLineNamesEveryNonDefaultOption) {
  RaftSimOptions o = Options(9, 3, *FaultSet::Parse("partition,crash"));
  o.new_leader_crash_probability = 0.6;
  o.lease_reads = true;
  o.drift_beyond_lease_bound = true;
  o.idle_phases = false;
  o.bug = InjectedBug::kCommitByCount;
  EXPECT_EQ(ReplayArguments(o),
            "--seed 9 --nodes 3 --ops 200 --faults partition,crash --lease-reads "
            "--drift-beyond-lease-bound --new-leader-crashes 0.6 --no-idle-phases "
            "--inject-bug commit-by-count");
}

TEST(TickClock, LeaseDriftRangeKeepsClockRatesWithinTheCoresBound) {
  const double ratio = 9.0 / 7.0;  // raft::LeaseMaxClockRateRatio with the defaults
  const double d = MaxDriftForRateRatio(ratio);
  // The fastest clock (period 1 - d) against the slowest (period 1 + d).
  EXPECT_NEAR((1 + d) / (1 - d), ratio, 1e-12);
  EXPECT_DOUBLE_EQ(DriftFromUniform(0, d), -d);
  EXPECT_LT(DriftFromUniform(0.999999, d), d);
  // The unbounded range is the historic one (seeds replay as before).
  for (double u : {0.0, 0.1234, 0.5, 0.987}) {
    EXPECT_EQ(DriftFromUniform(u, kMaxDrift), u * 0.6 - 0.3);
  }
}

TEST(RaftSim, FaultFreeClusterServesEveryOperation) {
  const RaftSimResult r = RunRaftSim(Options(1, 3, FaultSet{}));
  EXPECT_TRUE(r.ok) << r.violated << ": " << r.details;
  EXPECT_EQ(r.ops_timed_out, 0u);
  EXPECT_GT(r.ops_completed, 190u);
  EXPECT_GT(r.committed_entries, 50u);
  EXPECT_GE(r.liveness_ticks, 0);
}

TEST(RaftSim, ClustersStaySafeLiveAndLinearizableUnderAllFaults) {
  for (int nodes : {3, 5}) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      const RaftSimResult r = RunRaftSim(Options(seed, nodes, FaultSet::All()));
      EXPECT_TRUE(r.ok) << FormatRaftSimResult(Options(seed, nodes, FaultSet::All()), r);
    }
  }
}

TEST(RaftSim, IdlePhasesAreWatchedInEveryClusterSize) {
  for (int nodes : {1, 3, 5}) {
    RaftSimOptions o = Options(3, nodes, FaultSet::All());
    o.ops = 1000;
    const RaftSimResult r = RunRaftSim(o);
    EXPECT_TRUE(r.ok) << FormatRaftSimResult(o, r);
    EXPECT_GT(r.idle_phases, 0u) << FormatRaftSimResult(o, r);
  }
}

TEST(RaftSim, ASeedReplaysExactly) {
  const auto options = Options(77, 5, FaultSet::All());
  const RaftSimResult a = RunRaftSim(options);
  const RaftSimResult b = RunRaftSim(options);
  EXPECT_EQ(FormatRaftSimResult(options, a), FormatRaftSimResult(options, b));
  const RaftSimResult c = RunRaftSim(Options(78, 5, FaultSet::All()));
  EXPECT_NE(a.messages_sent, c.messages_sent);
}

TEST(RaftSim, StaleReadBugIsReportedAsALinearizabilityViolationWithItsSeed) {
  auto options = Options(0, 3, FaultSet::All());
  options.bug = InjectedBug::kStaleRead;
  bool caught = false;
  for (std::uint64_t seed = 1; seed <= 20 && !caught; ++seed) {
    options.seed = seed;
    const RaftSimResult r = RunRaftSim(options);
    if (!r.ok) {
      EXPECT_EQ(r.violated, "linearizability");
      const std::string report = FormatRaftSimResult(options, r);
      EXPECT_NE(report.find("--seed " + std::to_string(seed)), std::string::npos) << report;
      caught = true;
    }
  }
  EXPECT_TRUE(caught);
}

}  // namespace
}  // namespace tri::sim
