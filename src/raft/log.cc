#include "raft/internal/log.h"

#include <algorithm>

#include "base/assert.h"

namespace tri::raft {

RaftLog::RaftLog(Storage* storage, std::uint64_t max_committed_size_per_ready_bytes)
    : storage_(storage),
      max_committed_size_per_ready_bytes_(max_committed_size_per_ready_bytes) {
  TRI_ASSERT(storage_ != nullptr);
  unstable_offset_ = storage_->LastIndex() + 1;
  // Everything up to the latest snapshot is applied (the snapshot is the application's
  // state); a storage may keep a tail of entries before the snapshot index.
  Index base = storage_->FirstIndex() - 1;
  auto snap = storage_->GetSnapshot();
  if (snap.ok() && snap->metadata.index > base) base = snap->metadata.index;
  TRI_ASSERT_MSG(base <= storage_->LastIndex(), "snapshot index beyond the stored log");
  committed_ = base;
  applying_ = base;
  applied_ = base;
}

Index RaftLog::FirstIndex() const {
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index + 1;
  return storage_->FirstIndex();
}

Index RaftLog::LastIndex() const {
  if (!unstable_.empty()) return unstable_offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->metadata.index;
  return storage_->LastIndex();
}

Index RaftLog::StableIndex() const {
  if (unstable_snapshot_) return 0;  // storage is stale until the snapshot is persisted
  if (!unstable_.empty()) return unstable_offset_ - 1;
  return LastIndex();
}

Result<Term> RaftLog::TermAt(Index i) const {
  const Index dummy = FirstIndex() - 1;
  if (i < dummy) return ErrCompacted();
  if (i > LastIndex()) return ErrUnavailableIndex();
  if (unstable_snapshot_ && i == unstable_snapshot_->metadata.index) {
    return unstable_snapshot_->metadata.term;
  }
  if (!unstable_.empty() && i >= unstable_offset_) return unstable_[i - unstable_offset_].term;
  TRI_ASSERT(!unstable_snapshot_);
  auto term = storage_->TermAt(i);
  CheckStorageStatus(term.status());
  return term;
}

void RaftLog::CheckStorageStatus(const Status& s) {
  // Compacted / unavailable are part of the protocol; anything else (corruption, an
  // I/O error) means the log cannot be trusted, and guessing around it could lose
  // committed entries: stop loudly instead.
  if (s.ok()) return;
  const bool protocol_answer = IsCompacted(s) || IsUnavailableIndex(s);
  if (protocol_answer) return;
  const std::string failure = "raft: storage failed while reading the log: " + s.ToString();
  TRI_ASSERT_MSG(protocol_answer, failure.c_str());
}

Term RaftLog::TermOrZero(Index i) const {
  auto t = TermAt(i);
  return t.ok() ? *t : 0;
}

Term RaftLog::LastTerm() const {
  auto t = TermAt(LastIndex());
  TRI_ASSERT_MSG(t.ok(), "term of the last log index must be known");
  return *t;
}

bool RaftLog::MatchTerm(Index i, Term t) const {
  auto term = TermAt(i);
  return term.ok() && *term == t;
}

Result<std::vector<Entry>> RaftLog::Entries(Index lo, Index hi,
                                            std::uint64_t max_size_bytes) const {
  TRI_ASSERT(lo <= hi);
  if (lo < FirstIndex()) return ErrCompacted();
  TRI_ASSERT_MSG(hi <= LastIndex() + 1, "entries requested beyond the last index");
  std::vector<Entry> out;
  if (lo == hi) return out;
  std::uint64_t size = 0;
  if (lo < unstable_offset_) {
    TRI_ASSERT(!unstable_snapshot_);
    auto stored = storage_->Entries(lo, std::min(hi, unstable_offset_), max_size_bytes);
    CheckStorageStatus(stored.status());
    if (!stored.ok()) return stored.status();
    out = std::move(stored).value();
    for (const Entry& e : out) size += EntrySizeBytes(e);
    // Storage stopped early because of the size limit: do not continue with the unstable part.
    if (out.back().index + 1 < std::min(hi, unstable_offset_)) return out;
  }
  for (Index i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - unstable_offset_];
    size += EntrySizeBytes(e);
    if (!out.empty() && size > max_size_bytes) break;
    out.push_back(e);
  }
  for (std::size_t k = 1; k < out.size(); ++k) TRI_DASSERT(out[k].index == out[k - 1].index + 1);
  return out;
}

Result<std::vector<Entry>> RaftLog::EntriesFrom(Index lo, std::uint64_t max_size_bytes) const {
  if (lo > LastIndex()) return std::vector<Entry>{};
  return Entries(lo, LastIndex() + 1, max_size_bytes);
}

