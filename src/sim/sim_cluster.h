#pragma once

// N nodes of the real Raft core (raft::RawNode) wired to the simulated
// network, per-node drifting tick clocks, durable in-memory storage and the KV
// state machine, following the Ready contract of raft/raw_node.h: persist,
// then send, then apply, then Advance. It serves the client workload
// (KvCluster) and reports everything it sees to the invariant checkers.
//
// Crash model: a node's raft::MemoryStorage is its disk. A crash discards the
// RawNode and all volatile state (unstable entries, the state machine, pending
// client requests); half of the crashes happen in the middle of handling a
// Ready, after persisting and before sending or applying. A restart rebuilds
// the node from its storage alone and replays the committed log.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "raft/raw_node.h"
#include "raft/storage.h"
#include "sim/kv_state_machine.h"
#include "sim/message_checks.h"
#include "sim/network.h"
#include "sim/raft_invariants.h"
#include "sim/raft_sim.h"
#include "sim/tick_clock.h"
#include "sim/workload.h"

namespace tri::sim {

class SimCluster final : public KvCluster {
 public:
  // Nodes beyond RaftSimOptions::nodes that start empty and join through
  // membership changes (only with the membership fault).
  static constexpr int kSpareNodes = 2;

  // `rng`, `workload` and `invariants` are not owned and must outlive the cluster.
  SimCluster(const RaftSimOptions& options, Rng* rng, Workload* workload,
             RaftInvariants* invariants);
  ~SimCluster() override;

  // KvCluster.
  bool Submit(SimNodeId node, const KvCommand& command) override;

  // Advances to `now_us`: delivers due messages, ticks due clocks, handles Readies.
  void Step(SimTimeUs now_us);

  void Crash(SimNodeId id);
  void Restart(SimNodeId id, SimTimeUs now_us);
  bool IsUp(SimNodeId id) const;
  std::vector<SimNodeId> node_ids() const;
  // A node that currently believes it is leader (highest term), if any is up.
  std::optional<SimNodeId> Leader() const;
  TickClock& clock(SimNodeId id);
  // The drift fault's range: kMaxDrift, or with lease reads (unless
  // drift_beyond_lease_bound) what keeps clock rates within the lease's bound.
  double max_drift() const;
  SimNetwork<raft::Message>& network() { return network_; }

  // Proposes a random membership change at the leader: add a spare node as a
  // learner, promote a learner, or remove a voter (keeping at least three).
  // Returns what was proposed ("" if nothing).
  std::string ChangeMembership();

  // Asks `leader` to hand leadership to `target`; false if refused at once.
  bool TransferLeader(SimNodeId leader, SimNodeId target);

  // Liveness probe: proposes a marker entry at the current leader.
  bool ProposeProbe(std::uint64_t probe_number);
  // True when every node has applied a probe numbered >= probe_number.
  bool ProbeAppliedEverywhere(std::uint64_t probe_number) const;

  // The storage a node would restart from (the synced copy under kLazyFsync).
  std::map<raft::NodeId, const raft::Storage*> DurableStorages() const;
  std::map<raft::NodeId, const raft::Storage*> Storages() const;
  // kLazyFsync only: the background flush that makes written data durable.
  void SyncAll();

  // With this probability a leader crashes right after persisting new entries,
  // before sending them (0 turns it off). Such nodes are reported by
  // TakeSuddenCrashes() and stay down until Restart().
  void set_leader_crash_after_append_probability(double p) {
    leader_crash_after_append_probability_ = p;
  }
  std::vector<SimNodeId> TakeSuddenCrashes();
  // With this probability a newly elected leader crashes right after persisting its
  // first entries (its empty entry of the new term, before sending them), and again
  // right after the Ready in which its commit index first advances (before announcing
  // it): the moments Figure 8 of the Raft paper is about. Reported by
  // TakeSuddenCrashes() like the crashes above; 0 (the default) turns it off.
  void set_new_leader_crash_probability(double p) { new_leader_crash_probability_ = p; }

