#include <algorithm>

#include "base/assert.h"
#include "raft/internal/raft.h"

// Membership: single-server changes (thesis 4.1) proposed, applied as their entries
// commit and restored at start-up; the leader's side of a leadership transfer.

namespace tri::raft {

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
    // Read in pages: the committed tail after the snapshot can be long.
    Status malformed = Status::Ok();
    auto replay = [&](const Entry& e) {
      if (e.type != EntryType::kConfChange) return true;
      ConfChange cc;
      if (!DecodeConfChange(e.data, &cc)) {
        malformed = Corruption("raft: malformed conf change at index " + std::to_string(e.index));
        return false;
      }
      ApplyConfChange(cc);
      return true;
    };
    TRI_RETURN_IF_ERROR(
        log_.Scan(first, upto + 1, config_.max_committed_size_per_ready_bytes, replay));
    TRI_RETURN_IF_ERROR(malformed);
    conf_applied_index_ = upto;
  }
  ResetProgress();
  return Status::Ok();
}

bool Raft::HasUnappliedCommittedConfChange() const {
  if (log_.committed() <= conf_applied_index_) return false;
  // Read in pages: a node far behind in applying can have a long committed tail. The
  // scan starts at FirstIndex() or later, so it cannot fail with compaction.
  bool found = false;
  auto is_conf_change = [&](const Entry& e) {
    found = e.type == EntryType::kConfChange;
    return !found;
  };
  (void)log_.Scan(std::max(conf_applied_index_ + 1, log_.FirstIndex()), log_.committed() + 1,
                  config_.max_committed_size_per_ready_bytes, is_conf_change);
  return found;
}

Status Raft::CheckConfChangeProposal(const Entry& e) const {
  ConfChange cc;
  if (!DecodeConfChange(e.data, &cc)) return InvalidArgument("raft: malformed conf change");
  if (pending_conf_index_ > log_.applying()) {
    return Unavailable("raft: a membership change is already in flight (index " +
                              std::to_string(pending_conf_index_) + "); retry after it applies");
  }
  if (!CommittedEntryInCurrentTerm()) {
    // The single-server-change safety fix: a new leader first commits an entry of its own
    // term, so a change proposed by a previous leader cannot overlap this one.
    return Unavailable("raft: leader has not committed an entry of its term yet; retry shortly");
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

void Raft::SendTimeoutNow(NodeId to) {
  // The target's campaign bypasses the voters' leader lease; ours ends here.
  lease_revoked_ = true;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

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