Status RaftLog::Scan(Index lo, Index hi, std::uint64_t page_size_bytes,
                     const std::function<bool(const Entry&)>& visit) const {
  while (lo < hi) {
    TRI_ASSIGN_OR_RETURN(std::vector<Entry> page, Entries(lo, hi, page_size_bytes));
    TRI_ASSERT_MSG(!page.empty() && page.front().index == lo, "a page starts at the asked index");
    for (const Entry& e : page) {
      if (!visit(e)) return Status::Ok();
    }
    lo = page.back().index + 1;
  }
  return Status::Ok();
}

bool RaftLog::IsUpToDate(Index last_index, Term last_term) const {
  const Term our_term = LastTerm();
  return last_term > our_term || (last_term == our_term && last_index >= LastIndex());
}

Index RaftLog::Append(std::vector<Entry> entries) {
  if (entries.empty()) return LastIndex();
  const Index after = entries.front().index;
  TRI_ASSERT_MSG(after > committed_, "append would overwrite a committed entry");
  TRI_ASSERT_MSG(after <= LastIndex() + 1, "append would leave a gap in the log");
  const Index last = entries.back().index;
  if (after == unstable_offset_ + unstable_.size()) {
    if (unstable_.empty()) {
      unstable_ = std::move(entries);
    } else {
      unstable_.insert(unstable_.end(), std::make_move_iterator(entries.begin()),
                       std::make_move_iterator(entries.end()));
    }
  } else if (after <= unstable_offset_) {
    // Replaces part of the stable log: Storage truncates its suffix when the app appends.
    unstable_offset_ = after;
    unstable_ = std::move(entries);
  } else {
    unstable_.resize(after - unstable_offset_);
    unstable_.insert(unstable_.end(), std::make_move_iterator(entries.begin()),
                     std::make_move_iterator(entries.end()));
  }
  TRI_ASSERT(LastIndex() == last);
  return LastIndex();
}

Index RaftLog::FindConflict(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    if (!MatchTerm(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<Index, Term> RaftLog::FindConflictByTerm(Index index, Term term) const {
  for (; index > 0; --index) {
    auto t = TermAt(index);
    if (!t.ok()) return {index, 0};  // compacted: the caller falls back to probing
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

std::optional<Index> RaftLog::MaybeAppend(Index prev_index, Term prev_term, Index leader_commit,
                                          std::vector<Entry>&& entries) {
  if (!MatchTerm(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + entries.size();
  const Index conflict = FindConflict(entries);
  if (conflict != 0) {
    TRI_ASSERT_MSG(conflict > committed_, "a leader tried to overwrite a committed entry");
    const std::size_t from = conflict - (prev_index + 1);
    if (from > 0) entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(from));
    Append(std::move(entries));
  }
  CommitTo(std::min(leader_commit, last_new));
  return last_new;
}

void RaftLog::CommitTo(Index i) {
  if (i <= committed_) return;  // the commit index never regresses
  TRI_ASSERT_MSG(i <= LastIndex(), "commit index beyond the last log index");
  committed_ = i;
}

bool RaftLog::MaybeCommit(Index i, Term term) {
  if (i > committed_ && TermOrZero(i) == term) {
    CommitTo(i);
    return true;
  }
  return false;
}

bool RaftLog::HasNextCommittedEntries() const {
  if (unstable_snapshot_) return false;
  return committed_ > applying_ && applying_ + 1 >= FirstIndex();
}

std::vector<Entry> RaftLog::NextCommittedEntries() const {
  if (!HasNextCommittedEntries()) return {};
  auto ents = Entries(applying_ + 1, committed_ + 1, max_committed_size_per_ready_bytes_);
  TRI_ASSERT_MSG(ents.ok(), "committed entries must be readable");
  return std::move(ents).value();
}

void RaftLog::AcceptApplying(Index i) {
  TRI_ASSERT(i <= committed_);
  TRI_ASSERT(i >= applying_);
  applying_ = i;
}

void RaftLog::AppliedTo(Index i) {
  TRI_ASSERT(i <= applying_ || i <= committed_);
  if (i > applied_) applied_ = i;
  if (applying_ < applied_) applying_ = applied_;
}

void RaftLog::Restore(const Snapshot& snapshot) {
  TRI_ASSERT(snapshot.metadata.index > committed_);
  committed_ = snapshot.metadata.index;
  applying_ = std::max(applying_, committed_);
  unstable_snapshot_ = snapshot;
  unstable_.clear();
  unstable_offset_ = snapshot.metadata.index + 1;
}

Result<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_->GetSnapshot();
}

void RaftLog::StableTo(Index i, Term t) {
  if (unstable_.empty() || i < unstable_offset_) return;
  if (i >= unstable_offset_ + unstable_.size()) return;
  if (unstable_[i - unstable_offset_].term != t) return;  // replaced since the Ready
  unstable_.erase(unstable_.begin(),
                  unstable_.begin() + static_cast<std::ptrdiff_t>(i + 1 - unstable_offset_));
  unstable_offset_ = i + 1;
}

void RaftLog::StableSnapTo(Index i) {
  if (unstable_snapshot_ && unstable_snapshot_->metadata.index == i) unstable_snapshot_.reset();
}

}  // namespace tri::raft
