#pragma once

// RawNode: the API of the pure Raft core (etcd's raft.RawNode shape).
//
// The application drives it from one thread:
//   - Tick() on every logical clock tick;
//   - Step(msg) for every message received from a peer;
//   - Propose / ProposeConfChange / ReadIndex / TransferLeader / Campaign on requests;
//   - when HasReady(): rd = GetReady(); then, in this order,
//       1. persist rd.snapshot (if any), rd.entries and rd.hard_state (if any) to Storage
//          (for MemoryStorage: ApplySnapshot, Append, SetHardState) - durably;
//       2. send rd.messages (only now: they may claim that (1) is durable);
//       3. apply rd.committed_entries to the state machine, serve rd.read_states once
//          the applied index reaches them;
//       4. call Advance().
// Nothing is durable until Advance() acknowledges it: in particular a leader counts
// its own log towards a commit quorum only up to what Advance() acknowledged, so a
// one-voter cluster never reports an entry committed before it is persisted.
//
// Membership changes take effect inside the core when their entry is handed out in
// committed_entries (at Advance); Ready::conf_state reports the new configuration.
// The core has no thread, clock, I/O or randomness of its own.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "raft/config.h"
#include "raft/progress_state.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tri::raft {

// What the application must do next; see the contract at the top of this file.
struct Ready {
  std::optional<SoftState> soft_state;  // set when it changed
  std::optional<HardState> hard_state;  // set when it changed: persist before sending
  std::vector<ReadState> read_states;
  std::optional<Snapshot> snapshot;     // a snapshot received from the leader: install it
  std::vector<Entry> entries;           // persist (Append) before sending messages
  std::vector<Entry> committed_entries; // apply in order
  std::optional<ConfState> conf_state;  // membership changed (by committed entries or snapshot)
  std::vector<Message> messages;        // send after persisting

  // True when entries, hard state or snapshot are to be persisted. Conservative: a
  // hard state whose term and vote did not change (only the commit index moved) may
  // be written without waiting for an fsync before sending — the commit index is
  // learned again after a restart, and Create accepts a stored commit below the
  // snapshot (etcd's MustSync; server::NodeCore does this).
  bool MustSync() const { return hard_state.has_value() || !entries.empty() || snapshot; }
};

struct ProgressStatus {
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::kProbe;
  bool is_learner = false;
  bool recent_active = false;
  std::uint32_t inflight_msgs = 0;
};

struct NodeStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  Index applied = 0;
  Index last_index = 0;
  Index stable_index = 0;  // last index acknowledged durable via Advance
  ConfState conf_state;
  NodeId lead_transferee = kNoNode;
  std::map<NodeId, ProgressStatus> progress;  // leader only
};

// Bound on ReadIndex contexts (they travel in heartbeats).
inline constexpr std::size_t kMaxReadContextBytes = 1024;

class Raft;  // the protocol state machine (raft/internal/raft.h), private to the core

class RawNode {
 public:
  // Restores from config.storage (hard state, snapshot, log) or starts fresh.
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances the logical clock by one tick (elections, heartbeats, check-quorum,
  // transfer timeout).
  void Tick();
  // Starts an election now (pre-vote first if enabled). kFailedPrecondition when this
  // node is not a voter, or (kLeaseBased) heard from a leader within the election
  // timeout (its vote for itself would break that leader's lease).
  Status Campaign();
  // Proposes `data` for the log. Errors: kUnavailable when there is no leader or a
  // leader transfer is in progress (retry later, maybe at the new leader);
  // kInvalidArgument when the entry exceeds max_entry_size_bytes; kResourceExhausted
  // when too many uncommitted bytes are pending. Success does not mean committed.
  Status Propose(std::string data);
  // Proposes a membership change. Also kUnavailable (retry later) when another change
  // is in flight or the leader has not committed an entry of its term yet;
  // kFailedPrecondition when the id was removed before (reuse refused), or the change
  // is a no-op / would remove the last voter.
  // Refusals on the leader are returned; a follower forwards and the leader may drop.
  Status ProposeConfChange(const ConfChange& cc);
  // Handles a message from a peer. Messages from unknown/removed nodes, and stale
  // responses, are ignored (ok). Local message types are refused.
  Status Step(Message m);
  // Requests a linearizable read point; the answer arrives as a ReadState with the
  // same context in a later Ready. kUnavailable when no leader is known;
  // kInvalidArgument when the context exceeds kMaxReadContextBytes. Contexts must be
  // unique among pending requests (a duplicate is answered once).
  Status ReadIndex(std::string context);
  // Asks the leader to hand leadership to `target` (must be a voter). Aborted if not
  // done within an election timeout.
  Status TransferLeader(NodeId target);
  // Tells the leader a peer could not be reached (its append pipeline resets to probing).
  void ReportUnreachable(NodeId id);

  bool HasReady() const;
  // Returns the pending work. Must be followed by Advance() before the next GetReady();
  // other calls (Step, Tick, Propose...) may come in between.
  Ready GetReady();
  // Acknowledges that the last Ready was handled (persisted, sent, applied).
  void Advance();

  NodeStatus status() const;
  NodeId id() const;
  Role role() const;
  NodeId leader() const;
  Term term() const;

  // Testing hook: the internal state machine (not a stable API).
  Raft& raft_for_testing() { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
  HardState prev_hard_state_;
  SoftState prev_soft_state_;
  // What the outstanding Ready handed out, acknowledged by Advance().
  bool awaiting_advance_ = false;
  Index pending_last_entry_index_ = 0;
  Term pending_last_entry_term_ = 0;
  Index pending_snapshot_index_ = 0;
  Index pending_applied_index_ = 0;
  Index handed_entries_index_ = 0;
  Index handed_snapshot_index_ = 0;
  bool pending_base_conf_handed_ = false;
};

}  // namespace tri::raft
