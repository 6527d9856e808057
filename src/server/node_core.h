#pragma once

// NodeCore: the deterministic part of a Trinity node. It owns the Raft core
// (raft::RawNode), handles its Ready (persist through the WAL-backed storage, send,
// apply to the replicated state machine, Advance), tracks client requests until
// their entry is applied or their read point is reached, batches linearizable
// reads into shared ReadIndex rounds, and takes snapshots by policy.
//
// It has no thread, socket or clock of its own: the driver (server/node.h) or the
// simulator feeds it events — Tick(now), Step(message), client requests — and then
// calls Process(), which does the storage I/O through the io::FileSystem seam the
// storage was opened on and returns what the driver must do (messages were already
// handed to the MessageSink; completions and events are returned). Every method is
// called from one thread.
//
// Ready handling follows raft/raw_node.h: persist, send, apply, Advance. A leader
// hands its appends to the sink before it writes its own log (Raft thesis 10.2.1);
// its own log counts towards a commit only after Advance, so that is safe. Any
// other Ready's messages wait for the fdatasync.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/rng.h"
#include "base/status.h"
#include "raft/raw_node.h"
#include "rsm/command.h"
#include "rsm/kv_types.h"
#include "rsm/state_machine.h"
#include "server/members.h"
#include "storage/wal_raft_storage.h"

namespace tri::server {

// Chosen by the driver; unique among its outstanding requests.
using RequestToken = std::uint64_t;

struct NodeCoreOptions {
  raft::NodeId id = raft::kNoNode;
  std::uint64_t cluster_id = 0;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Milliseconds per tick (the heartbeat interval): converts timeouts to ticks.
  std::uint32_t tick_ms = 100;
  // A snapshot every this many applied entries; the log keeps `snapshot_catchup_entries`
  // entries below it for slow followers.
  std::uint64_t snapshot_count = 100000;
  std::uint64_t snapshot_catchup_entries = 5000;
  // A client request not answered within this time fails (etcd: 5 s + 2 election timeouts).
  std::uint64_t request_timeout_ms = 7000;
  // Requests outstanding at once (proposals and reads); more are refused.
  std::size_t max_pending_requests = 100000;
  rsm::KvOptions state_machine;
  rsm::SagaOptions sagas;
  rsm::LeaseOptions leases;
  rsm::CoordinationOptions coordination;
  // Parallel apply (docs/transactions.md, "In the node"): runs of committed KV entries
  // are applied through parallel_apply.executor (not owned, the driver's);
  // nullptr, the default, applies every entry one by one. Same state, revisions
  // and answers either way.
  rsm::ParallelApplyOptions parallel_apply;
  // Raft size bounds (defaults from raft::Config).
  std::uint64_t max_entry_size_bytes = 2 << 20;
  // Optional timing for metrics (the driver's clock; the simulator leaves it unset):
  // each Ready's apply of committed entries, and each snapshot taken.
  const Clock* clock = nullptr;
  std::function<void(Duration)> observe_apply;
  std::function<void(Duration)> observe_snapshot;
};

// Where outgoing Raft messages go (the peer transport, or the simulated network).
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void Send(std::vector<raft::Message> messages) = 0;
};

// What a finished request answers.
struct Completion {
  RequestToken token = 0;
  Status status;  // not ok: the request failed before it was applied (timeout, no leader, ...)
  // For proposals of state-machine commands: the apply result.
  std::optional<rsm::Applied> applied;
};

// Something worth one log line and a metric.
struct NodeEvent {
  enum class Kind {
    kLeaderChanged,
    kMembershipChanged,
    kSnapshotSaved,
    kLogCompacted,
    kSnapshotInstalled,
    kRemovedFromCluster,
  };
  Kind kind;
  std::string detail;
  std::uint64_t value = 0;  // leader id, snapshot index, compacted index...
};

struct ProcessOutput {
  std::vector<Completion> completions;
  std::vector<NodeEvent> events;
  // Set when the node cannot go on (storage failure): the driver stops the process
  // with this message; the node recovers from its log on restart.
  Status fatal;
};

