#include "storage/wal_raft_storage.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/assert.h"

namespace tri::storage {
namespace {

constexpr char kWalSubdir[] = "wal";
constexpr char kSnapshotSubdir[] = "snap";

std::string IndexText(raft::Index i) {
  return std::to_string(i);
}

std::vector<std::uint64_t> Ids(const std::set<raft::NodeId>& ids) {
  return std::vector<std::uint64_t>(ids.begin(), ids.end());
}

std::set<raft::NodeId> IdSet(const std::vector<std::uint64_t>& ids) {
  return std::set<raft::NodeId>(ids.begin(), ids.end());
}

wal::SnapshotMeta ToWalMeta(const raft::SnapshotMetadata& m) {
  wal::SnapshotMeta meta{m.index, m.term};
  meta.membership.voters = Ids(m.conf_state.voters);
  meta.membership.learners = Ids(m.conf_state.learners);
  meta.membership.removed = Ids(m.conf_state.removed);
  return meta;
}

raft::Snapshot FromWalSnapshot(wal::Snapshot snap) {
  raft::Snapshot out;
  out.metadata.index = snap.meta.last_index;
  out.metadata.term = snap.meta.last_term;
  out.metadata.conf_state.voters = IdSet(snap.meta.membership.voters);
  out.metadata.conf_state.learners = IdSet(snap.meta.membership.learners);
  out.metadata.conf_state.removed = IdSet(snap.meta.membership.removed);
  out.data = std::move(snap.body);
  return out;
}

wal::Entry ToWalEntry(const raft::Entry& e) {
  return wal::Entry{e.index, e.term, e.data, static_cast<std::uint8_t>(e.type)};
}

Result<raft::Entry> FromWalEntry(wal::Entry e) {
  if (e.type > static_cast<std::uint8_t>(raft::EntryType::kConfChange)) {
    return Corruption("storage: entry " + IndexText(e.index) + " has unknown type " +
                      std::to_string(e.type));
  }
  return raft::Entry{e.index, e.term, static_cast<raft::EntryType>(e.type), std::move(e.data)};
}

}  // namespace

WalRaftStorage::WalRaftStorage(std::string dir, const WalRaftStorageOptions& options)
    : dir_(std::move(dir)), options_(options) {}

WalRaftStorage::~WalRaftStorage() = default;

Result<std::unique_ptr<WalRaftStorage>> WalRaftStorage::Open(io::FileSystem& fs,
                                                             const std::string& dir,
                                                             const WalRaftStorageOptions& options) {
  std::unique_ptr<WalRaftStorage> storage(new WalRaftStorage(dir, options));
  wal::WalOptions wal_options = options.wal;
  wal_options.first_index = 1;
  // The WAL first: its directory lock keeps a second process away from everything.
  auto wal = wal::Wal::Open(fs, io::JoinPath(dir, kWalSubdir), wal_options);
  if (!wal.ok()) {
    if (wal.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPrecondition("storage: data directory " + dir +
                                " is locked by another process (" + wal.status().message() + ")");
    }
    return wal.status().WithContext("storage: opening " + dir);
  }
  storage->wal_ = std::move(wal).value();
  auto snapshots =
      wal::SnapshotStore::Open(fs, io::JoinPath(dir, kSnapshotSubdir), options.snapshot);
  if (!snapshots.ok()) return snapshots.status().WithContext("storage: opening " + dir);
  storage->snapshots_ = std::move(snapshots).value();
  TRI_RETURN_IF_ERROR(storage->Recover(options.bootstrap, options.bootstrap_data).WithContext("storage: opening " + dir));
  return storage;
}

Status WalRaftStorage::Recover(const std::optional<raft::ConfState>& bootstrap,
                               const std::string& bootstrap_data) {
  std::vector<std::string> problems;
  auto newest = snapshots_->LoadNewest(&problems);
  if (newest.ok()) {
    if (!newest->meta.membership_recorded) {
      return FailedPrecondition(
          "the newest snapshot (index " + IndexText(newest->meta.last_index) +
          ") is a version 1 file, which does not record the cluster membership; Raft cannot "
          "restart from it");
    }
    snapshot_ = FromWalSnapshot(std::move(newest).value());
  } else if (newest.status().code() != StatusCode::kNotFound) {
    return newest.status();
  } else if (!problems.empty()) {
    return Corruption("no intact snapshot: " + problems.front());
  }

  const bool have_snapshot = newest.ok();
  const bool empty_log = wal_->LastIndex() < wal_->FirstIndex() && !wal_->hard_state();
  if (bootstrap) {
    if (!have_snapshot) {
      if (!empty_log) {
        return FailedPrecondition(
            "the directory holds a log but no membership; refusing to bootstrap over it");
      }
      raft::Snapshot founding;
      founding.metadata.conf_state = *bootstrap;
      founding.data = bootstrap_data;
      TRI_RETURN_IF_ERROR(SaveSnapshot(founding));
      snapshot_ = std::move(founding);
    } else if (snapshot_.metadata.index == 0 && snapshot_.metadata.conf_state != *bootstrap) {
      return FailedPrecondition(
          "the directory was bootstrapped with a different membership than the one given");
    }
  }

  const raft::Index snap_index = snapshot_.metadata.index;
  const raft::Term snap_term = snapshot_.metadata.term;
  if (wal_->FirstIndex() > snap_index + 1) {
    return Corruption("the log starts at index " + IndexText(wal_->FirstIndex()) +
                      " but the newest snapshot ends at index " + IndexText(snap_index) +
                      ": the entries between are missing");
  }
  TRI_RETURN_IF_ERROR(ResetLogAfter(snap_index, snap_term));
  compacted_index_ = snap_index;
  compacted_term_ = snap_term;
  hard_state_ = {};
  if (auto hs = wal_->hard_state()) hard_state_ = raft::HardState{hs->term, hs->vote, hs->commit};
  CacheReset();
  return Status::Ok();
}

Status WalRaftStorage::ResetLogAfter(raft::Index index, raft::Term term) {
  TRI_ASSERT(wal_->FirstIndex() <= index + 1);
  if (wal_->FirstIndex() == index + 1) return Status::Ok();  // already starts there
  bool keep_rest = false;
  if (wal_->LastIndex() >= index) {
    TRI_ASSIGN_OR_RETURN(const std::uint64_t stored_term, wal_->Term(index));
    keep_rest = stored_term == term;
  }
  // A log that does not hold (index, term) continues some other history: cut it from
  // `index` on, so that the WAL forgets that entry's term too.
  if (!keep_rest && wal_->LastIndex() >= index) TRI_RETURN_IF_ERROR(wal_->TruncateSuffix(index));
  // Frees whole segments; an index at or past the end resets the log to start after it.
  return wal_->DropPrefix(index);
}

Status WalRaftStorage::SaveSnapshot(const raft::Snapshot& snapshot) {
  return snapshots_->Save(ToWalMeta(snapshot.metadata), snapshot.data);
}

Status WalRaftStorage::Poison(const Status& failure) {
  TRI_ASSERT(!failure.ok());
  if (poisoned_.ok()) {
    poisoned_ = failure.WithContext("storage " + dir_ +
                                    " failed; the node must stop and reopen it to recover");
    spdlog::error("{}", poisoned_.ToString());
  }
  return poisoned_;
}

Result<raft::InitialState> WalRaftStorage::GetInitialState() const {
  if (!poisoned_.ok()) return poisoned_;
  return raft::InitialState{hard_state_, snapshot_.metadata.conf_state};
}

raft::Index WalRaftStorage::FirstIndex() const {
  return compacted_index_ + 1;
}

raft::Index WalRaftStorage::LastIndex() const {
  return wal_->LastIndex();
}

Result<raft::Term> WalRaftStorage::TermAt(raft::Index i) const {
  if (!poisoned_.ok()) return poisoned_;
  if (i < compacted_index_) return raft::ErrCompacted();
  if (i == compacted_index_) return compacted_term_;
  if (i > LastIndex()) return raft::ErrUnavailableIndex();
  if (i >= cache_first_) return cache_[i - cache_first_].term;
  return wal_->Term(i);
}

Result<std::vector<raft::Entry>> WalRaftStorage::Entries(raft::Index lo, raft::Index hi,
                                                         std::uint64_t max_size_bytes) const {
  if (!poisoned_.ok()) return poisoned_;
  if (lo > hi) {
    return InvalidArgument("storage: entries [" + IndexText(lo) + ", " + IndexText(hi) +
                           ") is an inverted range");
  }
  if (lo <= compacted_index_) return raft::ErrCompacted();
  if (hi > LastIndex() + 1) return raft::ErrUnavailableIndex();
  std::vector<raft::Entry> out;
  std::uint64_t size = 0;
  if (lo < cache_first_) {
    const raft::Index disk_hi = std::min(hi, cache_first_);
    TRI_ASSIGN_OR_RETURN(out, ReadFromDisk(lo, disk_hi, max_size_bytes));
    for (const raft::Entry& e : out)
      size += raft::EntrySizeBytes(e);
    if (!out.empty() && out.back().index + 1 < disk_hi) return out;  // the size limit
  }
  for (raft::Index i = std::max(lo, cache_first_); i < hi; ++i) {
    const raft::Entry& e = cache_[i - cache_first_];
    size += raft::EntrySizeBytes(e);
    if (!out.empty() && size > max_size_bytes) break;
    out.push_back(e);
    ++stats_.entries_read_from_cache;
  }
  return out;
}

Result<std::vector<raft::Entry>> WalRaftStorage::ReadFromDisk(raft::Index lo, raft::Index hi,
                                                              std::uint64_t max_size_bytes) const {
  // The WAL limits data bytes only, which is never more than raft counts: read at most
  // that much, then apply raft's own count.
  TRI_ASSIGN_OR_RETURN(std::vector<wal::Entry> stored, wal_->Read(lo, hi, max_size_bytes));
  std::vector<raft::Entry> out;
  out.reserve(stored.size());
  std::uint64_t size = 0;
  for (wal::Entry& e : stored) {
    TRI_ASSIGN_OR_RETURN(raft::Entry entry, FromWalEntry(std::move(e)));
    size += raft::EntrySizeBytes(entry);
    if (!out.empty() && size > max_size_bytes) break;
    out.push_back(std::move(entry));
  }
  stats_.entries_read_from_disk += out.size();
  return out;
}

Result<raft::Snapshot> WalRaftStorage::GetSnapshot() const {
  if (!poisoned_.ok()) return poisoned_;
  return snapshot_;
}

Status WalRaftStorage::Append(const std::vector<raft::Entry>& entries) {
  if (!poisoned_.ok()) return poisoned_;
  if (entries.empty()) return Status::Ok();
  for (std::size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != entries[k - 1].index + 1) {
      return InvalidArgument("storage: append of entry " + IndexText(entries[k].index) +
                             " after entry " + IndexText(entries[k - 1].index));
    }
    if (entries[k].term < entries[k - 1].term) {
      return InvalidArgument("storage: entry " + IndexText(entries[k].index) +
                             " has a lower term than the entry before it");
    }
  }
  const raft::Index first = FirstIndex();
  if (entries.back().index < first) return Status::Ok();  // all compacted away already
  const std::size_t skip = entries.front().index < first ? first - entries.front().index : 0;
  const raft::Index start = entries[skip].index;
  if (start > LastIndex() + 1) {
    return InvalidArgument("storage: append leaves a gap after index " + IndexText(LastIndex()));
  }
  TRI_ASSIGN_OR_RETURN(const raft::Term previous_term, TermAt(start - 1));
  if (entries[skip].term < previous_term) {
    return InvalidArgument("storage: entry " + IndexText(start) + " has term " +
                           std::to_string(entries[skip].term) + ", below the term " +
                           std::to_string(previous_term) + " of the entry before it");
  }
  if (start <= LastIndex()) {
    const Status cut = wal_->TruncateSuffix(start);
    if (!cut.ok()) return Poison(cut);
  }
  std::vector<wal::Entry> records;
  records.reserve(entries.size() - skip);
  for (std::size_t k = skip; k < entries.size(); ++k)
    records.push_back(ToWalEntry(entries[k]));
  const Status appended = wal_->Append(records);
  if (!appended.ok()) return Poison(appended);
  CacheAppend(entries, skip);
  TRI_ASSERT(LastIndex() == entries.back().index);
  return Status::Ok();
}

