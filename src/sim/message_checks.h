#pragma once

// Checks on every message at the moment its sender hands it to the simulated
// network: a message may claim only state that its sender has made durable
// (raft/raw_node.h: persist, then send). A bug that acknowledges or grants
// something before persisting it is caught here, at the first message that
// carries the claim, instead of only in the rare run where a crash at the wrong
// moment turns it into two leaders or a lost entry.
//
// What each message claims (T = the message's term, D = the sender's durable
// storage and hard state):
//  - every message with a term, except kPreVote and a granted kPreVoteResp
//    (which carry the future term of a pre-election and change no state): the
//    sender is durably in term T or later (T <= D.term);
//  - kPreVote: the sender is durably in term T - 1 or later;
//  - kVote (the candidate voted for itself) and a granted kVoteResp for
//    candidate C: D.term > T, or D.term == T and D.vote is the candidate;
//  - kVote/kPreVote from a node still campaigning in T: its durable log ends
//    with (index, log_term) as claimed;
//  - kAppResp accepting up to index i > 0, while the sender is still in T: its
//    durable log reaches i (or a snapshot covers it);
//  - kApp and kHeartbeat: the commit index they carry is <= D.commit (a leader may
//    send entries it has not persisted yet, Raft thesis 10.2.1, but not a commit
//    index or term it has not);
//  - kSnap: the snapshot covers only committed entries (index <= D.commit);
//  - kReadIndexResp from a leader of term T with read index r: the entry at r is
//    of term T, i.e. the leader had committed an entry of its own term before
//    answering (Raft thesis 6.4), unless it is its configuration's only voter.
//
// Across a node's incarnations, its granted votes (kVoteResp, and kVote for
// itself) name one candidate per term: a second one means it voted twice. And a
// node that becomes leader of a term must have been sent granted votes by a
// majority of its voters (a candidate that counts a vote twice wins with fewer).
//
// Besides the sender's own state, one claim about its peer is checked: an
// accepting kAppResp of term T (index > 0) answers an append of term T from its
// receiver. A follower that accepts an append from a leader of an older term
// answers with its own, newer term, and no such append was ever delivered to it.
// (The driver also compares the follower's state before and after it steps an
// append of an older term: nothing may change.)

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "raft/raw_node.h"
#include "raft/storage.h"
#include "raft/types.h"
#include "sim/raft_invariants.h"

namespace tri::sim {

// The sender's side of a message being sent.
struct SenderView {
  raft::NodeId id = raft::kNoNode;
  // What the sender would restart from (its disk).
  const raft::Storage* durable = nullptr;
  raft::HardState durable_hard_state;
  // The sender's volatile role and term right now (after the Ready was persisted).
  raft::Role role = raft::Role::kFollower;
  raft::Term term = 0;
  // The sender is the only voter of its configuration (its commit index is exact).
  bool sole_voter = false;
};

class MessageChecks {
 public:
  // Violations are reported to `invariants` (not owned; must outlive this).
  explicit MessageChecks(RaftInvariants* invariants) : invariants_(invariants) {}

  // `m` was just stepped into node `to`.
  void ObserveDelivered(raft::NodeId to, const raft::Message& m);
  // Node `to` was in a term newer than `m`'s (an append) when it stepped `m`; its
  // status before and after: a stale append must change nothing (no entries, no
  // commit index, no term, no leader), only be answered with the newer term.
  void CheckStaleAppendIgnored(raft::NodeId to, const raft::Message& m,
                               const raft::NodeStatus& before, const raft::NodeStatus& after);
  // `m` is about to be handed to the network by `sender`.
  void CheckSend(const SenderView& sender, const raft::Message& m);
  // `leader` acts as leader of `term` for the first time: a majority of the voters
  // of its configuration (`voters_a` or `voters_b`: the one before or after its
  // latest Ready) must have sent it a granted vote for that term (its own included).
  void CheckElected(raft::NodeId leader, raft::Term term, const std::set<raft::NodeId>& voters_a,
                    const std::set<raft::NodeId>& voters_b);

 private:
  void Fail(const SenderView& sender, const raft::Message& m, const std::string& what);
  void CheckLogClaim(const SenderView& sender, const raft::Message& m);

  RaftInvariants* invariants_;
  void CheckOneVotePerTerm(const SenderView& sender, const raft::Message& m,
                           raft::NodeId candidate);

  // (voter, term) -> the candidate it granted its vote (its own for a candidate).
  std::map<std::pair<raft::NodeId, raft::Term>, raft::NodeId> votes_;
  // (receiver, sender, term) of every append or snapshot chunk ever delivered.
  std::set<std::tuple<raft::NodeId, raft::NodeId, raft::Term>> delivered_appends_;
};

}  // namespace tri::sim
