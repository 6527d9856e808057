#include <algorithm>

#include "base/assert.h"
#include "raft/internal/quorum.h"
#include "raft/internal/raft.h"

// Linearizable reads (thesis 6.4, etcd's read_only.go): ReadIndex confirmed by a
// heartbeat round, or answered at once under a leader lease (ReadOnlyOption).

namespace tri::raft {

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

}  // namespace tri::raft
