#pragma once

// N real nodes (server::NodeCore over storage::WalRaftStorage) in the simulator:
// each on its own io::SimFileSystem and tick clock, wired to the simulated network.
// It serves the client workload (KvCluster: puts and compare-and-swaps go through
// the log as rsm KV requests; gets are linearizable reads — ReadLinearizable, then
// a Range on the node's state machine), serves serializable reads, and reports what
// replicas hold to the checkers (node_checkers.h) after every Process.
//
// Crash model: a power loss drops the node and crashes its file system (unsynced
// writes lost, the last one possibly torn); a process stop drops the node but keeps
// what reached the file system; a storage failure (ProcessOutput::fatal) stops the
// node like either. A crash can be armed to strike right after the node's next
// Process that sends messages, before they leave. Restart reopens the storage from
// the node's disk and creates a fresh NodeCore.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "server/node_core.h"
#include "sim/network.h"
#include "sim/node_checkers.h"
#include "sim/node_sim.h"
#include "sim/tick_clock.h"
#include "sim/workload.h"
#include "storage/wal_raft_storage.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::sim {

inline constexpr std::uint32_t kNodeTickMs = 10;

// Driver work beside the KV workload on each node (the saga simulation's
// executor and clients, saga_sim.h). The cluster tells it when a node comes up
// or goes down, calls it after every Process of an up node, hands it the
// completions of the requests it issued (tokens from NodeCluster::NewToken),
// and processes a node again once the node's wall clock reaches NextWakeMs.
class NodeClusterHooks {
 public:
  virtual ~NodeClusterHooks() = default;
  // Adjusts the options of node `id`'s core before each (re)start.
  virtual void ConfigureNode(SimNodeId id, server::NodeCoreOptions& options) = 0;
  virtual void OnNodeUp(SimNodeId id) = 0;
  // The node stopped (crash or storage failure): its requests died with it.
  virtual void OnNodeDown(SimNodeId id) = 0;
  // Right after every Process of node `id`, before anything else (a crash
  // armed for this Process, a storage failure) can take the node down: what
  // it committed can be read from its storage.
  virtual void OnProcessed(SimNodeId id, const server::NodeCore& core) = 0;
  // After a Process of up node `id` that left it up, whose wall clock reads
  // `local_ms`. True when it proposed something, so the node must Process again.
  virtual bool AfterProcess(SimNodeId id, server::NodeCore& core, std::uint64_t local_ms) = 0;
  virtual void OnCompletion(SimNodeId id, server::Completion completion) = 0;
  // Node `id`'s wall-clock ms at which AfterProcess wants to run again
  // (UINT64_MAX: no wish).
  virtual std::uint64_t NextWakeMs(SimNodeId id) const = 0;
};

// Workload keys and values as the rsm sees them.
std::string NodeSimKey(KvKey key);
std::string NodeSimValue(KvValue value);

class NodeCluster final : public KvCluster {
 public:
  // Not owned; all outlive the cluster.
  // `hooks` (optional) must outlive the cluster too.
  NodeCluster(const NodeSimOptions& options, Rng* rng, Workload* workload,
              ReplicaAgreement* agreement, SerializableReadCheck* serializable,
              NodeClusterHooks* hooks = nullptr);
  ~NodeCluster() override;

  // KvCluster.
  bool Submit(SimNodeId node, const KvCommand& command) override;

  // Advances to `now_us`: delivers due messages, ticks due clocks, processes nodes.
  void Step(SimTimeUs now_us);

  // Crashes node `id` (power loss: its file system loses unsynced writes) at `now_us`.
  void Crash(SimNodeId id, bool power_loss, SimTimeUs now_us);
  // The next Process of `id` that sends messages crashes the node before they leave.
  void ArmCrashAfterProcess(SimNodeId id);
  // Reopens a down node from its disk. False when its storage cannot be opened
  // because of an injected disk fault (try again later); a failure to recover
  // otherwise is recorded as a violation.
  bool Restart(SimNodeId id, SimTimeUs now_us);
  void SetDiskFaults(const io::SimFaults& faults);

  // A serializable read of `key` served by `node`'s state machine (if it is up).
  void ServeSerializableRead(SimNodeId node, KvKey key);

