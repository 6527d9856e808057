#pragma once

// Raft: the protocol state machine (one step and one tick function per role,
// as in etcd's raft.go). Private to the core; the API is RawNode. Defined by
// concern: raft.cc (roles, elections, step/tick dispatch), replication.cc (appends,
// commit, flow control, snapshots), read_only.cc (ReadIndex, leases) and
// membership.cc (conf changes, restore, leadership transfer).
// Section numbers (5.x, 6, 9.6) refer to the Raft paper and Ongaro's thesis.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "raft/config.h"
#include "raft/internal/log.h"
#include "raft/internal/progress.h"
#include "raft/internal/quorum.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tri::raft {

class Raft {
 public:
  static Result<std::unique_ptr<Raft>> Create(const Config& config);

  Status Step(Message m);
  void Tick();

  // Applies the membership change of a committed kConfChange entry (called as committed
  // entries are handed out). Entries already reflected in the membership (replayed at
  // start-up, or covered by an installed snapshot) are skipped.
  void ApplyConfChangeEntry(const Entry& e);
  // Advance() acknowledged the log as durable up to StableIndex().
  void OnPersisted();

  NodeId id() const { return id_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return lead_; }
  Role role() const { return role_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  const ConfState& conf_state() const { return conf_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  std::vector<Message>& messages() { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  const std::map<NodeId, Progress>& progress() const { return prs_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  // Set whenever the membership changed; RawNode reports it once in a Ready.
  bool TakeConfChanged() {
    bool c = conf_changed_;
    conf_changed_ = false;
    return c;
  }
  bool conf_changed() const { return conf_changed_; }
  // The founding membership received by a joining node, to be persisted as the
  // snapshot at index 0.
  std::optional<ConfState>& pending_base_conf() { return pending_base_conf_; }
  bool has_pending_base_conf() const { return pending_base_conf_.has_value(); }
  const std::string& pending_base_data() const { return pending_base_data_; }
  // New entries and commit-index advances are sent once per Ready (not once per
  // proposal or response): a burst of proposals leaves in one append per follower, and
  // a burst of acknowledgements costs at most one empty append per follower.
  bool broadcast_pending() const { return commit_broadcast_pending_ || append_broadcast_pending_; }
  void FlushBroadcast();
  // Restores the membership from the snapshot and replays the conf changes of the
  // committed entries after it: membership follows the commit index, not the
  // application's progress.
  Status RestoreMembership(const ConfState& from_snapshot);

 private:
  Raft(const Config& config, Storage* storage);

  enum class CampaignType : std::uint8_t { kPreElection, kElection, kTransfer };

  struct ReadRequest {
    Index index;
    std::string context;
    NodeId from;  // requester (self for local requests)
    std::set<NodeId> acks;
  };

  // Role transitions.
  void Reset(Term term);
  void BecomeFollower(Term term, NodeId lead);
  void ApplyConfChange(const ConfChange& cc);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void Campaign(CampaignType type);
  VoteResult Poll(NodeId id, MessageType type, bool granted);
  bool Promotable() const;

  // Per-role handlers.
  Status StepLeader(Message& m);
  Status StepCandidate(Message& m);
  Status StepFollower(Message& m);
  void TickElection();
  void TickHeartbeat();

  // Leader helpers.
  Status HandlePropose(Message& m);
  Status CheckConfChangeProposal(const Entry& e) const;
  // A committed conf change not yet reflected in the membership (it may remove us).
  bool HasUnappliedCommittedConfChange() const;
  bool AppendEntries(std::vector<Entry> entries);
  bool MaybeCommit();
  void BcastAppend();
  void BcastHeartbeat(const std::string& context);
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  void SendAppend(NodeId to) { MaybeSendAppend(to, true); }
  bool SendSnapshotChunk(NodeId to, Progress& pr);
  void SendHeartbeat(NodeId to, const std::string& context);
  void SendTimeoutNow(NodeId to);
  void HandleAppendResponse(const Message& m, Progress& pr);
  void HandleHeartbeatResponse(const Message& m, Progress& pr);
  void HandleSnapshotResponse(const Message& m, Progress& pr);
  void HandleReadIndexRequest(Message& m);
  void ReleasePendingReads();
  void RespondToRead(NodeId from, Index index, std::string context);
  bool CommittedEntryInCurrentTerm() const;
  // kLeaseBased: a quorum acknowledged a heartbeat sent less than lease_ticks ago, and
  // no TimeoutNow was sent in this term.
  bool LeaseValid() const;
  // Check-quorum's leader lease on the voter side: this node heard from a leader within
  // the election timeout, so it refuses (pre-)votes that would depose it (except for a
  // transfer campaign). With kLeaseBased this also holds after the term moved on
  // without a new leader, and for election_ticks after a restart: the guarantee that
  // leader leases rely on (Config::lease_ticks).
  bool InLeaderLease() const;
  bool HeardFromLeaderRecently() const {
    return config_.read_only == ReadOnlyOption::kLeaseBased &&
           leader_contact_elapsed_ < config_.election_ticks;
  }
  bool QuorumActive();
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }
  void ResetRandomizedElectionTimeout();
  bool PastElectionTimeout() const {
    return election_elapsed_ >= randomized_election_timeout_;
  }

  // Follower helpers.
  void HandleAppendEntries(Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshotChunk(const Message& m);
  bool Restore(const Snapshot& s);

  void Send(Message m);
  Progress& AddProgress(NodeId id, bool learner);
  void ResetProgress();

  const NodeId id_;
  Config config_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::kFollower;
  RaftLog log_;
  ConfState conf_;
  bool conf_changed_ = false;
  Index conf_applied_index_ = 0;  // membership reflects conf changes up to here
  std::optional<ConfState> pending_base_conf_;
  std::string pending_base_data_;  // the founding snapshot's data, with pending_base_conf_
  bool commit_broadcast_pending_ = false;
  bool append_broadcast_pending_ = false;
  std::map<NodeId, Progress> prs_;  // every member (voter or learner), self included
  std::map<NodeId, bool> votes_;
  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;

  // Ticks since this node last received an append, heartbeat or snapshot chunk from a
  // leader of its term (saturates at election_ticks). Unlike election_elapsed_ it is not
  // reset by term changes. kLeaseBased: 0 after a restart with a non-zero term, as the
  // node may have acknowledged a heartbeat just before it crashed.
  int leader_contact_elapsed_ = 0;
  // Leader: TimeoutNow was sent in this term. Voters grant a transfer campaign despite
  // their lease, so this leader's lease can no longer be trusted until its term ends.
  bool lease_revoked_ = false;
  // TestingBugs::count_duplicate_votes: duplicated grants counted in this election.
  std::size_t duplicate_votes_counted_ = 0;
  std::uint64_t heartbeat_rounds_ = 0;
  std::uint64_t ticks_ = 0;  // every Tick(); the leader's lease clock
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  NodeId lead_transferee_ = kNoNode;
  // Index of the latest conf-change entry proposed by this leader (0 = none).
  Index pending_conf_index_ = 0;
  std::uint64_t uncommitted_size_bytes_ = 0;
  std::deque<std::pair<Index, std::uint64_t>> uncommitted_batches_;  // (last index, bytes)
  std::vector<ReadRequest> pending_reads_;        // awaiting a heartbeat quorum
  std::vector<Message> reads_before_term_commit_;  // awaiting a commit in this term

  // Leader: the latest snapshot read from Storage for transfers (shared by followers).
  std::shared_ptr<const Snapshot> sending_snapshot_;
  // Follower: the snapshot being assembled from chunks.
  std::optional<SnapshotChunk> incoming_snapshot_;
};

}  // namespace tri::raft
