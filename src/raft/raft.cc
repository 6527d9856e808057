#include "raft/internal/raft.h"

#include <algorithm>

#include "base/assert.h"
#include "raft/internal/quorum.h"

// Roles, elections and the step/tick dispatch (etcd's raft.go). Replication is in
// replication.cc, ReadIndex and leases in read_only.cc, membership and leadership
// transfer in membership.cc.

namespace tri::raft {
namespace {

MessageType VoteRespType(MessageType t) {
  if (t == MessageType::kVote) return MessageType::kVoteResp;
  TRI_ASSERT(t == MessageType::kPreVote);
  return MessageType::kPreVoteResp;
}

}  // namespace

Raft::Raft(const Config& config, Storage* storage)
    : id_(config.id),
      config_(config),
      log_(storage, config.max_committed_size_per_ready_bytes) {}

Result<std::unique_ptr<Raft>> Raft::Create(const Config& config) {
  TRI_RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<Raft> r(new Raft(config, config.storage));
  TRI_ASSIGN_OR_RETURN(InitialState init, config.storage->GetInitialState());
  const HardState& hs = init.hard_state;
  if (!hs.empty()) {
    if (hs.commit > r->log_.LastIndex()) {
      return Corruption("raft: hard state commit " + std::to_string(hs.commit) +
                        " is beyond the stored log (last index " +
                        std::to_string(r->log_.LastIndex()) + ")");
    }
    r->term_ = hs.term;
    r->vote_ = hs.vote;
    // A commit index below the snapshot's is normal: the application need not sync a
    // hard state whose only change is the commit index (etcd's MustSync), while the
    // snapshot, whose entries were all committed, is durable on its own.
    r->log_.CommitTo(std::max(hs.commit, r->log_.committed()));
  }
  Index applied = config.applied;
  if (applied != 0) {
    if (applied > r->log_.committed()) {
      return InvalidArgument("raft: config.applied " + std::to_string(applied) +
                             " is beyond the commit index " + std::to_string(r->log_.committed()));
    }
    applied = std::max(applied, r->log_.applied());
    r->log_.AcceptApplying(applied);
    r->log_.AppliedTo(applied);
  }
  TRI_RETURN_IF_ERROR(r->RestoreMembership(init.conf_state));
  r->BecomeFollower(r->term_, kNoNode);
  // A node that ever joined a term may have acknowledged a leader's heartbeat just
  // before it stopped; with lease-based reads it must not vote until that leader's
  // lease has run out. A node with term 0 has acknowledged nothing.
  const bool may_have_acked = config.read_only == ReadOnlyOption::kLeaseBased && r->term_ > 0;
  r->leader_contact_elapsed_ = may_have_acked ? 0 : config.election_ticks;
  r->conf_changed_ = false;
  return r;
}

Progress& Raft::AddProgress(NodeId id, bool learner) {
  auto it = prs_.find(id);
  if (it == prs_.end()) {
    it = prs_.emplace(id, Progress(log_.LastIndex() + 1, config_.max_inflight_msgs,
                                   config_.max_inflight_bytes))
             .first;
    // A new member counts as active so that check-quorum does not fire at once.
    it->second.recent_active = true;
  }
  it->second.is_learner = learner;
  return it->second;
}

void Raft::ResetProgress() {
  std::map<NodeId, Progress> fresh;
  for (NodeId id : conf_.voters) {
    fresh.emplace(id, Progress(log_.LastIndex() + 1, config_.max_inflight_msgs,
                               config_.max_inflight_bytes));
  }
  for (NodeId id : conf_.learners) {
    auto& pr = fresh.emplace(id, Progress(log_.LastIndex() + 1, config_.max_inflight_msgs,
                                          config_.max_inflight_bytes))
                   .first->second;
    pr.is_learner = true;
  }
  auto self = fresh.find(id_);
  if (self != fresh.end()) {
    // The leader's own match is what is durable, never what is merely appended (#14370).
    self->second.match = log_.StableIndex();
    self->second.next = log_.LastIndex() + 1;
    self->second.recent_active = true;
  }
  prs_ = std::move(fresh);
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ = config_.election_ticks;
  if (config_.randomized_election_timeout) {
    randomized_election_timeout_ +=
        static_cast<int>(config_.rng->Uniform(static_cast<std::uint64_t>(config_.election_ticks)));
  }
  TRI_ASSERT(randomized_election_timeout_ >= config_.election_ticks &&
             randomized_election_timeout_ < 2 * config_.election_ticks);
}

void Raft::Reset(Term term) {
  commit_broadcast_pending_ = false;
  append_broadcast_pending_ = false;
  if (term_ != term) {
    TRI_ASSERT_MSG(term > term_, "terms never go backwards");
    term_ = term;
    vote_ = kNoNode;
    // Chunks of a snapshot from an earlier leader are never mixed with a new one's.
    incoming_snapshot_.reset();
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  votes_.clear();
  duplicate_votes_counted_ = 0;
  lease_revoked_ = false;
  ResetProgress();
  pending_conf_index_ = 0;
  uncommitted_size_bytes_ = 0;
  uncommitted_batches_.clear();
  pending_reads_.clear();
  reads_before_term_commit_.clear();
}

void Raft::BecomeFollower(Term term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  TRI_ASSERT_MSG(role_ != Role::kLeader, "leader cannot become pre-candidate");
  // Pre-vote changes neither term nor vote (thesis 9.6).
  votes_.clear();
  duplicate_votes_counted_ = 0;
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeCandidate() {
  TRI_ASSERT_MSG(role_ != Role::kLeader, "leader cannot become candidate");
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
  TRI_ASSERT(lead_ == kNoNode && votes_.empty());
}

void Raft::BecomeLeader() {
  TRI_ASSERT_MSG(role_ == Role::kCandidate, "only a candidate becomes leader");
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  auto& self = prs_.at(id_);
  self.BecomeReplicate();
  self.match = log_.StableIndex();
  self.next = log_.LastIndex() + 1;
  // Conservatively treat every uncommitted entry as a possible conf change: no new
  // change until they are applied.
  pending_conf_index_ = log_.LastIndex();
  // The empty entry of the new term lets the leader commit (Figure 8 / 5.4.2) and
  // serve reads (ReadIndex waits for it).
  const bool ok = AppendEntries({Entry{}});
  TRI_ASSERT_MSG(ok, "the leader's empty entry is never refused");
  TRI_ASSERT(log_.LastTerm() == term_);
  TRI_ASSERT(vote_ == id_);
}

bool Raft::Promotable() const {
  // A half-received snapshot does not count: its leader may be gone for good.
  return conf_.IsVoter(id_) && !log_.unstable_snapshot();
}

void Raft::Campaign(CampaignType type) {
  if (!Promotable()) return;
  MessageType vote_type;
  Term term;
  if (type == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_type = MessageType::kPreVote;
    term = term_ + 1;  // the term we would campaign in; not adopted yet
  } else {
    BecomeCandidate();
    vote_type = MessageType::kVote;
    term = term_;
  }
  if (Poll(id_, vote_type, true) == VoteResult::kWon) {
    // Single voter: won at once.
    if (type == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : conf_.voters) {
    if (voter == id_) continue;
    Message m;
    m.type = vote_type;
    m.to = voter;
    m.term = term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (type == CampaignType::kTransfer) m.context = std::string(kCampaignTransfer);
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(NodeId id, MessageType /*type*/, bool granted) {
  const bool first_answer = votes_.emplace(id, granted).second;  // never a second one
  if (!first_answer && granted && config_.testing_bugs.count_duplicate_votes && votes_.at(id) &&
      conf_.IsVoter(id)) {
    ++duplicate_votes_counted_;  // TEST ONLY: the injected bug
  }
  if (duplicate_votes_counted_ > 0) {
    std::size_t granted_votes = duplicate_votes_counted_;
    for (NodeId v : conf_.voters) {
      auto it = votes_.find(v);
      if (it != votes_.end() && it->second) ++granted_votes;
    }
    if (granted_votes >= MajoritySize(conf_.voters.size())) return VoteResult::kWon;
  }
  return TallyVotes(conf_.voters, votes_);
}

void Raft::Send(Message m) {
  TRI_ASSERT(m.to != kNoNode);
  TRI_ASSERT(m.to != id_);
  m.from = id_;
  if (m.type == MessageType::kVote || m.type == MessageType::kVoteResp ||
      m.type == MessageType::kPreVote || m.type == MessageType::kPreVoteResp) {
    // Vote messages carry their term explicitly (pre-vote uses a future term).
    TRI_ASSERT_MSG(m.term != 0, "vote messages need a term");
  } else if (m.type == MessageType::kProp || m.type == MessageType::kReadIndex ||
             m.type == MessageType::kTransferLeader) {
    // Forwarded requests are not part of any term.
    m.term = 0;
  } else {
    m.term = term_;
  }
  TRI_ASSERT(!IsLocalMessage(m.type));
  msgs_.push_back(std::move(m));
}

void Raft::Tick() {
  ++ticks_;
  if (leader_contact_elapsed_ < config_.election_ticks) ++leader_contact_elapsed_;
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    Message hup;
    hup.type = MessageType::kHup;
    hup.from = id_;
    (void)Step(std::move(hup));
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      Message m;
      m.type = MessageType::kCheckQuorum;
      m.from = id_;
      (void)Step(std::move(m));
    }
    // A transfer that did not finish within an election timeout is aborted.
    if (role_ == Role::kLeader && lead_transferee_ != kNoNode) AbortLeaderTransfer();
  }
  if (role_ != Role::kLeader) return;
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.type = MessageType::kBeat;
    m.from = id_;
    (void)Step(std::move(m));
  }
}

Status Raft::Step(Message m) {
  const Term term_before_step = term_;  // TEST ONLY: vote_not_persisted_same_term
  // Messages from removed members are ignored: a removed node must not disrupt the group.
  if (!IsLocalMessage(m.type) && m.from != id_ && conf_.removed.count(m.from) != 0) {
    return Status::Ok();
  }
  if (m.term == 0) {
    // Local message or forwarded request.
  } else if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool force = m.context == kCampaignTransfer;
      // A node that heard from a leader within the election timeout does not help
      // depose it (thesis 4.2.3): this keeps a rejoining node from disrupting, and
      // it is what leader leases rely on.
      if (!force && InLeaderLease()) return Status::Ok();
    }
    if (m.type == MessageType::kPreVote) {
      // Never change our term in response to a pre-vote.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // A granted pre-vote carries the future term; we adopt it only on winning.
    } else if (m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnap) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_ && config_.testing_bugs.accept_stale_term_append &&
             m.type == MessageType::kApp && role_ == Role::kFollower) {
    // TEST ONLY: the injected bug handles a stale leader's append as a current one.
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kApp)) {
      // A stale leader (e.g. after a partition) learns the new term from our answer and
      // steps down; otherwise, with pre-vote, it could be stuck forever.
      Message resp;
      resp.type = MessageType::kAppResp;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResp;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      Send(std::move(resp));
    }
    return Status::Ok();  // stale: ignored
  }

  switch (m.type) {
    case MessageType::kHup:
      if (role_ == Role::kLeader) return Status::Ok();
      if (!Promotable()) return FailedPrecondition("raft: this node cannot campaign (not a voter)");
      if (HeardFromLeaderRecently()) {
        // Voting for itself would break the lease of the leader it acknowledged. (An
        // election timeout always lies past this window; only Campaign() gets here.)
        return FailedPrecondition(
            "raft: a leader was heard within the election timeout (lease-based reads)");
      }
      if (HasUnappliedCommittedConfChange()) {
        // Committed entries not yet reflected in the membership may remove us.
        return Unavailable("raft: cannot campaign with unapplied conf changes");
      }
      Campaign(config_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
      return Status::Ok();

    case MessageType::kVote:
    case MessageType::kPreVote: {
      // We can vote for the same candidate again (duplicate request), for anyone when
      // we have not voted and know no leader, or in a pre-vote for a future term.
      // kLeaseBased: the term may have moved on (or the node restarted) since it last
      // acknowledged a leader; its lease must still be honoured (a vote already given to
      // this candidate may be repeated).
      const bool lease_refusal =
          m.context != kCampaignTransfer && vote_ != m.from && HeardFromLeaderRecently();
      const bool can_vote =
          !lease_refusal && (vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                             (m.type == MessageType::kPreVote && m.term > term_));
      Message resp;
      resp.type = VoteRespType(m.type);
      resp.to = m.from;
      if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
        // A pre-vote answer carries the candidate's term so it can count it.
        resp.term = m.term;
        Send(std::move(resp));
        if (m.type == MessageType::kVote) {
          election_elapsed_ = 0;
          // TEST ONLY: the injected bug grants without recording the vote.
          if (!config_.testing_bugs.vote_not_persisted_same_term || term_ != term_before_step) {
            vote_ = m.from;
          }
        }
      } else {
        resp.term = term_;
        resp.reject = true;
        Send(std::move(resp));
      }
      return Status::Ok();
    }
    default:
      break;
  }

  switch (role_) {
    case Role::kLeader: return StepLeader(m);
    case Role::kCandidate:
    case Role::kPreCandidate: return StepCandidate(m);
    case Role::kFollower: return StepFollower(m);
  }
  TRI_UNREACHABLE();
}