Status WalRaftStorage::SetHardState(const raft::HardState& hard_state) {
  if (!poisoned_.ok()) return poisoned_;
  const Status st =
      wal_->Append({}, wal::HardState{hard_state.term, hard_state.vote, hard_state.commit});
  if (!st.ok()) return Poison(st);
  hard_state_ = hard_state;
  return Status::Ok();
}

Status WalRaftStorage::Sync() {
  if (!poisoned_.ok()) return poisoned_;
  ++stats_.syncs;
  if (options_.testing_bugs.ack_before_sync) return Status::Ok();
  const auto synced = wal_->Sync();
  if (!synced.ok()) return Poison(synced.status());
  return Status::Ok();
}

Status WalRaftStorage::Flush() {
  if (!poisoned_.ok()) return poisoned_;
  if (options_.testing_bugs.ack_before_sync) return Status::Ok();
  const Status flushed = wal_->Flush();
  if (!flushed.ok()) return Poison(flushed);
  return Status::Ok();
}

Status WalRaftStorage::ApplySnapshot(const raft::Snapshot& snapshot) {
  if (!poisoned_.ok()) return poisoned_;
  const raft::SnapshotMetadata& meta = snapshot.metadata;
  if (meta.index == 0) {
    // The founding membership handed to a joining node.
    if (snapshot_.metadata.index != 0) {
      return FailedPrecondition("storage: founding membership after a snapshot");
    }
    raft::Snapshot founding;
    founding.metadata.conf_state = meta.conf_state;
    founding.data = snapshot.data;
    const Status saved = SaveSnapshot(founding);
    if (!saved.ok()) return Poison(saved);
    snapshot_ = std::move(founding);
    return Status::Ok();
  }
  if (meta.index <= snapshot_.metadata.index) {
    return FailedPrecondition("storage: snapshot at index " + IndexText(meta.index) +
                              " is out of date (the newest is at " +
                              IndexText(snapshot_.metadata.index) + ")");
  }
  // The file first: a crash after it finds the snapshot, and recovery resets the log.
  const Status saved = SaveSnapshot(snapshot);
  if (!saved.ok()) return Poison(saved);
  snapshot_ = snapshot;
  // Discard the whole log (as MemoryStorage does), durably: cut from the snapshot's
  // index so that the WAL keeps no term of its own for it.
  Status reset = Status::Ok();
  if (wal_->LastIndex() >= meta.index) reset = wal_->TruncateSuffix(meta.index);
  if (reset.ok()) reset = wal_->DropPrefix(meta.index);
  if (!reset.ok()) return Poison(reset);
  TRI_ASSERT(wal_->FirstIndex() == meta.index + 1 && wal_->LastIndex() == meta.index);
  compacted_index_ = meta.index;
  compacted_term_ = meta.term;
  CacheReset();
  return Status::Ok();
}

