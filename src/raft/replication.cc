#include <algorithm>
#include <functional>

#include "base/assert.h"
#include "raft/internal/quorum.h"
#include "raft/internal/raft.h"

// Log replication: the leader's appends, commit rule and flow control, snapshot
// transfer in chunks, and the follower's side of each (Raft 5.3, 5.4, 7).

namespace tri::raft {

// ---- Leader -----------------------------------------------------------------

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
      // Its data (the application's founding state, usually small) goes along.
      m.snapshot = SnapshotChunk{base->metadata, 0, base->data.size(), base->data};
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
    if (!latest.ok()) {
      // Only "temporarily unavailable" is an answer; anything else is a storage failure.
      const std::string failure = "raft: storage failed to load the snapshot: " +
                                  latest.status().ToString();
      TRI_ASSERT_MSG(IsSnapshotTemporarilyUnavailable(latest.status()), failure.c_str());
      return false;  // try again on a later heartbeat
    }
    if (latest->empty()) return false;
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

// ---- Follower ---------------------------------------------------------------

void Raft::HandleAppendEntries(Message& m) {
  leader_contact_elapsed_ = 0;  // from the leader of our term
  if (m.index == 0 && m.snapshot && m.snapshot->metadata.index == 0 && conf_.voters.empty() &&
      conf_.learners.empty() && conf_.removed.empty() && conf_applied_index_ == 0 &&
      log_.committed() == 0) {
    // A joining node adopts the founding membership (persisted via Ready::snapshot).
    conf_ = m.snapshot->metadata.conf_state;
    conf_changed_ = true;
    pending_base_conf_ = conf_;
    pending_base_data_ = m.snapshot->data;
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

}  // namespace tri::raft