  // Nodes that granted a vote since the last call (the nemesis likes to crash them).
  std::vector<SimNodeId> TakeRecentVoters();

  // A vote or pre-vote request a node sent (it started an election).
  struct Campaign {
    SimNodeId node = 0;
    raft::MessageType type = raft::MessageType::kPreVote;
    raft::Term term = 0;
  };
  // Campaigns since the last call.
  std::vector<Campaign> TakeCampaigns();
  // When a leader last sent MsgTimeoutNow (a leadership transfer's "campaign now";
  // -1: never). The leader forgets the transfer before the target acts on it.
  SimTimeUs last_timeout_now_us() const { return last_timeout_now_us_; }

  // What an up node believes now (for the idle phases' stability test).
  struct NodeView {
    raft::Term term = 0;
    raft::Role role = raft::Role::kFollower;
    raft::NodeId leader = raft::kNoNode;
    raft::Index commit = 0;
    raft::Index last_index = 0;
    raft::Index applied = 0;
    raft::NodeId lead_transferee = raft::kNoNode;
    raft::ConfState conf_state;
    bool clock_paused = false;  // no tick due within two periods
    // The last append, heartbeat or snapshot chunk the node received (-1: none since
    // it started): when, from whom, of which term.
    SimTimeUs leader_contact_us = -1;
    raft::NodeId leader_contact_from = raft::kNoNode;
    raft::Term leader_contact_term = 0;
  };
  std::optional<NodeView> View(SimNodeId id, SimTimeUs now_us) const;
  // Ends a pending clock pause of every node (its next tick comes one period from now).
  void UnpauseClocks(SimTimeUs now_us);

  std::uint64_t crashes() const { return crashes_; }
  std::uint64_t compactions() const { return compactions_; }
  std::uint64_t snapshots_installed() const { return snapshots_installed_; }

 private:
  struct Node;

  void HandleReadies(Node& node, SimTimeUs now_us, bool crash_midway = false);
  void Apply(Node& node, const raft::Entry& entry);
  void ServeReads(Node& node);
  void ObserveRole(Node& node);
  // Whether a leader crashes now, after persisting `rd` and before sending it.
  bool SuddenLeaderCrash(Node& node, const raft::Ready& rd, raft::Index commit_before);
  void DropVolatileState(Node& node);
  void MaybeCompact(Node& node);
  Node& node(SimNodeId id);
  const Node& node(SimNodeId id) const;
  // The storage a node would restart from (the synced copy under kLazyFsync).
  const raft::MemoryStorage& durable(const Node& node) const;
  // Leader-side checks of one Ready (commit advance, reads handed out).
  void CheckLeaderReady(Node& node, const raft::Ready& rd, const std::set<raft::NodeId>& voters);

  RaftSimOptions options_;
  Rng* rng_;
  Workload* workload_;
  RaftInvariants* invariants_;
  MessageChecks message_checks_;
  SimNetwork<raft::Message> network_;
  std::vector<std::unique_ptr<Node>> nodes_;             // nodes_[id - 1]
  std::map<std::uint64_t, std::uint64_t> probe_digest_;  // probe number -> state digest
  std::map<std::uint64_t, raft::Index> probe_index_;     // probe number -> log index
  std::uint64_t max_msg_size_bytes_ = 0;
  std::uint32_t max_inflight_msgs_ = 0;
  raft::Index compact_every_entries_ = 0;  // 0: never compact
  raft::Index compact_keep_entries_ = 0;   // entries kept below a snapshot
  std::vector<SimNodeId> recent_voters_;
  std::vector<Campaign> campaigns_;
  SimTimeUs last_timeout_now_us_ = -1;
  std::vector<SimNodeId> sudden_crashes_;
  double leader_crash_after_append_probability_ = 0;
  double new_leader_crash_probability_ = 0;
  std::uint64_t crashes_ = 0;
  std::uint64_t compactions_ = 0;
  std::uint64_t snapshots_installed_ = 0;
  SimTimeUs now_us_ = 0;
  std::uint64_t read_counter_ = 0;
};

}  // namespace tri::sim
