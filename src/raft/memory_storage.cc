#include <algorithm>
#include <string_view>

#include "base/assert.h"
#include "raft/storage.h"

namespace tri::raft {

namespace {

constexpr std::string_view kCompactedMessage = "raft storage: requested index is compacted";
constexpr std::string_view kUnavailableMessage = "raft storage: requested index is unavailable";
constexpr std::string_view kSnapshotUnavailableMessage =
    "raft storage: snapshot is temporarily unavailable";

}  // namespace

Status StorageError(StorageErrorKind kind) {
  switch (kind) {
    case StorageErrorKind::kCompacted:
      return OutOfRange(std::string(kCompactedMessage));
    case StorageErrorKind::kUnavailable:
      return NotFound(std::string(kUnavailableMessage));
    case StorageErrorKind::kSnapshotTemporarilyUnavailable:
      return Unavailable(std::string(kSnapshotUnavailableMessage));
  }
  TRI_UNREACHABLE();
}

std::optional<StorageErrorKind> StorageErrorKindOf(const Status& s) {
  if (s.code() == StatusCode::kOutOfRange && s.message() == kCompactedMessage) {
    return StorageErrorKind::kCompacted;
  }
  if (s.code() == StatusCode::kNotFound && s.message() == kUnavailableMessage) {
    return StorageErrorKind::kUnavailable;
  }
  if (s.code() == StatusCode::kUnavailable && s.message() == kSnapshotUnavailableMessage) {
    return StorageErrorKind::kSnapshotTemporarilyUnavailable;
  }
  return std::nullopt;
}

bool IsCompacted(const Status& s) {
  return StorageErrorKindOf(s) == StorageErrorKind::kCompacted;
}
bool IsUnavailableIndex(const Status& s) {
  return StorageErrorKindOf(s) == StorageErrorKind::kUnavailable;
}
bool IsSnapshotTemporarilyUnavailable(const Status& s) {
  return StorageErrorKindOf(s) == StorageErrorKind::kSnapshotTemporarilyUnavailable;
}

MemoryStorage::MemoryStorage() {
  entries_.push_back(Entry{});  // dummy at index 0, term 0
}

MemoryStorage::MemoryStorage(ConfState initial_conf_state) {
  snapshot_.metadata.conf_state = std::move(initial_conf_state);
  entries_.push_back(Entry{});  // dummy at index 0, term 0
}

Result<InitialState> MemoryStorage::GetInitialState() const {
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

Index MemoryStorage::FirstIndex() const {
  return entries_.front().index + 1;
}
Index MemoryStorage::LastIndex() const {
  return entries_.front().index + entries_.size() - 1;
}

Result<std::vector<Entry>> MemoryStorage::Entries(Index lo, Index hi,
                                                  std::uint64_t max_size_bytes) const {
  TRI_ASSERT(lo <= hi);
  const Index offset = entries_.front().index;
  if (lo <= offset) return ErrCompacted();
  if (hi > LastIndex() + 1) return ErrUnavailableIndex();
  std::vector<Entry> out;
  std::uint64_t size = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset];
    size += EntrySizeBytes(e);
    if (!out.empty() && size > max_size_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<Term> MemoryStorage::TermAt(Index i) const {
  const Index offset = entries_.front().index;
  if (i < offset) return ErrCompacted();
  if (i - offset >= entries_.size()) return ErrUnavailableIndex();
  return entries_[i - offset].term;
}

Result<Snapshot> MemoryStorage::GetSnapshot() const {
  return snapshot_;
}

void MemoryStorage::SetHardState(const HardState& hs) {
  hard_state_ = hs;
}

Status MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  for (std::size_t k = 1; k < entries.size(); ++k) {
    TRI_ASSERT(entries[k].index == entries[k - 1].index + 1);
  }
  const Index first = FirstIndex();
  const Index last_new = entries.back().index;
  if (last_new < first) return Status::Ok();  // all compacted away already
  std::size_t skip = 0;
  if (entries.front().index < first) skip = first - entries.front().index;
  const Index start = entries[skip].index;
  if (start > LastIndex() + 1) {
    return InvalidArgument("raft storage: append leaves a gap after index " +
                           std::to_string(LastIndex()));
  }
  const Index offset = entries_.front().index;
  entries_.resize(start - offset);
  entries_.insert(entries_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip),
                  entries.end());
  TRI_ASSERT(LastIndex() == last_new);
  return Status::Ok();
}

Status MemoryStorage::ApplySnapshot(const Snapshot& snapshot) {
  if (snapshot.metadata.index == 0) {
    // The founding membership handed to a joining node.
    if (snapshot_.metadata.index != 0) {
      return FailedPrecondition("raft storage: founding membership after a snapshot");
    }
    snapshot_.metadata.conf_state = snapshot.metadata.conf_state;
    return Status::Ok();
  }
  if (snapshot.metadata.index <= snapshot_.metadata.index) {
    return FailedPrecondition("raft storage: snapshot at index " +
                              std::to_string(snapshot.metadata.index) + " is out of date");
  }
  snapshot_ = snapshot;
  entries_.clear();
  entries_.push_back(
      Entry{snapshot.metadata.index, snapshot.metadata.term, EntryType::kNormal, {}});
  return Status::Ok();
}

Result<Snapshot> MemoryStorage::CreateSnapshot(Index index, const ConfState& conf_state,
                                               std::string data) {
  if (index <= snapshot_.metadata.index) {
    return FailedPrecondition("raft storage: snapshot at index " + std::to_string(index) +
                              " is out of date");
  }
  if (index > LastIndex()) {
    return InvalidArgument("raft storage: snapshot index " + std::to_string(index) +
                           " is beyond the last index " + std::to_string(LastIndex()));
  }
  const Index offset = entries_.front().index;
  snapshot_.metadata.index = index;
  snapshot_.metadata.term = entries_[index - offset].term;
  snapshot_.metadata.conf_state = conf_state;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::Compact(Index compact_index) {
  const Index offset = entries_.front().index;
  if (compact_index <= offset) return ErrCompacted();
  if (compact_index > LastIndex()) {
    return InvalidArgument("raft storage: compact index " + std::to_string(compact_index) +
                           " is beyond the last index " + std::to_string(LastIndex()));
  }
  const std::size_t k = compact_index - offset;
  Entry dummy{entries_[k].index, entries_[k].term, EntryType::kNormal, {}};
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(k));
  entries_.front() = std::move(dummy);
  TRI_ASSERT(FirstIndex() == compact_index + 1);
  return Status::Ok();
}

}  // namespace tri::raft