bool Raft::InLeaderLease() const {
  if (!config_.check_quorum) return false;
  if (lead_ != kNoNode && election_elapsed_ < config_.election_ticks) return true;
  return HeardFromLeaderRecently();
}

bool Raft::QuorumActive() {
  std::size_t active = 0;
  for (NodeId v : conf_.voters) {
    auto it = prs_.find(v);
    if (it == prs_.end()) continue;
    if (v == id_ || it->second.recent_active) ++active;
  }
  for (auto& [id, pr] : prs_) {
    if (id != id_) pr.recent_active = false;
  }
  return active >= MajoritySize(conf_.voters.size());
}

// ---- Leader -----------------------------------------------------------------

Status Raft::StepLeader(Message& m) {
  switch (m.type) {
    case MessageType::kBeat:
      ++heartbeat_rounds_;
      BcastHeartbeat({});
      return Status::Ok();
    case MessageType::kCheckQuorum:
      if (!QuorumActive()) BecomeFollower(term_, kNoNode);
      return Status::Ok();
    case MessageType::kProp:
      return HandlePropose(m);
    case MessageType::kReadIndex:
      HandleReadIndexRequest(m);
      return Status::Ok();
    case MessageType::kTransferLeader: {
      const NodeId target = m.target;
      auto it = prs_.find(target);
      if (it == prs_.end()) return NotFound("raft: transfer target is not a member");
      if (it->second.is_learner) {
        return FailedPrecondition("raft: cannot transfer leadership to a learner");
      }
      if (target == id_) return Status::Ok();  // already leader
      if (lead_transferee_ == target) return Status::Ok();  // in progress
      // A newer request replaces an older one; the transfer must finish within an
      // election timeout.
      election_elapsed_ = 0;
      lead_transferee_ = target;
      if (it->second.match == log_.LastIndex()) {
        SendTimeoutNow(target);
      } else {
        SendAppend(target);
      }
      return Status::Ok();
    }
    default:
      break;
  }
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return Status::Ok();  // not (or no longer) a member
  Progress& pr = it->second;
  switch (m.type) {
    case MessageType::kAppResp: HandleAppendResponse(m, pr); break;
    case MessageType::kHeartbeatResp: HandleHeartbeatResponse(m, pr); break;
    case MessageType::kSnapResp: HandleSnapshotResponse(m, pr); break;
    case MessageType::kUnreachable:
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      break;
    default: break;  // e.g. a late vote response
  }
  return Status::Ok();
}

