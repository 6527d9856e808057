#pragma once

// One simulated run of a cluster of real Trinity nodes (`tri-sim node`): N
// server::NodeCore instances, each on its own io::SimFileSystem through the real
// WAL-backed Raft storage, talking over the simulated network (network.h) with
// drifting clocks (tick_clock.h), serving a client workload of puts, linearizable
// gets, compare-and-swap transactions and serializable reads, under a nemesis
// that partitions, crashes (power loss or process stop, also right after Process
// before its messages leave), fails fsyncs and writes, and drifts clocks.
// Everything is driven from one thread and one seed, so a seed replays exactly.
//
// Phases: faults while the workload runs; then every fault stops (links heal,
// disks stop failing, every node restarts) and the cluster must settle: a leader,
// every node applied up to its commit index; then a linearizable final read of
// every key through the leader. Checked: replicas' state hashes at shared applied
// indexes, the committed log prefix across nodes, serializable reads against the
// settled history, and the linearizability of the whole client history (which
// includes the final reads, so every acknowledged write must survive).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "rsm/parallel_apply.h"
#include "txn/options.h"

namespace tri::sim {

struct NodeFaultSet {
  bool loss = false;
  bool dup = false;
  bool reorder = false;
  bool partition = false;
  bool crash = false;  // power losses, process stops, crashes right after Process
  bool disk = false;   // EIO on fsync and on writes (the node stops and restarts later)
  bool drift = false;

  static NodeFaultSet All() { return NodeFaultSet{true, true, true, true, true, true, true}; }
  // "loss,dup,reorder,partition,crash,disk,drift", "all" or "none".
  static Result<NodeFaultSet> Parse(std::string_view list);
  std::string ToString() const;
};

enum class NodeInjectedBug : std::uint8_t {
  kNone = 0,
  // storage::WalRaftStorageOptions::TestingBugs::ack_before_sync: Sync reports
  // success without writing, so a crash loses what the node acknowledged.
  kAckBeforeSync,
};
Result<NodeInjectedBug> ParseNodeInjectedBug(std::string_view name);
std::string_view NodeInjectedBugName(NodeInjectedBug bug);

struct NodeSimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  std::uint64_t ops = 300;
  std::uint32_t clients = 4;
  std::uint32_t keys = 4;
  NodeFaultSet faults;
  NodeInjectedBug bug = NodeInjectedBug::kNone;
  // Simulated time allowed after the faults stop for the cluster to settle.
  std::uint64_t settle_bound_ms = 30'000;
  // A snapshot every this many applied entries (small, so snapshots, log
  // compaction and snapshot installs happen within a run).
  std::uint64_t snapshot_count = 64;
  // With the dup fault, also duplicate forwarded client proposals (MsgProp), which
  // the real transport never does: each copy is appended and applied, so a put can
  // take effect twice (shows why proposals are not idempotent; fails linearizability).
  bool duplicate_proposals = false;
  // A restarted node's wall clock resumes where it stopped instead of running on
  // while it was down (a clock stepped back across a restart): NodeCore's request
  // ids (etcd's scheme: start time in ms, then a counter) then repeat, and a reply
  // meant for the previous incarnation's entry completes the new one's request.
  bool restart_clock_frozen = false;
  // Parallel apply (docs/transactions.md, "In the node") in the odd-numbered nodes: the
  // executor's threads (0: off, entries apply one by one), the shortest run
  // handed to it (1: every KV entry), and its scheduler. The even-numbered
  // nodes apply one by one, so the replica hash check compares both ways.
  std::uint32_t parallel_apply_threads = 0;
  std::uint64_t parallel_apply_min_batch = 1;
  txn::Scheduler parallel_apply_scheduler = txn::Scheduler::kOptimistic;
  bool verbose = false;  // log every fault
};

struct NodeSimResult {
  bool ok = true;
  std::string violated;  // the invariant that failed
  std::string details;
  // Statistics for the summary line.
  std::int64_t simulated_us = 0;
  std::uint64_t committed_index = 0;
  std::uint64_t max_term = 0;
  std::uint64_t ops_completed = 0;
  std::uint64_t ops_timed_out = 0;
  std::uint64_t serializable_reads = 0;
  std::uint64_t serializable_checked = 0;
  std::uint64_t hashes_compared = 0;
  rsm::ParallelApplyStats parallel_apply;  // over every node and restart
  std::uint64_t crashes = 0;
  std::uint64_t fatal_stops = 0;  // nodes stopped by a storage failure
  std::uint64_t partitions = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t linearizability_steps = 0;
};

NodeSimResult RunNodeSim(const NodeSimOptions& options);

// One line (ok) or a failure report ending with a "replay: tri-sim node ..." line.
std::string FormatNodeSimResult(const NodeSimOptions& options, const NodeSimResult& result);

}  // namespace tri::sim
