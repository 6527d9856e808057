#pragma once

// One simulated run of a Raft cluster: N nodes of the real core (tri_raft)
// with in-memory storage, the simulated network, drifting tick clocks, a
// nemesis that injects the chosen faults, the KV client workload, and the
// checkers (raft_invariants.h, linearizability.h). Everything is driven from
// one thread and one seed, so a seed replays exactly.
//
// A run has three phases: faults while the workload runs; then every fault
// stops (partitions heal, crashed nodes restart, loss and duplication end)
// and the cluster must elect a leader and commit a probe entry on every node
// within a bounded number of ticks (liveness); finally the client history is
// checked for linearizability.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/network.h"

namespace tri::sim {

struct FaultSet {
  bool loss = false;
  bool dup = false;
  bool reorder = false;
  bool partition = false;
  bool crash = false;
  bool drift = false;
  bool transfer = false;    // leadership transfers requested at random moments
  bool membership = false;  // learners join and are promoted, voters are removed

  static FaultSet All() { return FaultSet{true, true, true, true, true, true, true, true}; }
  // "loss,dup,reorder,partition,crash,drift,transfer,membership", "all" or "none".
  static Result<FaultSet> Parse(std::string_view list);
  std::string ToString() const;
};

// Bugs the simulator can inject on purpose, to show the checkers catch them:
// driver bugs (the simulator mishandles the Ready contract or storage), and core
// bugs switched on through raft::Config::TestingBugs (test-only knobs).
enum class InjectedBug : std::uint8_t {
  kNone = 0,
  // The driver does not persist the vote: a restarted node forgets whom it
  // voted for in its current term and can vote twice (two leaders in a term).
  kForgetVote,
  // Reads are served from the local state machine without ReadIndex.
  kStaleRead,
  // The driver sends messages before its writes are synced; a crash loses the
  // unsynced tail of the log although peers were told it was durable.
  kLazyFsync,
  // Core (TestingBugs::count_duplicate_votes): a duplicated vote response counts
  // as another vote.
  kDoubleVote,
  // Core (TestingBugs::commit_previous_term_by_count): a leader commits an entry
  // of an earlier term once a quorum stores it (Figure 8 of the Raft paper).
  kCommitByCount,
  // Core (TestingBugs::vote_not_persisted_same_term): a vote granted in the term the
  // voter is already in is sent without being recorded, so never made durable.
  kVoteNotPersistedSameTerm,
  // Core (TestingBugs::accept_stale_term_append): a follower accepts an append from
  // a leader of an older term.
  kAcceptStaleTermAppend,
  // Core (TestingBugs::heartbeat_no_timer_reset): heartbeats do not reset the
  // election timer.
  kHeartbeatNoTimerReset,
  // Core (TestingBugs::learners_count_for_commit): learners count towards a commit.
  kLearnersCountForCommit,
  // Core (TestingBugs::read_before_own_term_commit): a new leader answers reads
  // before committing an entry of its term.
  kReadBeforeOwnTermCommit,
};
Result<InjectedBug> ParseInjectedBug(std::string_view name);
std::string_view InjectedBugName(InjectedBug bug);

struct RaftSimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  std::uint64_t ops = 200;
  std::uint32_t clients = 3;
  std::uint32_t keys = 3;
  FaultSet faults;
  InjectedBug bug = InjectedBug::kNone;
  SimTimeUs tick_us = 10'000;  // nominal tick period
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Liveness bound: after faults stop, a leader and a committed probe within this
  // many nominal ticks.
  int liveness_bound_ticks = 300;
  // Fault phase ends when the workload is done or after this much simulated time.
  SimTimeUs max_fault_phase_us = 120'000'000;
  // Reads use the leader lease (raft::ReadOnlyOption::kLeaseBased) instead of a
  // heartbeat round: linearizable only while tick rates stay within the bound the
  // core states (raft::LeaseMaxClockRateRatio). With lease reads the drift fault
  // therefore keeps within that bound (drift limited accordingly, no clock pauses),
  // unless drift_beyond_lease_bound: then the usual +-30% drift and pauses apply
  // and stale lease reads are expected.
  bool lease_reads = false;
  bool drift_beyond_lease_bound = false;
  // With the crash fault: probability that a newly elected leader crashes right
  // after persisting its first entries, and right after its first commit-index
  // advance, before sending either (SimCluster::set_new_leader_crash_probability).
  // 0 by default; raising it makes Figure-8 interleavings common.
  double new_leader_crash_probability = 0;
  // Idle phases (idle_phase.h): every few seconds of the fault phase, faults and
  // clients pause and no election may happen while the cluster is stable.
  bool idle_phases = true;
  bool verbose = false;  // log faults to stdout
};

struct RaftSimResult {
  bool ok = true;
  std::string violated;  // invariant name when !ok
  std::string details;
  // Measures, for the summary.
  SimTimeUs simulated_us = 0;
  std::uint64_t committed_entries = 0;
  std::uint64_t leaders = 0;
  std::uint64_t max_term = 0;
  std::uint64_t ops_completed = 0;
  std::uint64_t ops_timed_out = 0;
  std::uint64_t ops_refused = 0;
  std::uint64_t crashes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t snapshots_installed = 0;  // snapshots received from a leader
  std::uint64_t partitions = 0;
  std::uint64_t idle_phases = 0;  // idle phases watched (the cluster became stable)
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;
  std::int64_t liveness_ticks = -1;  // nominal ticks from "faults stop" to probe committed
  std::uint64_t linearizability_steps = 0;
};

RaftSimResult RunRaftSim(const RaftSimOptions& options);

// One line: "seed 7 nodes 3 ops 200 faults all: ok ..." or the violation.
std::string FormatRaftSimResult(const RaftSimOptions& options, const RaftSimResult& result);
// The tri-sim arguments that replay `options` exactly.
std::string ReplayArguments(const RaftSimOptions& options);

}  // namespace tri::sim