// ---- Candidate --------------------------------------------------------------

Status Raft::StepCandidate(Message& m) {
  switch (m.type) {
    case MessageType::kProp:
      return Unavailable("raft: no leader (election in progress); retry later");
    case MessageType::kReadIndex:
      return Unavailable("raft: no leader (election in progress); retry later");
    case MessageType::kTransferLeader:
      return Unavailable("raft: no leader to transfer from");
    case MessageType::kApp:
      BecomeFollower(m.term, m.from);  // a leader of this term exists
      HandleAppendEntries(m);
      return Status::Ok();
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return Status::Ok();
    case MessageType::kSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshotChunk(m);
      return Status::Ok();
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp: {
      const MessageType mine =
          role_ == Role::kPreCandidate ? MessageType::kPreVoteResp : MessageType::kVoteResp;
      if (m.type != mine) return Status::Ok();
      switch (Poll(m.from, m.type, !m.reject)) {
        case VoteResult::kWon:
          if (role_ == Role::kPreCandidate) {
            Campaign(CampaignType::kElection);
          } else {
            BecomeLeader();
            BcastAppend();
          }
          break;
        case VoteResult::kLost:
          // A pre-candidate returns to follower in its current term.
          BecomeFollower(term_, kNoNode);
          break;
        case VoteResult::kPending: break;
      }
      return Status::Ok();
    }
    case MessageType::kTimeoutNow:
      return Status::Ok();  // already campaigning
    default:
      return Status::Ok();
  }
}

