#include "raft/raft.h"

#include <algorithm>
#include <functional>

#include "base/assert.h"
#include "raft/quorum.h"

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
    if (hs.commit < r->log_.committed() || hs.commit > r->log_.LastIndex()) {
      return Corruption("raft: hard state commit " + std::to_string(hs.commit) +
                        " is outside the stored log [" + std::to_string(r->log_.committed()) +
                        ", " + std::to_string(r->log_.LastIndex()) + "]");
    }
    r->term_ = hs.term;
    r->vote_ = hs.vote;
    r->log_.CommitTo(hs.commit);
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

Status Raft::RestoreMembership(const ConfState& from_snapshot) {
  conf_ = from_snapshot;
  prs_.clear();
  // The snapshot's configuration already covers entries up to the snapshot index.
  Index first = log_.FirstIndex();
  auto snap = log_.storage()->GetSnapshot();
  if (snap.ok()) first = std::max(first, snap->metadata.index + 1);
  const Index upto = log_.committed();
  conf_applied_index_ = first - 1;
  if (upto >= first) {
    auto ents = log_.Entries(first, upto + 1, kNoSizeLimit);
    if (!ents.ok()) return ents.status();
    for (const Entry& e : *ents) {
      if (e.type != EntryType::kConfChange) continue;
      ConfChange cc;
      if (!DecodeConfChange(e.data, &cc)) {
        return Corruption("raft: malformed conf change at index " + std::to_string(e.index));
      }
      ApplyConfChange(cc);
    }
    conf_applied_index_ = upto;
  }
  ResetProgress();
  return Status::Ok();
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
      if (log_.committed() > conf_applied_index_) {
        // Committed entries not yet reflected in the membership may remove us.
        auto ents = log_.Entries(std::max(conf_applied_index_ + 1, log_.FirstIndex()),
                                 log_.committed() + 1, kNoSizeLimit);
        if (ents.ok()) {
          for (const Entry& e : *ents) {
            if (e.type == EntryType::kConfChange) {
              return Unavailable("raft: cannot campaign with unapplied conf changes");
            }
          }
        }
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

// ---- Leader ----------------------------------------------------------------

bool Raft::CommittedEntryInCurrentTerm() const { return log_.TermOrZero(log_.committed()) == term_; }

bool Raft::AppendEntries(std::vector<Entry> entries) {
  Index last = log_.LastIndex();
  std::uint64_t size = 0;
  for (Entry& e : entries) {
    e.term = term_;
    e.index = ++last;
    size += EntrySizeBytes(e);
  }
  // The leader's no-op (empty data) is never refused.
  const bool only_empty = entries.size() == 1 && entries[0].data.empty();
  if (!only_empty && uncommitted_size_bytes_ + size > config_.max_uncommitted_size_bytes &&
      uncommitted_size_bytes_ > 0) {
    return false;
  }
  uncommitted_size_bytes_ += size;
  uncommitted_batches_.push_back({last, size});
  log_.Append(std::move(entries));
  // Our own progress advances only when Advance() acknowledges persistence (OnPersisted).
  return true;
}

void Raft::OnPersisted() {
  if (role_ != Role::kLeader) return;
  auto it = prs_.find(id_);
  if (it == prs_.end()) return;
  TRI_ASSERT(log_.StableIndex() <= log_.LastIndex());
  if (it->second.MaybeUpdate(log_.StableIndex())) {
    if (MaybeCommit()) commit_broadcast_pending_ = true;
  }
}

bool Raft::MaybeCommit() {
  std::vector<Index> matches;
  matches.reserve(conf_.voters.size());
  for (NodeId v : conf_.voters) {
    auto it = prs_.find(v);
    matches.push_back(it == prs_.end() ? 0 : it->second.match);
  }
  if (matches.empty()) return false;
  Index quorum_index = 0;
  if (config_.testing_bugs.learners_count_for_commit) {
    // TEST ONLY: the injected bug fills the voters' majority with learners' acks.
    for (NodeId l : conf_.learners) {
      auto it = prs_.find(l);
      matches.push_back(it == prs_.end() ? 0 : it->second.match);
    }
    std::sort(matches.begin(), matches.end(), std::greater<Index>());
    quorum_index = matches[MajoritySize(conf_.voters.size()) - 1];
  } else {
    quorum_index = QuorumCommittedIndex(std::move(matches));
  }
  // Figure 8: only an entry of the current term is committed by counting replicas;
  // earlier entries are committed indirectly. (TEST ONLY: the injected bug commits
  // whatever a quorum stores.)
  const Term commit_term =
      config_.testing_bugs.commit_previous_term_by_count ? log_.TermOrZero(quorum_index) : term_;
  if (!log_.MaybeCommit(quorum_index, commit_term)) return false;
  // Committed batches no longer count against the uncommitted budget.
  while (!uncommitted_batches_.empty() &&
         uncommitted_batches_.front().first <= log_.committed()) {
    TRI_ASSERT(uncommitted_size_bytes_ >= uncommitted_batches_.front().second);
    uncommitted_size_bytes_ -= uncommitted_batches_.front().second;
    uncommitted_batches_.pop_front();
  }
  ReleasePendingReads();
  return true;
}

void Raft::BcastAppend() {
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    SendAppend(id);
  }
}

void Raft::FlushBroadcast() {
  if (!commit_broadcast_pending_ && !append_broadcast_pending_) return;
  const bool commit = commit_broadcast_pending_;
  commit_broadcast_pending_ = false;
  append_broadcast_pending_ = false;
  if (role_ != Role::kLeader) return;
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    MaybeSendAppend(id, false);
    if (!commit) continue;
    // Skip followers that already get an append carrying the current commit index.
    const bool covered = std::any_of(msgs_.begin(), msgs_.end(), [&, to = id](const Message& m) {
      return m.to == to && m.type == MessageType::kApp && m.commit == log_.committed();
    });
    if (!covered) SendAppend(id);
  }
}