struct NodeCoreStats {
  std::uint64_t proposals_committed = 0;  // entries handed out committed (any origin)
  std::uint64_t proposals_applied = 0;
  std::uint64_t proposals_failed = 0;  // local requests that failed or timed out
  std::uint64_t leader_changes = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t read_index_rounds = 0;
  std::uint64_t reads_served = 0;
  std::uint64_t syncs = 0;
};

class NodeCore {
 public:
  // The founding state of a new cluster: its member table (with the cluster id) and
  // an empty state machine. The driver opens the storage of a founding member with it
  // as WalRaftStorageOptions::bootstrap_data; members that join later receive it from
  // the leader with the founding membership.
  static std::string FoundingSnapshotData(const std::vector<Member>& founders,
                                          std::uint64_t cluster_id,
                                          const rsm::KvOptions& state_machine_options);

  // Opens the node on `storage` (already opened by the driver), restoring the newest
  // snapshot's state. `now_ms` is the wall clock at start (request ids and the first
  // leader timestamp). Not owned: storage, sink, rng — they outlive the core.
  static Result<std::unique_ptr<NodeCore>> Create(const NodeCoreOptions& options,
                                                  storage::WalRaftStorage* storage,
                                                  MessageSink* sink, Rng* rng,
                                                  std::uint64_t now_ms);
  ~NodeCore();

  // Inputs.
  void Tick(std::uint64_t now_ms);
  // The driver's clock between ticks: entries proposed from now on carry it (the
  // saga orchestrators' time is the log's time, so it should be precise, not
  // rounded to ticks). Never goes backwards.
  void SetTime(std::uint64_t now_ms) { now_ms_ = std::max(now_ms_, now_ms); }
  void Step(raft::Message m);
  void ReportUnreachable(raft::NodeId peer);

  // Client requests. Each completes exactly once (in some later ProcessOutput), with
  // an error if it cannot be done. `payload` is a state-machine command payload of
  // `kind` (rsm/command.h).
  void Propose(RequestToken token, rsm::CommandKind kind, std::string payload);
  // A linearizable read point: completes (ok) once this node has applied everything
  // committed before the request; the driver then reads the state machine.
  void ReadLinearizable(RequestToken token);
  // Membership: add (learner or voter), promote, remove; completes once applied.
  void ProposeMemberAdd(RequestToken token, const Member& member, bool as_learner);
  void ProposeMemberPromote(RequestToken token, std::uint64_t id);
  void ProposeMemberRemove(RequestToken token, std::uint64_t id);
  void ProposeMemberUpdate(RequestToken token, std::uint64_t id,
                           std::vector<std::string> peer_urls);
  // Publishes this member's name and client URLs (after start, like etcd).
  void ProposePublish(RequestToken token, const std::string& name,
                      const std::vector<std::string>& client_urls);
  // Leadership transfer; completes when `target` leads, fails after an election timeout.
  void TransferLeader(RequestToken token, raft::NodeId target);

  // Does the pending work. Call after every batch of inputs.
  ProcessOutput Process();

  // Observers (driver thread only).
  const rsm::StateMachine& state_machine() const { return *state_machine_; }
  const MemberTable& members() const { return members_; }
  raft::NodeStatus raft_status() const { return raw_->status(); }
  raft::NodeId leader() const { return raw_->leader(); }
  raft::Term term() const { return raw_->term(); }
  raft::NodeId id() const { return options_.id; }
  // The replicated cluster id once known (a joining member learns it with the
  // leader's snapshot), else the configured one.
  std::uint64_t cluster_id() const {
    return members_.cluster_id() != 0 ? members_.cluster_id() : options_.cluster_id;
  }
  std::uint64_t applied_index() const { return applied_index_; }
  // Leader, and everything committed before its term is applied here: what the
  // leader-only saga executor waits for before it looks at the saga table.
  bool LeaderReady() const {
    return last_leader_ == options_.id && leader_ready_term_ == raw_->term() &&
           applied_index_ >= leader_ready_index_ && disk_full_.ok() && !failed_;
  }
  rsm::StateMachine& mutable_state_machine() { return *state_machine_; }
  // What the parallel apply did so far (zero while it is off, or when
  // options.parallel_apply.stats names where to count instead).
  const rsm::ParallelApplyStats& parallel_apply_stats() const { return parallel_apply_stats_; }
  std::uint64_t committed_index() const { return committed_index_; }
  std::size_t pending_requests() const { return waiters_.size(); }
  const NodeCoreStats& stats() const { return stats_; }
  bool removed() const { return removed_; }
  // Not ok once a write to the data directory failed for lack of space: the member
  // has left consensus, refuses requests and keeps serving serializable reads.
  const Status& disk_full() const { return disk_full_; }

