#include "sim/raft_invariants.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "base/assert.h"

namespace tri::sim {

RaftInvariants::RaftInvariants(std::size_t voter_count) : voter_count_(voter_count) {
  TRI_ASSERT(voter_count_ > 0);
}

void RaftInvariants::Fail(std::string invariant, std::string details) {
  if (!ok()) return;  // keep the first
  violation_ = Violation{std::move(invariant), std::move(details)};
}

std::uint64_t RaftInvariants::HashEntry(const raft::Entry& e) {
  return std::hash<std::string>{}(e.data) * 31 + static_cast<std::uint64_t>(e.type);
}

std::uint64_t RaftInvariants::max_term() const {
  return leader_by_term_.empty() ? 0 : leader_by_term_.rbegin()->first;
}

void RaftInvariants::ObserveLeader(raft::NodeId node, raft::Term term) {
  auto [it, inserted] = leader_by_term_.emplace(term, node);
  if (!inserted && it->second != node) {
    Fail("election safety",
         fmt::format("two leaders in term {}: node {} and node {}", term, it->second, node));
  }
}

void RaftInvariants::ObservePersisted(raft::NodeId node, const std::vector<raft::Entry>& entries,
                                      const raft::Storage& storage) {
  for (const raft::Entry& e : entries) {
    if (e.index < storage.FirstIndex()) continue;  // compacted meanwhile
    auto prev = storage.TermAt(e.index - 1);
    const raft::Term prev_term = prev.ok() ? *prev : 0;
    const EntryKey key{HashEntry(e), prev_term};
    auto [it, inserted] = entry_by_position_.emplace(std::make_pair(e.index, e.term), key);
    if (inserted) continue;
    if (it->second.data_hash != key.data_hash) {
      Fail("log matching",
           fmt::format("node {} persisted a different entry at index {} term {} than another "
                       "node did",
                       node, e.index, e.term));
    } else if (prev.ok() && it->second.prev_term != prev_term) {
      Fail("log matching",
           fmt::format("node {} holds index {} term {} after an entry of term {}, another node "
                       "after term {}",
                       node, e.index, e.term, prev_term, it->second.prev_term));
    }
  }
}

void RaftInvariants::ObserveRestart(raft::NodeId node, raft::Index durable_commit) {
  raft::Index& last = commit_by_node_[node];
  if (durable_commit < last) {
    // A commit index is durable before it is reported, so a restart never loses it.
    Fail("commit index regressed",
         fmt::format("node {} restarted with commit {} after reporting commit {}", node,
                     durable_commit, last));
  }
  last = durable_commit;
  last_applied_by_node_.erase(node);
}

void RaftInvariants::ObserveHardState(raft::NodeId node, const raft::HardState& hs) {
  auto [it, inserted] = hard_state_by_node_.emplace(node, hs);
  if (inserted) return;
  const raft::HardState prev = it->second;
  it->second = hs;
  if (hs.term < prev.term) {
    Fail("durable state regressed",
         fmt::format("node {} persisted term {} after term {}", node, hs.term, prev.term));
  } else if (hs.term == prev.term && prev.vote != raft::kNoNode && hs.vote != prev.vote) {
    Fail("durable state regressed",
         hs.vote == raft::kNoNode
             ? fmt::format("node {} lost its durable vote for node {} in term {}", node, prev.vote,
                           hs.term)
             : fmt::format("node {} persisted a vote for node {} in term {} after voting for "
                           "node {}",
                           node, hs.vote, hs.term, prev.vote));
  }
}

void RaftInvariants::ObserveLeaderIsVoter(raft::NodeId node, raft::Term term, bool is_voter) {
  if (!is_voter) {
    Fail("leader is a voter",
         fmt::format("node {} leads term {} but is not a voter of its configuration", node, term));
  }
}

void RaftInvariants::ObserveCommit(raft::NodeId node, raft::Term term, raft::Index commit,
                                   const raft::Storage& storage, std::size_t quorum) {
  raft::Index& last = commit_by_node_[node];
  if (commit < last) {
    Fail("commit index regressed",
         fmt::format("node {} reported commit {} after commit {}", node, commit, last));
    return;
  }
  const raft::Index first_new = std::max(storage.FirstIndex(), last + 1);
  last = commit;
  for (raft::Index i = first_new; i <= commit; ++i) {
    auto t = storage.TermAt(i);
    if (!t.ok()) {
      Fail("committed entry not durable",
           fmt::format("node {} reports commit {} but its storage lacks index {} ({})", node,
                       commit, i, t.status().ToString()));
      return;
    }
    // Indexes below the storage's first index are inside its snapshot.
    while (committed_.size() + 1 < storage.FirstIndex()) {
      committed_.push_back(Committed{0, 0, term, /*in_snapshot=*/true, quorum});
    }
    auto entries = storage.Entries(i, i + 1, raft::kNoSizeLimit);
    TRI_ASSERT(entries.ok() && entries->size() == 1);
    const raft::Entry& e = entries->front();
    if (i == committed_.size() + 1) {
      committed_.push_back(Committed{e.term, HashEntry(e), term, /*in_snapshot=*/false, quorum});
      max_quorum_ = std::max(max_quorum_, quorum);
      continue;
    }
    const Committed& c = committed_[i - 1];
    if (c.in_snapshot) continue;
    if (c.term != e.term || c.data_hash != HashEntry(e)) {
      Fail("no committed entry lost",
           fmt::format("index {} was committed with term {}, but node {} now commits term {} "
                       "there",
                       i, c.term, node, e.term));
      return;
    }
  }
}

void RaftInvariants::CheckLeaderCompleteness(raft::NodeId node, raft::Term term,
                                             const raft::Storage& storage) {
  if (!completeness_checked_.emplace(std::make_pair(node, term), true).second) return;
  for (raft::Index i = storage.FirstIndex(); i <= committed_.size(); ++i) {
    const Committed& c = committed_[i - 1];
    if (c.commit_term >= term || c.in_snapshot) continue;  // later than this election
    auto t = storage.TermAt(i);
    if (!t.ok() || *t != c.term) {
      Fail("leader completeness",
           fmt::format("node {} became leader of term {} without index {} (term {}) that was "
                       "committed in term {}; it holds {}",
                       node, term, i, c.term, c.commit_term,
                       t.ok() ? fmt::format("term {}", *t) : std::string("nothing")));
      return;
    }
  }
}

void RaftInvariants::ObserveApplied(raft::NodeId node, const raft::Entry& entry) {
  auto [it, inserted] = last_applied_by_node_.emplace(node, entry.index - 1);
  if (!inserted && entry.index != it->second + 1) {
    Fail("state-machine safety", fmt::format("node {} applied index {} right after index {}", node,
                                             entry.index, it->second));
    return;
  }
  it->second = entry.index;
  if (entry.index > committed_.size()) {
    Fail("state-machine safety",
         fmt::format("node {} applied index {} but only {} entries are known committed", node,
                     entry.index, committed_.size()));
    return;
  }
  const Committed& c = committed_[entry.index - 1];
  if (c.in_snapshot) {
    Fail("state-machine safety",
         fmt::format("node {} applied index {}, which is inside a snapshot", node, entry.index));
    return;
  }
  if (c.term != entry.term || c.data_hash != HashEntry(entry)) {
    Fail("state-machine safety",
         fmt::format("node {} applied term {} at index {}, where term {} was committed", node,
                     entry.term, entry.index, c.term));
  }
}

void RaftInvariants::ObserveSnapshotInstalled(raft::NodeId node, raft::Index index,
                                              raft::Term term) {
  if (index == 0) return;  // the founding membership handed to a joining node
  if (index > committed_.size()) {
    Fail("state-machine safety",
         fmt::format("node {} installed a snapshot at index {} beyond the {} committed entries",
                     node, index, committed_.size()));
    return;
  }
  const Committed& c = committed_[index - 1];
  if (!c.in_snapshot && c.term != term) {
    Fail("state-machine safety",
         fmt::format("node {} installed a snapshot at index {} term {}, where term {} was "
                     "committed",
                     node, index, term, c.term));
    return;
  }
  last_applied_by_node_[node] = index;
}

void RaftInvariants::CheckCommittedDurable(
    const std::map<raft::NodeId, const raft::Storage*>& durable) {
  // Walk from the newest committed entry down; stop early once an index is
  // covered everywhere by snapshots (older ones are then too).
  for (raft::Index i = committed_.size(); i >= 1; --i) {
    const Committed& c = committed_[i - 1];
    if (c.in_snapshot) return;  // and so is everything below
    std::size_t holders = 0;
    std::size_t compacted = 0;
    std::string holder_ids;
    for (const auto& [id, storage] : durable) {
      if (i < storage->FirstIndex()) {
        ++holders;  // in that node's snapshot
        ++compacted;
        holder_ids += fmt::format(" {}(snapshot)", id);
        continue;
      }
      auto t = storage->TermAt(i);
      if (t.ok() && *t == c.term) {
        ++holders;
        holder_ids += fmt::format(" {}", id);
      }
    }
    const std::size_t quorum = c.quorum;
    if (holders < quorum) {
      Fail("no committed entry lost",
           fmt::format("committed index {} (term {}) is durable on {} node(s) [{} ], fewer than "
                       "the quorum of {} of the configuration that committed it",
                       i, c.term, holders, holder_ids, quorum));
      return;
    }
    // A quorum of snapshots covering this index covers every older one too.
    if (compacted >= max_quorum_) return;
  }
}

void RaftInvariants::CheckLogMatching(const std::map<raft::NodeId, const raft::Storage*>& logs) {
  for (auto a = logs.begin(); a != logs.end(); ++a) {
    for (auto b = std::next(a); b != logs.end(); ++b) {
      const raft::Storage& x = *a->second;
      const raft::Storage& y = *b->second;
      const raft::Index lo = std::max(x.FirstIndex(), y.FirstIndex());
      const raft::Index hi = std::min(x.LastIndex(), y.LastIndex());
      // The highest index where both agree on the term: everything at or below must match.
      raft::Index agree = 0;
      for (raft::Index i = hi; i >= lo && i > 0; --i) {
        if (*x.TermAt(i) == *y.TermAt(i)) {
          agree = i;
          break;
        }
      }
      for (raft::Index i = lo; i <= agree; ++i) {
        auto ex = x.Entries(i, i + 1, raft::kNoSizeLimit);
        auto ey = y.Entries(i, i + 1, raft::kNoSizeLimit);
        if (!(ex->front() == ey->front())) {
          Fail("log matching",
               fmt::format("nodes {} and {} agree on the term at index {} but differ at index {}",
                           a->first, b->first, agree, i));
          return;
        }
      }
    }
  }
}

namespace {

// How many of `voters` durably hold index `i` with term `term` (a snapshot covering
// it counts: only committed entries are snapshotted); their ids go to `holders`.
std::size_t DurableHolders(const std::set<raft::NodeId>& voters, raft::Index i, raft::Term term,
                           const std::map<raft::NodeId, const raft::Storage*>& durable,
                           std::string* holders) {
  std::size_t count = 0;
  for (raft::NodeId v : voters) {
    auto it = durable.find(v);
    if (it == durable.end()) continue;
    const raft::Storage& s = *it->second;
    bool holds = i < s.FirstIndex();
    if (!holds) {
      auto t = s.TermAt(i);
      holds = t.ok() && *t == term;
    }
    if (holds) {
      ++count;
      *holders += fmt::format(" {}", v);
    }
  }
  return count;
}

std::string FormatIds(const std::set<raft::NodeId>& ids) {
  std::string out;
  for (raft::NodeId id : ids)
    out += fmt::format(" {}", id);
  return out;
}

}  // namespace

void RaftInvariants::CheckLeaderCommit(
    raft::NodeId node, raft::Term term, raft::Index old_commit, raft::Index new_commit,
    const raft::Storage& log, const std::set<raft::NodeId>& voters_before,
    const std::set<raft::NodeId>& voters_after,
    const std::map<raft::NodeId, const raft::Storage*>& durable) {
  if (new_commit <= old_commit || new_commit < log.FirstIndex()) return;
  auto t = log.TermAt(new_commit);
  if (!t.ok()) {
    Fail("leader commit", fmt::format("leader {} of term {} committed index {} that its log lacks",
                                      node, term, new_commit));
    return;
  }
  if (*t != term) {
    Fail("leader commit",
         fmt::format("leader {} of term {} advanced its commit index from {} to {}, an entry of "
                     "the earlier term {}: only entries of the leader's own term are committed "
                     "by counting replicas (Figure 8)",
                     node, term, old_commit, new_commit, *t));
    return;
  }
  std::string before_ids;
  std::string after_ids;
  const std::size_t before = DurableHolders(voters_before, new_commit, term, durable, &before_ids);
  const std::size_t after = DurableHolders(voters_after, new_commit, term, durable, &after_ids);
  if (before >= voters_before.size() / 2 + 1 || after >= voters_after.size() / 2 + 1) return;
  Fail("leader commit",
       fmt::format("leader {} of term {} committed index {}, but only voters [{} ] of [{} ] "
                   "durably hold it (not a majority of its voters; learners do not count)",
                   node, term, new_commit, before_ids, FormatIds(voters_before)));
}

void RaftInvariants::CheckLeaderRead(raft::NodeId node, raft::Term term, raft::Index read_index,
                                     const raft::Storage& log, bool sole_voter) {
  if (sole_voter || read_index + 1 < log.FirstIndex()) return;
  auto t = log.TermAt(read_index);
  if (t.ok() && *t == term) return;
  Fail(
      "read before term commit",
      fmt::format("leader {} of term {} answered a read at index {} (term {}) before committing "
                  "an entry of its own term",
                  node, term, read_index, t.ok() ? fmt::format("{}", *t) : std::string("unknown")));
}

}  // namespace tri::sim