// ---- Follower ---------------------------------------------------------------

Status Raft::StepFollower(Message& m) {
  switch (m.type) {
    case MessageType::kProp:
      if (lead_ == kNoNode) return Unavailable("raft: no leader; retry later");
      if (config_.disable_proposal_forwarding) {
        return Unavailable("raft: not the leader (forwarding disabled); leader is node " +
                           std::to_string(lead_));
      }
      for (const Entry& e : m.entries) {
        if (EntrySizeBytes(e) > config_.max_entry_size_bytes) {
          return InvalidArgument("raft: entry exceeds max_entry_size_bytes");
        }
      }
      m.to = lead_;
      Send(std::move(m));
      return Status::Ok();
    case MessageType::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppendEntries(m);
      return Status::Ok();
    case MessageType::kHeartbeat:
      // TEST ONLY: the injected bug leaves the election timer running.
      if (!config_.testing_bugs.heartbeat_no_timer_reset) election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      return Status::Ok();
    case MessageType::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshotChunk(m);
      return Status::Ok();
    case MessageType::kTransferLeader:
      if (lead_ == kNoNode) return Unavailable("raft: no leader to transfer from");
      m.to = lead_;
      Send(std::move(m));
      return Status::Ok();
    case MessageType::kTimeoutNow:
      // The leader asks us to campaign now: skip pre-vote, and voters bypass their
      // leader lease (kCampaignTransfer), so pre-vote does not block transfers.
      if (Promotable()) Campaign(CampaignType::kTransfer);
      return Status::Ok();
    case MessageType::kReadIndex:
      if (lead_ == kNoNode) return Unavailable("raft: no leader; retry later");
      m.to = lead_;
      Send(std::move(m));
      return Status::Ok();
    case MessageType::kReadIndexResp:
      read_states_.push_back(ReadState{m.index, std::move(m.context)});
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

}  // namespace tri::raft