 private:
  NodeCore(const NodeCoreOptions& options, storage::WalRaftStorage* storage, MessageSink* sink,
           std::uint64_t now_ms);

  struct Waiter {
    RequestToken token = 0;
    std::uint64_t deadline_ms = 0;
  };
  // A proposal refused for a transient reason, tried again on later ticks.
  struct Queued {
    enum class What { kCommand, kConfChange } what;
    std::uint64_t request_id = 0;
    std::string data;  // encoded command or conf change
    raft::ConfChange cc;
  };

  std::uint64_t NextRequestId() { return request_id_base_ + ++request_counter_; }
  bool AdmitOrFail(RequestToken token);
  void Fail(RequestToken token, Status status);
  void Complete(Completion c) { output_.completions.push_back(std::move(c)); }
  void SubmitQueued(Queued q);
  std::string Envelope(std::uint64_t request_id, rsm::CommandKind kind, std::string payload) const;

  void HandleReady(raft::Ready rd);
  void ApplyEntry(const raft::Entry& e);
  // Parallel apply: entries the state machine applies (neither membership nor
  // node commands) wait in `pending` and go to StateMachine::ApplyBatch
  // together; flushed before any other entry so the log order holds.
  bool IsStateMachineEntry(const raft::Entry& e) const;
  void FlushApplyBatch(std::vector<rsm::BatchEntry>& pending);
  // Hands an applied entry's answer to the client waiting for it.
  void Answer(rsm::Applied applied);
  void ApplyConfChange(const raft::Entry& e);
  void ApplyNodeCommand(const rsm::Command& cmd, std::uint64_t index);
  void ServeReads();
  void IssueReadIndex();
  void ExpireRequests();
  void MaybeSnapshot();
  Status RestoreFromSnapshotData(const std::string& data);
  std::string SnapshotData() const;
  void Fatal(Status s);
  bool SoleVoter() const;

  const NodeCoreOptions options_;
  storage::WalRaftStorage* const storage_;
  MessageSink* const sink_;
  std::unique_ptr<raft::RawNode> raw_;
  std::unique_ptr<rsm::StateMachine> state_machine_;
  rsm::ParallelApplyStats parallel_apply_stats_;
  MemberTable members_;

  std::uint64_t now_ms_ = 0;
  std::uint64_t request_id_base_ = 0;
  std::uint64_t request_counter_ = 0;
  // Local requests in flight, by the request id carried in their entry.
  std::map<std::uint64_t, Waiter> waiters_;
  std::deque<Queued> retry_queue_;
  // Linearizable reads: not yet asked, asked (by context), answered (by read index).
  std::vector<Waiter> reads_unasked_;
  std::map<std::string, std::vector<Waiter>> reads_asked_;
  std::uint64_t read_asked_at_ms_ = 0;
  std::multimap<std::uint64_t, Waiter> reads_ready_;
  std::uint64_t read_context_counter_ = 0;
  // Leader transfers in flight: token -> (target, deadline).
  std::map<RequestToken, std::pair<raft::NodeId, std::uint64_t>> transfers_;

  std::uint64_t applied_index_ = 0;
  std::uint64_t committed_index_ = 0;
  std::uint64_t snapshot_index_ = 0;
  // The newest term and vote handed to the storage (synced before any message).
  raft::Term persisted_term_ = 0;
  raft::NodeId persisted_vote_ = raft::kNoNode;
  raft::NodeId last_leader_ = raft::kNoNode;
  std::uint64_t leader_ready_index_ = 0;
  raft::Term leader_ready_term_ = 0;
  bool removed_ = false;
  bool failed_ = false;
  Status disk_full_;
  ProcessOutput output_;
  NodeCoreStats stats_;
};

}  // namespace tri::server