  // Final reads: a linearizable read of `key` through `node`; the answer appears in
  // final_read(token) once served (nullopt while pending or after a failure).
  std::optional<std::uint64_t> StartFinalRead(SimNodeId node, KvKey key);
  struct FinalRead {
    bool done = false;
    bool ok = false;
    KvValue value = kAbsent;
  };
  const FinalRead& final_read(std::uint64_t token) const { return final_reads_.at(token); }

  // Records the state hash of every up node now (at the end, when they agree).
  void RecordAllStateHashes();

  bool IsUp(SimNodeId id) const;
  std::vector<SimNodeId> node_ids() const;
  // The up node that leads in the highest term, if any.
  std::optional<SimNodeId> Leader() const;
  // True when a leader exists and every node is up and has applied up to the
  // leader's commit index.
  bool Settled() const;
  const server::NodeCore* core(SimNodeId id) const;
  // What the nodes' parallel apply did, summed over nodes and restarts.
  const rsm::ParallelApplyStats& parallel_apply_stats() const { return parallel_apply_stats_; }
  // For hooks: a request token no other request uses, an up node's core and
  // storage (nullptr when down), its wall clock, and a Process on the next Step.
  server::RequestToken NewToken() { return ++next_token_; }
  server::NodeCore* mutable_core(SimNodeId id) { return node(id).core.get(); }
  const storage::WalRaftStorage* storage(SimNodeId id) const { return node(id).storage.get(); }
  std::uint64_t local_ms(SimNodeId id) const { return node(id).local_ms; }
  void MarkDirty(SimNodeId id) { node(id).dirty = true; }
  TickClock& clock(SimNodeId id);
  SimNetwork<raft::Message>& network() { return network_; }

  // A recovery failure (storage or NodeCore refusing a node's own disk).
  const std::optional<ReplicaViolation>& recovery_violation() const { return recovery_violation_; }
  std::uint64_t crashes() const { return crashes_; }
  std::uint64_t fatal_stops() const { return fatal_stops_; }
  std::uint64_t max_term() const;
  std::string Describe() const;  // one line per node, for failure reports

 private:
  struct Outbox final : public server::MessageSink {
    void Send(std::vector<raft::Message> messages) override;
    std::vector<raft::Message> pending;
  };
  // What a request token is waiting for.
  struct Pending {
    enum class What { kClientOp, kFinalRead } what = What::kClientOp;
    KvCommand command;  // kClientOp
    KvKey key = 0;      // kFinalRead
  };
  struct Node {
    SimNodeId id = 0;
    std::unique_ptr<SeededRng> rng;  // the disk's and the core's randomness
    std::unique_ptr<io::SimFileSystem> fs;
    std::unique_ptr<storage::WalRaftStorage> storage;
    std::unique_ptr<server::NodeCore> core;
    Outbox outbox;
    std::unique_ptr<TickClock> clock;
    std::uint64_t local_ms = 0;   // this node's wall clock
    SimTimeUs down_since_us = 0;  // when it crashed (its wall clock runs on meanwhile)
    std::map<server::RequestToken, Pending> pending;
    bool dirty = false;
    bool crash_after_process = false;
    std::uint64_t checked_commit = 0;  // committed log checked up to here
    std::uint64_t hashed_applied = 0;
    SimTimeUs last_hash_us = -1;
  };

  Node& node(SimNodeId id);
  const Node& node(SimNodeId id) const;
  Status Open(Node& n);
  void Process(Node& n, SimTimeUs now_us);
  void Complete(Node& n, server::Completion c, SimTimeUs now_us);
  void CheckReplica(Node& n, SimTimeUs now_us);
  void RecoveryViolation(std::string details);

  const NodeSimOptions options_;
  // Shared by the nodes (they run one at a time); nullptr: parallel apply off.
  std::unique_ptr<txn::ParallelExecutor> apply_executor_;
  rsm::ParallelApplyStats parallel_apply_stats_;
  Rng* const rng_;
  Workload* const workload_;
  ReplicaAgreement* const agreement_;
  SerializableReadCheck* const serializable_;
  NodeClusterHooks* const hooks_;
  std::vector<server::Member> founders_;
  std::map<SimNodeId, Node> nodes_;
  SimNetwork<raft::Message> network_;
  io::SimFaults disk_faults_;
  server::RequestToken next_token_ = 0;
  std::map<std::uint64_t, FinalRead> final_reads_;
  std::optional<ReplicaViolation> recovery_violation_;
  std::uint64_t crashes_ = 0;
  std::uint64_t fatal_stops_ = 0;
};

}  // namespace tri::sim