Result<raft::Snapshot> WalRaftStorage::CreateSnapshot(raft::Index index,
                                                      const raft::ConfState& conf_state,
                                                      std::string data) {
  if (!poisoned_.ok()) return poisoned_;
  if (index <= snapshot_.metadata.index) {
    return FailedPrecondition("storage: snapshot at index " + IndexText(index) +
                              " is out of date (the newest is at " +
                              IndexText(snapshot_.metadata.index) + ")");
  }
  if (index > LastIndex()) {
    return InvalidArgument("storage: snapshot index " + IndexText(index) +
                           " is beyond the last index " + IndexText(LastIndex()));
  }
  TRI_ASSIGN_OR_RETURN(const raft::Term term, TermAt(index));
  raft::Snapshot snapshot;
  snapshot.metadata.index = index;
  snapshot.metadata.term = term;
  snapshot.metadata.conf_state = conf_state;
  snapshot.data = std::move(data);
  const Status saved = SaveSnapshot(snapshot);
  if (!saved.ok()) return Poison(saved);
  snapshot_ = snapshot;
  return snapshot;
}

Status WalRaftStorage::Compact(raft::Index compact_index) {
  if (!poisoned_.ok()) return poisoned_;
  if (compact_index <= compacted_index_) return raft::ErrCompacted();
  if (compact_index > LastIndex()) {
    return InvalidArgument("storage: compact index " + IndexText(compact_index) +
                           " is beyond the last index " + IndexText(LastIndex()));
  }
  if (compact_index > snapshot_.metadata.index) {
    return FailedPrecondition("storage: compact index " + IndexText(compact_index) +
                              " is past the newest snapshot at " +
                              IndexText(snapshot_.metadata.index));
  }
  TRI_ASSIGN_OR_RETURN(const raft::Term term, TermAt(compact_index));
  const Status dropped = wal_->DropPrefix(compact_index);
  if (!dropped.ok()) return Poison(dropped);
  compacted_index_ = compact_index;
  compacted_term_ = term;
  CacheDropThrough(compact_index);
  return Status::Ok();
}

