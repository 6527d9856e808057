#pragma once

// One simulated run of the coordination primitives on a cluster of real nodes
// (`tri-sim coord`, docs/simulation-coordination.md): the node simulation's
// cluster (node_cluster.h: server::NodeCore on the WAL over simulated disks,
// the simulated network, drifting tick clocks and wall clocks with different
// offsets) with, on every node, the leader's server::LeaseExecutor (promote,
// expire) and the leader's server::BarrierTimer (a BarrierExpireCommand once
// its clock passes BarrierTable::NextDeadline), proposing through the node
// like the real ones; and clients that, through random members:
// - grant leases, put keys under them, keep them alive at random intervals
//   (some stop keeping alive and let them expire), revoke some;
// - take native locks (kLock acquire with their lease, release, cancel a wait
//   that lasted too long) and, while they believe they hold one, write a
//   "fenced resource" key through a Txn whose compare is the lock's fence key
//   == their token;
// - create barriers (random thresholds, deadlines, predecessors) and arrive.
// A watcher per node takes the events its state machine applied
// (StateMachine::TakeEvents) and, after the node restarts, resumes from the
// store's history (MvccStore::Events) after the last revision it received.
// The nemesis (node_nemesis.h) partitions, crashes, fails disks and drifts
// clocks; then every fault stops while the clients go on for a while (leases
// expire once leaders stop changing: every new leader's Promote gives every
// lease its full TTL again), and at last the clients stop and the cluster
// settles.
//
// Checked (coord_checkers.h) on the committed log, read in order from the
// nodes' logs and applied to a reference state machine: one holder per lock
// as the fenced resource sees it, increasing tokens, FIFO hand-over, lease
// expiry only after the TTL since the last applied keep-alive (in log time),
// barrier release once and at the threshold, watchers see every revision once
// and in order; plus replica state hashes at equal applied indexes and, at the
// end, every replica's state hash equal to the reference's.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/node_sim.h"

namespace tri::sim {

enum class CoordInjectedBug : std::uint8_t {
  kNone = 0,
  // rsm::LeaseOptions::TestingBugs::ignore_keep_alives.
  kIgnoreKeepAlives,
  // rsm::LockOptions::TestingBugs::grant_to_last_waiter.
  kGrantToLastWaiter,
  // rsm::LockOptions::TestingBugs::stale_fence_on_handover.
  kStaleFenceOnHandover,
  // The watchers ignore StateMachine::restore_epoch (a snapshot that replaced
  // the state goes unnoticed, as it did in the node's watch hub before the
  // epoch continued across installs): they miss the revisions it covered.
  kWatcherIgnoresRestoreEpoch,
};
Result<CoordInjectedBug> ParseCoordInjectedBug(std::string_view name);
std::string_view CoordInjectedBugName(CoordInjectedBug bug);

struct CoordSimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  std::uint32_t clients = 8;   // lease and lock clients
  std::uint32_t locks = 3;     // lock names they compete for
  std::uint32_t barriers = 6;  // barriers created over the run
  // Simulated time with faults and client work.
  std::uint64_t duration_ms = 12'000;
  // Then simulated time of client work without faults.
  std::uint64_t quiet_ms = 6'000;
  NodeFaultSet faults;
  CoordInjectedBug bug = CoordInjectedBug::kNone;
  // Simulated time allowed after the faults stop for the cluster to settle.
  std::uint64_t settle_bound_ms = 60'000;
  std::uint64_t snapshot_count = 64;
  bool verbose = false;
};

struct CoordSimResult {
  bool ok = true;
  std::string violated;  // the rule (coord_checkers.h), "liveness" or "simulator"
  std::string details;
  // Statistics for the summary.
  std::int64_t simulated_us = 0;
  std::uint64_t committed_index = 0;
  std::uint64_t max_term = 0;
  std::uint64_t entries = 0;
  std::uint64_t leases_granted = 0;
  std::uint64_t keep_alives = 0;
  std::uint64_t leases_expired = 0;
  std::uint64_t leases_revoked = 0;
  std::uint64_t grants = 0;
  std::uint64_t handovers = 0;
  std::uint64_t fenced_writes = 0;
  std::uint64_t fenced_writes_refused = 0;
  std::uint64_t barriers_released = 0;
  std::uint64_t barriers_timed_out = 0;
  std::uint64_t arrivals = 0;
  std::uint64_t watch_events_checked = 0;
  std::uint64_t watch_resumes = 0;
  std::uint64_t hashes_compared = 0;
  // Times the observer went on from a replica's state over entries that only
  // snapshots held (CoordLogObserver::ResyncFrom).
  std::uint64_t observer_resyncs = 0;
  std::uint64_t crashes = 0;
  std::uint64_t fatal_stops = 0;
  std::uint64_t partitions = 0;
};

CoordSimResult RunCoordSim(const CoordSimOptions& options);

// A summary (ok) or a failure report ending with a "replay: tri-sim coord ..." line.
std::string FormatCoordSimResult(const CoordSimOptions& options, const CoordSimResult& result);

}  // namespace tri::sim
