#pragma once

// Safety invariants of a simulated Raft cluster, checked while the run goes
// (Raft paper, Figure 3), from what the driver observes: roles and terms after
// every step, entries as they are persisted, commit indexes from hard states,
// and entries as they are applied. The first violation is kept; the runner
// stops at once and prints it with the seed.
//
//  - election safety: at most one leader per term;
//  - log matching: two logs holding an entry with the same index and term hold
//    the same entry there and agree on everything before it (checked
//    incrementally: an (index, term) pair always names the same data and the
//    same preceding term; and pairwise over whole logs at the end);
//  - leader completeness: a new leader of term T holds every entry that was
//    committed by a leader of a term before T;
//  - state-machine safety: no two nodes apply different entries at one index,
//    and only committed entries are applied;
//  - no committed entry is lost: every committed entry stays on the durable
//    storage of a quorum; a node's commit index never goes backwards;
//  - a leader commits by counting only entries of its own term, only once a
//    majority of its voters durably holds them, and answers reads only after
//    committing an entry of its term.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"

namespace tri::sim {

struct Violation {
  std::string invariant;  // e.g. "election safety"
  std::string details;
};

class RaftInvariants {
 public:
  explicit RaftInvariants(std::size_t voter_count);

  bool ok() const { return violation_.invariant.empty(); }
  const Violation& violation() const { return violation_; }

  // `node` is leader in `term` (call whenever that is seen).
  void ObserveLeader(raft::NodeId node, raft::Term term);
  // `entries` were just appended to `storage` of `node`.
  void ObservePersisted(raft::NodeId node, const std::vector<raft::Entry>& entries,
                        const raft::Storage& storage);
  // `node` (in `term`) reports commit index `commit`; its log is in `storage`.
  // `quorum` is the majority size of the node's current configuration: newly
  // committed entries must stay on at least that many disks.
  void ObserveCommit(raft::NodeId node, raft::Term term, raft::Index commit,
                     const raft::Storage& storage, std::size_t quorum);
  // `node` persisted hard state `hs`: a node's durable term never goes back, and
  // within a term its durable vote, once cast, never changes (across restarts).
  void ObserveHardState(raft::NodeId node, const raft::HardState& hs);
  // A leader must be a voter of its own configuration (never a learner).
  void ObserveLeaderIsVoter(raft::NodeId node, raft::Term term, bool is_voter);
  // `node` restarted from durable storage: commit may legitimately restart from
  // the durable hard state, which must not be below what it reported.
  void ObserveRestart(raft::NodeId node, raft::Index durable_commit);
  // A node that is leader in `term` (first time seen) holds this log.
  void CheckLeaderCompleteness(raft::NodeId node, raft::Term term, const raft::Storage& storage);
  // `node` applies `entry` (entries arrive in index order per node incarnation).
  void ObserveApplied(raft::NodeId node, const raft::Entry& entry);
  // `node` installed a snapshot covering the log up to `index` (of `term`): it
  // must hold only committed state, and applies resume after it.
  void ObserveSnapshotInstalled(raft::NodeId node, raft::Index index, raft::Term term);
  // Two replicas reached different states after applying the same log prefix.
  void ObserveDivergence(std::string details) { Fail("state-machine safety", std::move(details)); }
  // A violation found by another checker (message_checks.h, the idle phases).
  void Report(std::string invariant, std::string details) {
    Fail(std::move(invariant), std::move(details));
  }
  // `node`, leader of `term`, advanced its commit index from `old_commit` to
  // `new_commit` (its log is `log`). The entry at `new_commit` must be of `term`
  // (earlier entries are committed only under one of the leader's own, Figure 8),
  // and a majority of the VOTERS durably hold it with that term (learners never
  // count). A membership change applied in the same Ready may have decided the
  // commit under the configuration before or after it: a majority of either
  // `voters_before` or `voters_after` suffices.
  void CheckLeaderCommit(raft::NodeId node, raft::Term term, raft::Index old_commit,
                         raft::Index new_commit, const raft::Storage& log,
                         const std::set<raft::NodeId>& voters_before,
                         const std::set<raft::NodeId>& voters_after,
                         const std::map<raft::NodeId, const raft::Storage*>& durable);
  // `node`, leader of `term`, hands out a read state at `read_index` (its log is
  // `log`): it must have committed an entry of its own term first (the entry at the
  // read index is of `term`), unless it is its configuration's only voter.
  void CheckLeaderRead(raft::NodeId node, raft::Term term, raft::Index read_index,
                       const raft::Storage& log, bool sole_voter);
  // Every committed entry is on at least a quorum (of the configuration that
  // committed it) of these durable logs.
  void CheckCommittedDurable(const std::map<raft::NodeId, const raft::Storage*>& durable);
  // Pairwise log matching over whole logs.
  void CheckLogMatching(const std::map<raft::NodeId, const raft::Storage*>& logs);

  raft::Index committed_index() const { return committed_.size(); }
  std::uint64_t leaders_seen() const { return leader_by_term_.size(); }
  std::uint64_t max_term() const;

 private:
  struct EntryKey {
    std::uint64_t data_hash;
    raft::Term prev_term;
  };
  struct Committed {
    raft::Term term;
    std::uint64_t data_hash;
    raft::Term commit_term;  // the term of the leader that committed it
    bool in_snapshot;        // known only as part of a snapshot (e.g. the bootstrap one)
    std::size_t quorum;      // majority size of the configuration that committed it
  };
  void Fail(std::string invariant, std::string details);
  static std::uint64_t HashEntry(const raft::Entry& e);

  std::size_t voter_count_;
  std::size_t max_quorum_ = 1;  // largest quorum any committed entry was recorded with
  Violation violation_;
  std::map<raft::Term, raft::NodeId> leader_by_term_;
  std::map<std::pair<raft::Index, raft::Term>, EntryKey> entry_by_position_;
  std::vector<Committed> committed_;  // committed_[i - 1] is index i
  std::map<raft::NodeId, raft::Index> commit_by_node_;
  std::map<raft::NodeId, raft::HardState> hard_state_by_node_;  // last persisted
  std::map<raft::NodeId, raft::Index> last_applied_by_node_;
  std::map<std::pair<raft::NodeId, raft::Term>, bool> completeness_checked_;
};

}  // namespace tri::sim