Status WalRaftStorage::Persist(const raft::Ready& ready) {
  if (ready.snapshot) TRI_RETURN_IF_ERROR(ApplySnapshot(*ready.snapshot));
  TRI_RETURN_IF_ERROR(Append(ready.entries));
  if (ready.hard_state) TRI_RETURN_IF_ERROR(SetHardState(*ready.hard_state));
  if (ready.MustSync()) return Sync();
  return Status::Ok();
}

void WalRaftStorage::CacheAppend(const std::vector<raft::Entry>& entries, std::size_t skip) {
  const raft::Index start = entries[skip].index;
  if (start < cache_first_) {
    cache_.clear();
    cache_bytes_ = 0;
    cache_first_ = start;
  }
  while (cache_first_ + cache_.size() > start) {
    cache_bytes_ -= raft::EntrySizeBytes(cache_.back());
    cache_.pop_back();
  }
  TRI_ASSERT(cache_first_ + cache_.size() == start);
  for (std::size_t k = skip; k < entries.size(); ++k) {
    cache_bytes_ += raft::EntrySizeBytes(entries[k]);
    cache_.push_back(entries[k]);
  }
  while (!cache_.empty() && cache_bytes_ > options_.tail_cache_bytes) {
    cache_bytes_ -= raft::EntrySizeBytes(cache_.front());
    cache_.pop_front();
    ++cache_first_;
  }
}

void WalRaftStorage::CacheDropThrough(raft::Index index) {
  while (!cache_.empty() && cache_first_ <= index) {
    cache_bytes_ -= raft::EntrySizeBytes(cache_.front());
    cache_.pop_front();
    ++cache_first_;
  }
  cache_first_ = std::max(cache_first_, index + 1);
}

void WalRaftStorage::CacheReset() {
  cache_.clear();
  cache_bytes_ = 0;
  cache_first_ = LastIndex() + 1;
}

}  // namespace tri::storage
