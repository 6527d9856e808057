#pragma once

// The durable side of the Raft log, as the core sees it. The core only reads
// from Storage; the application writes to it when it handles a Ready
// (persisting entries, hard state and snapshots) and then calls Advance().
// Whatever is in Storage is, by contract, durable: the simulator models a
// crash by keeping the Storage and discarding the RawNode.

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "raft/types.h"

namespace tri::raft {

// The errors of Storage that are part of the protocol: the core reacts to these.
// Any other error from a Storage (an I/O error, corruption, a missing file) is a real
// failure, and the core stops rather than guess around it (see RaftLog).
enum class StorageErrorKind : std::uint8_t {
  kCompacted,                       // the requested index is below FirstIndex()
  kUnavailable,                     // the requested index is above LastIndex()
  kSnapshotTemporarilyUnavailable,  // a snapshot is being prepared: try later
};

// Each kind is one canonical Status (codes kOutOfRange, kNotFound, kUnavailable, and a
// message of its own). The predicates match that exact status, code and message, so a
// storage's own error that happens to share a code (a disk's "file not found" is
// kNotFound) is never read as a protocol answer. Storages must return these values
// unchanged (no WithContext).
Status StorageError(StorageErrorKind kind);
// The kind of a protocol error, or nullopt for ok and for real failures.
std::optional<StorageErrorKind> StorageErrorKindOf(const Status& s);
inline Status ErrCompacted() {
  return StorageError(StorageErrorKind::kCompacted);
}
inline Status ErrUnavailableIndex() {
  return StorageError(StorageErrorKind::kUnavailable);
}
inline Status ErrSnapshotTemporarilyUnavailable() {
  return StorageError(StorageErrorKind::kSnapshotTemporarilyUnavailable);
}
bool IsCompacted(const Status& s);
bool IsUnavailableIndex(const Status& s);
bool IsSnapshotTemporarilyUnavailable(const Status& s);

inline constexpr std::uint64_t kNoSizeLimit = std::numeric_limits<std::uint64_t>::max();

struct InitialState {
  HardState hard_state;
  // Membership as of the latest snapshot (or the bootstrap configuration). The core
  // replays committed conf-change entries after the snapshot on top of it.
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Result<InitialState> GetInitialState() const = 0;
  // Entries in [lo, hi), at least one if any exist, at most `max_size_bytes` in total
  // (counted with EntrySizeBytes). REQUIRES: FirstIndex() <= lo < hi <= LastIndex() + 1,
  // else ErrCompacted() / ErrUnavailableIndex().
  virtual Result<std::vector<Entry>> Entries(Index lo, Index hi,
                                             std::uint64_t max_size_bytes) const = 0;
  // Term of entry i, for i in [FirstIndex() - 1, LastIndex()] (FirstIndex()-1 is the
  // snapshot's index, whose term is kept).
  virtual Result<Term> TermAt(Index i) const = 0;
  // Index of the first entry still available (snapshot index + 1).
  virtual Index FirstIndex() const = 0;
  virtual Index LastIndex() const = 0;
  // The most recent snapshot (empty() when none).
  virtual Result<Snapshot> GetSnapshot() const = 0;
};

// An in-memory Storage, used by tests, the benchmark and the simulator. Not
// thread-safe. Mutators return an error rather than asserting when handed
// stale input (an older snapshot, entries below the compaction point).
class MemoryStorage final : public Storage {
 public:
  // An empty node: it learns membership and log from a leader (a joining node).
  MemoryStorage();
  // Bootstraps a founding member of a new group with `initial_conf_state`, recorded as
  // the membership of the empty snapshot at index 0 (the log starts at index 1). Every
  // founding member must get the same conf state. A node that joins later starts empty
  // (MemoryStorage()); the leader hands it the founding membership with its first
  // append from index 1 (Ready::snapshot at index 0, applied with ApplySnapshot), or a
  // real snapshot once the log is compacted.
  explicit MemoryStorage(ConfState initial_conf_state);

  Result<InitialState> GetInitialState() const override;
  Result<std::vector<Entry>> Entries(Index lo, Index hi,
                                     std::uint64_t max_size_bytes) const override;
  Result<Term> TermAt(Index i) const override;
  Index FirstIndex() const override;
  Index LastIndex() const override;
  Result<Snapshot> GetSnapshot() const override;

  void SetHardState(const HardState& hs);
  // Appends entries, truncating any existing suffix they conflict with. Entries
  // must be contiguous and start at most at LastIndex() + 1. Entries wholly below
  // FirstIndex() are ignored.
  Status Append(const std::vector<Entry>& entries);
  // Replaces the contents with a snapshot received from the leader. A snapshot at
  // index 0 only records the founding membership of an empty node (see above).
  Status ApplySnapshot(const Snapshot& snapshot);
  // Makes a snapshot of the application state as of `index` (<= committed index,
  // the caller knows) that later lagging followers receive. Does not compact.
  Result<Snapshot> CreateSnapshot(Index index, const ConfState& conf_state, std::string data);
  // Discards entries up to and including `compact_index` (which must be <= LastIndex()).
  Status Compact(Index compact_index);

  const HardState& hard_state() const { return hard_state_; }

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  // entries_[0] is a dummy holding the snapshot index and term.
  std::vector<Entry> entries_;
};

}  // namespace tri::raft
