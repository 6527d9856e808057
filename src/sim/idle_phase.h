#pragma once

// Idle phases: fault-free stretches in the middle of a run during which no
// election may happen. Every few simulated seconds the runner pauses the nemesis
// and the clients (every partition heals, every crashed node restarts, no loss,
// duplication or clock pause; drift stays within +-30%, far below what an
// election timeout tolerates with a heartbeat every tick). Once the cluster is
// stable (one leader, every member of its configuration up, in its term and
// following it, its log committed and applied, no transfer in flight and no
// MsgTimeoutNow sent within an election timeout) the
// watch begins: for `watch_election_timeouts` election timeouts no member may
// change its term or send a vote or pre-vote request, and the leader must stay
// leader. A broken election timer (e.g. one that heartbeats do not reset)
// shows up here as a campaign against a healthy leader; with pre-vote and
// check-quorum such a campaign fails without a term change, so it would go
// unnoticed by every other check.
//
// A cluster that does not become stable within the settling bound is not
// watched this time (the end-of-run liveness check judges progress).

#include <cstdint>
#include <set>
#include <string>

#include "base/rng.h"
#include "sim/network.h"
#include "sim/raft_invariants.h"
#include "sim/sim_cluster.h"

namespace tri::sim {

struct IdlePhaseConfig {
  // Gap of fault phase before the first idle phase and between two of them.
  SimTimeUs min_gap_us = 1'500'000;
  SimTimeUs max_gap_us = 4'000'000;
  // How long the cluster may take to become stable once faults pause.
  SimTimeUs settle_bound_us = 3'000'000;
  // Length of the watch, in nominal election timeouts.
  int watch_election_timeouts = 5;
  SimTimeUs election_timeout_us = 100'000;
};

class IdlePhases {
 public:
  // Not owned; must outlive this.
  IdlePhases(const IdlePhaseConfig& config, Rng* rng, SimCluster* cluster,
             RaftInvariants* invariants);

  // True when the fault phase should pause for an idle phase now.
  bool Due(SimTimeUs now_us) const { return !active_ && now_us >= next_start_us_; }
  bool active() const { return active_; }
  // The caller has paused faults and clients.
  void Begin(SimTimeUs now_us);
  // Called after each simulation step while active. Returns true when the phase
  // is over (faults and clients may resume).
  bool Step(SimTimeUs now_us);

  std::uint64_t watched() const { return watched_; }

 private:
  struct Leadership {
    SimNodeId leader = 0;
    raft::Term term = 0;
    std::set<SimNodeId> members;
  };
  // The cluster's stable leadership, if it has one now.
  bool Stable(SimTimeUs now_us, Leadership* out) const;
  void Watch(SimTimeUs now_us);
  void End(SimTimeUs now_us);

  IdlePhaseConfig config_;
  Rng* rng_;
  SimCluster* cluster_;
  RaftInvariants* invariants_;
  bool active_ = false;
  bool watching_ = false;
  SimTimeUs next_start_us_ = 0;
  SimTimeUs begin_us_ = 0;     // when faults paused
  SimTimeUs deadline_us_ = 0;  // end of settling, then end of the watch
  SimTimeUs watch_start_us_ = 0;
  Leadership stable_;
  std::uint64_t watched_ = 0;
};

}  // namespace tri::sim
