#pragma once

// RaftLog: the log as the protocol sees it - the durable part in Storage plus
// the unstable tail (entries, or a received snapshot) not yet acknowledged as
// persisted by Advance(). Private to the core.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"

namespace tri::raft {

class RaftLog {
 public:
  RaftLog(Storage* storage, std::uint64_t max_committed_size_per_ready_bytes);

  Index FirstIndex() const;
  Index LastIndex() const;
  Term LastTerm() const;
  // Term of entry i; errors as Storage (compacted / unavailable).
  Result<Term> TermAt(Index i) const;
  // Term of entry i, or 0 when it is not known (compacted or beyond the end).
  Term TermOrZero(Index i) const;
  bool MatchTerm(Index i, Term t) const;
  // Entries in [lo, hi) up to max_size_bytes (at least one if any).
  Result<std::vector<Entry>> Entries(Index lo, Index hi, std::uint64_t max_size_bytes) const;
  // Entries from lo to the end.
  Result<std::vector<Entry>> EntriesFrom(Index lo, std::uint64_t max_size_bytes) const;
  // Visits the entries in [lo, hi) in order, reading them in pages of at most
  // page_size_bytes (at least one entry per page), so that a long range never sits in
  // memory at once (etcd's raftLog.scan). Stops early, with Ok, when `visit` returns
  // false. Errors as Entries (compacted), from the page that failed.
  Status Scan(Index lo, Index hi, std::uint64_t page_size_bytes,
              const std::function<bool(const Entry&)>& visit) const;

  // Candidate log (last_index, last_term) at least as up-to-date as ours (5.4.1).
  bool IsUpToDate(Index last_index, Term last_term) const;

  // Appends to the unstable tail, truncating a conflicting suffix. Returns the last index.
  // REQUIRES: entries[0].index > committed (never rewrites committed entries).
  Index Append(std::vector<Entry> entries);
  // The follower side of AppendEntries: if (prev_index, prev_term) matches, appends the
  // new part of `entries`, commits up to min(leader_commit, last new index) and returns
  // the last new index; otherwise nullopt.
  std::optional<Index> MaybeAppend(Index prev_index, Term prev_term, Index leader_commit,
                                   std::vector<Entry>&& entries);
  // First index whose entry conflicts with (or is missing from) our log, 0 if none.
  Index FindConflict(const std::vector<Entry>& entries) const;
  // Largest index <= index whose term is <= term (fast backtracking hint), with its term.
  std::pair<Index, Term> FindConflictByTerm(Index index, Term term) const;

  void CommitTo(Index i);
  // Commits i if its term is `term` (a leader commits only entries of its own term).
  bool MaybeCommit(Index i, Term term);
  Index committed() const { return committed_; }

  // Entries (applying, committed] to hand to the application, bounded by size.
  std::vector<Entry> NextCommittedEntries() const;
  bool HasNextCommittedEntries() const;
  void AcceptApplying(Index i);
  void AppliedTo(Index i);
  Index applying() const { return applying_; }
  Index applied() const { return applied_; }

  // Installs a snapshot received from a leader (becomes the unstable snapshot).
  void Restore(const Snapshot& snapshot);
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  // The latest snapshot: the unstable one, else Storage's.
  Result<Snapshot> GetSnapshot() const;

  // Advance() acknowledged entries up to (i, t) / the snapshot at i as durable.
  void StableTo(Index i, Term t);
  void StableSnapTo(Index i);
  // Last index known durable (everything at or below it is in Storage); 0 while a
  // received snapshot awaits persistence.
  Index StableIndex() const;

  Storage* storage() const { return storage_; }
  // Stops the process on a storage error other than compacted/unavailable.
  static void CheckStorageStatus(const Status& s);

 private:
  Storage* storage_;
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_;
  Index unstable_offset_;  // index of unstable_[0]
  Index committed_ = 0;
  Index applying_ = 0;
  Index applied_ = 0;
  std::uint64_t max_committed_size_per_ready_bytes_;
};

}  // namespace tri::raft