void Raft::BcastHeartbeat(const std::string& context) {
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    SendHeartbeat(id, context);
  }
}

void Raft::SendHeartbeat(NodeId to, const std::string& context) {
  const Progress& pr = prs_.at(to);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never tell a follower to commit beyond what it is known to have: its log past
  // match may still differ from ours.
  m.commit = std::min(pr.match, log_.committed());
  m.context = context;
  m.index = ticks_;  // echoed back: the lease starts when the heartbeat was sent
  Send(std::move(m));
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  Progress& pr = prs_.at(to);
  if (pr.IsPaused()) return false;
  const Index prev_index = pr.next - 1;
  auto prev_term = log_.TermAt(prev_index);
  Result<std::vector<Entry>> ents = std::vector<Entry>{};
  if (prev_term.ok()) ents = log_.EntriesFrom(pr.next, config_.max_msg_size_bytes);
  if (!prev_term.ok() || !ents.ok()) {
    // The entries were compacted: the follower needs the snapshot.
    TRI_ASSERT(IsCompacted(prev_term.ok() ? ents.status() : prev_term.status()));
    return SendSnapshotChunk(to, pr);
  }
  if (ents->empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::kApp;
  m.to = to;
  m.index = prev_index;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  m.entries = std::move(ents).value();
  if (prev_index == 0) {
    // The log from its very start: a joining node also needs the founding membership,
    // which lives in the snapshot at index 0 rather than in the log.
    auto base = log_.storage()->GetSnapshot();
    if (base.ok() && base->metadata.index == 0) {
      m.snapshot = SnapshotChunk{base->metadata, 0, 0, {}};
    }
  }
  if (!m.entries.empty()) {
    const Index last = m.entries.back().index;
    std::uint64_t bytes = 0;
    for (const Entry& e : m.entries) bytes += EntrySizeBytes(e);
    switch (pr.state) {
      case ProgressState::kReplicate:
        // Pipelining: assume delivery, keep sending within the in-flight window.
        pr.OptimisticUpdate(last);
        pr.inflights.Add(last, bytes);
        break;
      case ProgressState::kProbe:
        pr.probe_sent = true;
        break;
      case ProgressState::kSnapshot:
        TRI_UNREACHABLE();
    }
  }
  TRI_ASSERT(MessageSizeBytes(m) <= config_.max_msg_size_bytes + config_.max_entry_size_bytes + 128);
  Send(std::move(m));
  return true;
}

bool Raft::SendSnapshotChunk(NodeId to, Progress& pr) {
  if (!pr.recent_active) return false;  // do not push a snapshot at a dead node
  if (pr.state != ProgressState::kSnapshot || !pr.snapshot_in_transfer) {
    // Start a transfer with the latest snapshot. The transfer keeps that snapshot even
    // if the application makes newer ones meanwhile: restarting on every new snapshot
    // could keep a slow follower from ever finishing (hashicorp/raft #212, consul #9609).
    auto latest = log_.GetSnapshot();
    if (!latest.ok() || latest->empty()) return false;  // temporarily unavailable
    if (!sending_snapshot_ || sending_snapshot_->metadata.index != latest->metadata.index) {
      sending_snapshot_ = std::make_shared<const Snapshot>(std::move(latest).value());
    }
    pr.BecomeSnapshot(sending_snapshot_->metadata.index);
    pr.snapshot_in_transfer = sending_snapshot_;
  }
  const Snapshot* snap = pr.snapshot_in_transfer.get();
  TRI_ASSERT(snap->metadata.index == pr.pending_snapshot);
  const std::uint64_t total = snap->data.size();
  const std::uint64_t offset = std::min<std::uint64_t>(pr.snapshot_offset_bytes, total);
  const std::uint64_t len = std::min<std::uint64_t>(config_.max_snapshot_chunk_bytes, total - offset);
  Message m;
  m.type = MessageType::kSnap;
  m.to = to;
  SnapshotChunk chunk;
  chunk.metadata = snap->metadata;
  chunk.offset_bytes = offset;
  chunk.total_size_bytes = total;
  chunk.data = snap->data.substr(offset, len);
  m.snapshot = std::move(chunk);
  pr.snapshot_sent_round = heartbeat_rounds_;
  Send(std::move(m));
  return true;
}

void Raft::SendTimeoutNow(NodeId to) {
  // The target's campaign bypasses the voters' leader lease; ours ends here.
  lease_revoked_ = true;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

bool Raft::InLeaderLease() const {
  if (!config_.check_quorum) return false;
  if (lead_ != kNoNode && election_elapsed_ < config_.election_ticks) return true;
  return HeardFromLeaderRecently();
}

bool Raft::LeaseValid() const {
  if (lease_revoked_) return false;
  std::vector<std::uint64_t> acks;
  for (NodeId v : conf_.voters) {
    auto it = prs_.find(v);
    acks.push_back(v == id_ ? ticks_ : (it == prs_.end() ? 0 : it->second.lease_ack_tick));
  }
  if (acks.empty()) return false;
  const std::uint64_t lease_start = QuorumCommittedIndex(std::move(acks));
  if (lease_start == 0) return false;  // no quorum acknowledged any heartbeat yet
  return ticks_ < lease_start + static_cast<std::uint64_t>(config_.EffectiveLeaseTicks());
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

Status Raft::CheckConfChangeProposal(const Entry& e) const {
  ConfChange cc;
  if (!DecodeConfChange(e.data, &cc)) return InvalidArgument("raft: malformed conf change");
  if (pending_conf_index_ > log_.applying()) {
    return FailedPrecondition("raft: a membership change is already in flight (index " +
                              std::to_string(pending_conf_index_) + "); retry after it applies");
  }
  if (!CommittedEntryInCurrentTerm()) {
    // The single-server-change safety fix: a new leader first commits an entry of its own
    // term, so a change proposed by a previous leader cannot overlap this one.
    return FailedPrecondition(
        "raft: leader has not committed an entry of its term yet; retry shortly");
  }
  if (cc.node_id == kNoNode) return InvalidArgument("raft: conf change for node id 0");
  if (conf_.removed.count(cc.node_id) != 0) {
    return FailedPrecondition("raft: node id " + std::to_string(cc.node_id) +
                              " was removed before and cannot be reused");
  }
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      if (conf_.IsVoter(cc.node_id)) {
        return FailedPrecondition("raft: node " + std::to_string(cc.node_id) +
                                  " is already a voter");
      }
      break;
    case ConfChangeType::kAddLearner:
      if (conf_.IsMember(cc.node_id)) {
        return FailedPrecondition("raft: node " + std::to_string(cc.node_id) +
                                  " is already a member (demoting a voter is not supported)");
      }
      break;
    case ConfChangeType::kRemoveNode:
      if (!conf_.IsMember(cc.node_id)) {
        return FailedPrecondition("raft: node " + std::to_string(cc.node_id) +
                                  " is not a member");
      }
      if (conf_.IsVoter(cc.node_id) && conf_.voters.size() == 1) {
        return FailedPrecondition("raft: cannot remove the last voter");
      }
      break;
  }
  return Status::Ok();
}

Status Raft::HandlePropose(Message& m) {
  TRI_ASSERT_MSG(!m.entries.empty(), "empty proposal");
  if (prs_.count(id_) == 0 || !conf_.IsVoter(id_)) {
    return Unavailable("raft: this leader was removed from the group; retry at the new leader");
  }
  if (lead_transferee_ != kNoNode) {
    return Unavailable("raft: leadership transfer to node " + std::to_string(lead_transferee_) +
                       " in progress; retry at the new leader");
  }
  std::size_t conf_changes = 0;
  Index conf_offset = 0;
  for (const Entry& e : m.entries) {
    if (EntrySizeBytes(e) > config_.max_entry_size_bytes) {
      return InvalidArgument("raft: entry of " + std::to_string(EntrySizeBytes(e)) +
                             " bytes exceeds max_entry_size_bytes " +
                             std::to_string(config_.max_entry_size_bytes));
    }
    if (e.type == EntryType::kConfChange) {
      TRI_RETURN_IF_ERROR(CheckConfChangeProposal(e));
      conf_offset = static_cast<Index>(&e - m.entries.data());
      ++conf_changes;
    }
  }
  if (conf_changes > 1) return FailedPrecondition("raft: at most one membership change at a time");
  const Index first_new = log_.LastIndex() + 1;
  if (!AppendEntries(std::move(m.entries))) {
    return ResourceExhausted("raft: too many uncommitted bytes on the leader; retry later");
  }
  if (conf_changes == 1) pending_conf_index_ = first_new + conf_offset;
  // Batching: every proposal until the next Ready leaves in one append per follower.
  append_broadcast_pending_ = true;
  return Status::Ok();
}

void Raft::RespondToRead(NodeId from, Index index, std::string context) {
  TRI_ASSERT(role_ == Role::kLeader);
  TRI_ASSERT(index <= log_.committed());
  if (from == kNoNode || from == id_) {
    read_states_.push_back(ReadState{index, std::move(context)});
    return;
  }
  Message resp;
  resp.type = MessageType::kReadIndexResp;
  resp.to = from;
  resp.index = index;
  resp.context = std::move(context);
  Send(std::move(resp));
}

void Raft::HandleReadIndexRequest(Message& m) {
  if (conf_.voters.size() == 1 && conf_.IsVoter(id_)) {
    RespondToRead(m.from, log_.committed(), std::move(m.context));
    return;
  }
  if (!CommittedEntryInCurrentTerm() && !config_.testing_bugs.read_before_own_term_commit) {
    // 6.4: a new leader does not know the commit index until it commits in its term.
    // (TEST ONLY: the injected bug answers at once.)
    reads_before_term_commit_.push_back(std::move(m));
    return;
  }
  if (config_.read_only == ReadOnlyOption::kLeaseBased && LeaseValid()) {
    RespondToRead(m.from, log_.committed(), std::move(m.context));
    return;
  }
  for (const ReadRequest& r : pending_reads_) {
    if (r.context == m.context) return;  // duplicate request: answered with the first
  }
  ReadRequest req{log_.committed(), m.context, m.from == kNoNode ? id_ : m.from, {id_}};
  pending_reads_.push_back(std::move(req));
  BcastHeartbeat(m.context);
}

void Raft::ReleasePendingReads() {
  if (reads_before_term_commit_.empty() || !CommittedEntryInCurrentTerm()) return;
  std::vector<Message> waiting;
  waiting.swap(reads_before_term_commit_);
  for (Message& m : waiting) HandleReadIndexRequest(m);
}

void Raft::HandleAppendResponse(const Message& m, Progress& pr) {
  pr.recent_active = true;
  if (m.reject) {
    // Fast backtracking: jump to the follower's hint, refined by our own log so that a
    // whole term of conflicting entries is skipped in one round trip.
    Index next_probe = m.reject_hint;
    if (m.reject_hint_term > 0) {
      next_probe = log_.FindConflictByTerm(m.reject_hint, m.reject_hint_term).first;
    }
    if (pr.MaybeDecrTo(m.index, next_probe)) {
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from);
    }
    return;
  }
  // A follower of our term can only have entries it got from us.
  TRI_ASSERT_MSG(m.index <= log_.LastIndex(), "follower acknowledged beyond the leader's log");
  const bool was_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(m.index)) {
    // Duplicated or reordered response; the follower may still have a gap to fill.
    return;
  }
  switch (pr.state) {
    case ProgressState::kProbe: pr.BecomeReplicate(); break;
    case ProgressState::kSnapshot:
      if (pr.match + 1 >= log_.FirstIndex() || pr.match >= pr.pending_snapshot) {
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate: pr.inflights.FreeLE(m.index); break;
  }
  if (MaybeCommit()) {
    commit_broadcast_pending_ = true;
  } else if (was_paused) {
    SendAppend(m.from);
  }
  // Fill the pipeline up to the flow-control window.
  for (int sent = 0; sent < 64 && MaybeSendAppend(m.from, false); ++sent) {
  }
  if (m.from == lead_transferee_ && pr.match == log_.LastIndex()) SendTimeoutNow(m.from);
}

void Raft::HandleHeartbeatResponse(const Message& m, Progress& pr) {
  pr.recent_active = true;
  if (m.index <= ticks_) pr.lease_ack_tick = std::max(pr.lease_ack_tick, m.index);
  pr.probe_sent = false;
  if (pr.state == ProgressState::kReplicate && pr.inflights.Full()) pr.inflights.FreeFirstOne();
  if (pr.state == ProgressState::kSnapshot) {
    // A chunk unanswered for a heartbeat round was lost: resend the one wanted.
    if (heartbeat_rounds_ > pr.snapshot_sent_round) SendSnapshotChunk(m.from, pr);
  } else if (pr.match < log_.LastIndex()) {
    SendAppend(m.from);
  }
  // Reads waiting for a heartbeat round (kSafe, or kLeaseBased without a valid lease).
  if (m.context.empty() || pending_reads_.empty()) return;
  auto it = std::find_if(pending_reads_.begin(), pending_reads_.end(),
                         [&](const ReadRequest& r) { return r.context == m.context; });
  if (it == pending_reads_.end()) return;
  it->acks.insert(m.from);
  std::map<NodeId, bool> acks;
  for (NodeId a : it->acks) acks.emplace(a, true);
  if (TallyVotes(conf_.voters, acks) != VoteResult::kWon) return;
  // A quorum confirmed our leadership at this point: every earlier request is served too.
  std::vector<ReadRequest> done(pending_reads_.begin(), it + 1);
  pending_reads_.erase(pending_reads_.begin(), it + 1);
  for (ReadRequest& r : done) RespondToRead(r.from, r.index, std::move(r.context));
}

void Raft::HandleSnapshotResponse(const Message& m, Progress& pr) {
  pr.recent_active = true;
  if (pr.state != ProgressState::kSnapshot || !m.snapshot) return;
  if (m.snapshot->metadata.index != pr.pending_snapshot) return;  // about an older snapshot
  // A duplicated answer: the chunk it asks for is already on its way.
  if (m.snapshot->offset_bytes == pr.snapshot_offset_bytes && pr.snapshot_offset_bytes != 0) return;
  pr.snapshot_offset_bytes = m.snapshot->offset_bytes;
  if (m.snapshot->offset_bytes < m.snapshot->total_size_bytes) {
    SendSnapshotChunk(m.from, pr);
  }
  // Otherwise the follower installs it and answers with an append response.
}

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

// ---- Candidate -------------------------------------------------------------

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

// ---- Follower --------------------------------------------------------------

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

void Raft::HandleAppendEntries(Message& m) {
  leader_contact_elapsed_ = 0;  // from the leader of our term
  if (m.index == 0 && m.snapshot && m.snapshot->metadata.index == 0 && conf_.voters.empty() &&
      conf_.learners.empty() && conf_.removed.empty() && conf_applied_index_ == 0 &&
      log_.committed() == 0) {
    // A joining node adopts the founding membership (persisted via Ready::snapshot).
    conf_ = m.snapshot->metadata.conf_state;
    conf_changed_ = true;
    pending_base_conf_ = conf_;
  }
  Message resp;
  resp.type = MessageType::kAppResp;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    // Everything up to our commit index matches any leader's log: a stale or
    // duplicated append.
    resp.index = log_.committed();
    Send(std::move(resp));
    return;
  }
  if (auto last_new = log_.MaybeAppend(m.index, m.log_term, m.commit, std::move(m.entries))) {
    TRI_ASSERT(*last_new <= log_.LastIndex());
    TRI_ASSERT(log_.committed() <= *last_new);
    resp.index = *last_new;
    Send(std::move(resp));
    return;
  }
  // Reject with a hint: the largest index <= m.index whose term is <= the leader's term
  // there; the leader skips every entry in between.
  const Index hint_index = std::min(m.index, log_.LastIndex());
  const auto [idx, term] = log_.FindConflictByTerm(hint_index, m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = idx;
  resp.reject_hint_term = term;
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  leader_contact_elapsed_ = 0;  // from the leader of our term
  log_.CommitTo(std::min(m.commit, log_.LastIndex()));
  Message resp;
  resp.type = MessageType::kHeartbeatResp;
  resp.to = m.from;
  resp.context = m.context;
  resp.index = m.index;
  Send(std::move(resp));
}

void Raft::HandleSnapshotChunk(const Message& m) {
  leader_contact_elapsed_ = 0;  // from the leader of our term
  TRI_ASSERT(m.snapshot.has_value());
  const SnapshotChunk& chunk = *m.snapshot;
  Message resp;
  resp.type = MessageType::kSnapResp;
  resp.to = m.from;
  if (chunk.metadata.index <= log_.committed()) {
    // We already have everything the snapshot covers.
    incoming_snapshot_.reset();
    Message ack;
    ack.type = MessageType::kAppResp;
    ack.to = m.from;
    ack.index = log_.committed();
    Send(std::move(ack));
    return;
  }
  const bool same = incoming_snapshot_ && incoming_snapshot_->metadata.index == chunk.metadata.index &&
                    incoming_snapshot_->metadata.term == chunk.metadata.term &&
                    incoming_snapshot_->total_size_bytes == chunk.total_size_bytes;
  if (chunk.offset_bytes == 0 && !same) {
    incoming_snapshot_ = SnapshotChunk{chunk.metadata, 0, chunk.total_size_bytes, {}};
  }
  if (!incoming_snapshot_ || !(incoming_snapshot_->metadata.index == chunk.metadata.index &&
                               incoming_snapshot_->metadata.term == chunk.metadata.term)) {
    // A chunk from the middle of a snapshot we are not assembling (we restarted or the
    // leader moved on): ask for offset 0.
    resp.snapshot = SnapshotChunk{chunk.metadata, 0, chunk.total_size_bytes, {}};
    Send(std::move(resp));
    return;
  }
  SnapshotChunk& in = *incoming_snapshot_;
  if (chunk.offset_bytes == in.data.size()) {
    in.data.append(chunk.data);
  }
  // Duplicates and gaps: answer with the offset we need next.
  TRI_ASSERT(in.data.size() <= in.total_size_bytes);
  resp.snapshot = SnapshotChunk{in.metadata, in.data.size(), in.total_size_bytes, {}};
  if (in.data.size() < in.total_size_bytes) {
    Send(std::move(resp));
    return;
  }
  Snapshot snap{in.metadata, std::move(in.data)};
  incoming_snapshot_.reset();
  Send(std::move(resp));
  Message ack;
  ack.type = MessageType::kAppResp;
  ack.to = m.from;
  if (Restore(snap)) {
    ack.index = log_.LastIndex();
  } else {
    ack.index = log_.committed();
  }
  Send(std::move(ack));
}

bool Raft::Restore(const Snapshot& s) {
  if (s.metadata.index <= log_.committed()) return false;
  TRI_ASSERT_MSG(role_ == Role::kFollower, "only followers install snapshots");
  if (log_.MatchTerm(s.metadata.index, s.metadata.term)) {
    // We have the entry: fast-forward the commit index instead of wiping the log.
    log_.CommitTo(s.metadata.index);
    return false;
  }
  log_.Restore(s);
  TRI_ASSERT(log_.committed() == s.metadata.index && log_.LastIndex() == s.metadata.index);
  conf_ = s.metadata.conf_state;
  conf_applied_index_ = s.metadata.index;
  conf_changed_ = true;
  ResetProgress();
  return true;
}

// ---- Membership ------------------------------------------------------------

void Raft::ApplyConfChangeEntry(const Entry& e) {
  TRI_ASSERT(e.type == EntryType::kConfChange);
  TRI_ASSERT(e.index <= log_.committed());
  if (e.index <= conf_applied_index_) return;
  conf_applied_index_ = e.index;
  ConfChange cc;
  const bool ok = DecodeConfChange(e.data, &cc);
  TRI_ASSERT_MSG(ok, "a committed conf change entry must decode");
  ApplyConfChange(cc);
}

void Raft::ApplyConfChange(const ConfChange& cc) {
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      if (conf_.removed.count(cc.node_id) != 0) return;  // a removed id never returns
      conf_.learners.erase(cc.node_id);
      conf_.voters.insert(cc.node_id);
      AddProgress(cc.node_id, false);
      break;
    case ConfChangeType::kAddLearner:
      if (conf_.removed.count(cc.node_id) != 0 || conf_.IsVoter(cc.node_id)) return;
      conf_.learners.insert(cc.node_id);
      AddProgress(cc.node_id, true);
      break;
    case ConfChangeType::kRemoveNode:
      conf_.voters.erase(cc.node_id);
      conf_.learners.erase(cc.node_id);
      conf_.removed.insert(cc.node_id);
      prs_.erase(cc.node_id);
      break;
  }
  conf_changed_ = true;
  TRI_ASSERT(conf_.voters.count(cc.node_id) == 0 || conf_.learners.count(cc.node_id) == 0);
  if (role_ != Role::kLeader) return;
  if (lead_transferee_ != kNoNode && !conf_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
  if (!conf_.IsVoter(id_)) {
    // A removed leader tells the others the new commit index, hands leadership to an
    // up-to-date voter (so the group need not wait for an election timeout, during
    // which followers would still ignore other candidates), then steps down.
    BcastAppend();
    NodeId successor = kNoNode;
    for (NodeId v : conf_.voters) {
      auto it = prs_.find(v);
      if (it != prs_.end() && it->second.match == log_.LastIndex()) {
        successor = v;
        break;
      }
    }
    if (successor != kNoNode) SendTimeoutNow(successor);
    BecomeFollower(term_, kNoNode);
    return;
  }
  // The quorum may have shrunk.
  if (MaybeCommit()) commit_broadcast_pending_ = true;
}

}  // namespace tri::raft
