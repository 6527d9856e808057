#pragma once

// storage::WalRaftStorage: raft::Storage on disk, over wal::Wal (entries and hard
// state, in <dir>/wal) and wal::SnapshotStore (snapshots, in <dir>/snap), on any
// io::FileSystem. The node loop persists each Ready with it (Persist, or the
// individual writes), then sends, applies and calls RawNode::Advance.
//
// Reads answer exactly like raft::MemoryStorage, with the same protocol errors
// (raft::ErrCompacted, raft::ErrUnavailableIndex); any other error is a real failure
// (I/O, corruption) that the Raft core treats as fatal.
//
// Durability contract:
// - Append and SetHardState are not durable until a later Sync() returns ok. Sync is
//   one group commit (one write and one fdatasync for everything buffered).
// - A conflicting-suffix truncation inside Append is durable when Append returns (the
//   WAL makes the cut atomic and durable), so a crash before the next Sync may lose
//   the new entries but never brings back the replaced ones.
// - ApplySnapshot and CreateSnapshot are durable on return (the snapshot file is
//   synced and renamed into place; ApplySnapshot's log reset is synced too).
// - Compact frees space only: after a restart the log starts right after the newest
//   snapshot (entries kept before it for slow followers are not kept across a
//   restart). Compact may not go past the newest snapshot.
// - Poisoning: after any failed write or fdatasync (the kernel may have dropped the
//   dirty pages it failed to write, so a retry could report lost data as durable)
//   every call fails with the first error, reads included. The node must stop; a
//   restart reopens the directory and recovery decides what survived.
// - The WAL's directory lock refuses a data directory locked by another process
//   (kFailedPrecondition, naming the directory and the holder).
//
// Not thread-safe: one owner (the node loop thread).

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "io/file_system.h"
#include "raft/raw_node.h"
#include "raft/storage.h"
#include "raft/types.h"
#include "wal/snapshot_store.h"
#include "wal/wal.h"

namespace tri::storage {

struct WalRaftStorageOptions {
  // first_index is ignored: the log of a new directory starts at index 1.
  wal::WalOptions wal;
  wal::SnapshotOptions snapshot;
  // The founding members of a new cluster. On a directory without a snapshot and
  // without a log, it is recorded durably as the membership of the empty snapshot at
  // index 0 (as raft::MemoryStorage(ConfState) does). On a directory bootstrapped
  // before, it must be the same membership (else kFailedPrecondition); once a real
  // snapshot exists it is ignored. Absent: a joining node, which learns membership
  // from the leader.
  std::optional<raft::ConfState> bootstrap;
  // The application's founding state, kept as the data of that index-0 snapshot
  // (a joining node receives it with the founding membership).
  std::string bootstrap_data;
  // Bytes (counted as raft::EntrySizeBytes) of the newest entries kept in memory, so
  // that a leader reading recent entries for its followers does not read the disk.
  std::uint64_t tail_cache_bytes = std::uint64_t{64} << 20;

  struct TestingBugs {
    // TEST ONLY: Sync() reports success without writing or fdatasyncing anything.
    // The crash property test (and later the simulator) must catch it.
    bool ack_before_sync = false;
  };
  TestingBugs testing_bugs;
};

struct WalRaftStorageStats {
  std::uint64_t entries_read_from_cache = 0;
  std::uint64_t entries_read_from_disk = 0;
  std::uint64_t syncs = 0;
};

class WalRaftStorage final : public raft::Storage {
 public:
  // Opens (creating if needed) the data directory `dir` and recovers its state: the
  // newest intact snapshot, then the log after it. Fails with kFailedPrecondition when
  // another process holds `dir`, when `bootstrap` conflicts with the recorded
  // membership, or when the newest snapshot is a version 1 file (no membership);
  // kCorruption when the log and snapshots are damaged or do not join up.
  static Result<std::unique_ptr<WalRaftStorage>> Open(io::FileSystem& fs, const std::string& dir,
                                                      const WalRaftStorageOptions& options);
  ~WalRaftStorage() override;
  WalRaftStorage(const WalRaftStorage&) = delete;
  WalRaftStorage& operator=(const WalRaftStorage&) = delete;

  // raft::Storage.
  Result<raft::InitialState> GetInitialState() const override;
  Result<std::vector<raft::Entry>> Entries(raft::Index lo, raft::Index hi,
                                           std::uint64_t max_size_bytes) const override;
  Result<raft::Term> TermAt(raft::Index i) const override;
  raft::Index FirstIndex() const override;
  raft::Index LastIndex() const override;
  Result<raft::Snapshot> GetSnapshot() const override;

  // Appends entries, first truncating any stored suffix they conflict with (like
  // raft::MemoryStorage::Append). Entries must be contiguous, start at most at
  // LastIndex() + 1, and their terms must not decrease; entries wholly below
  // FirstIndex() are ignored. Not durable until Sync.
  Status Append(const std::vector<raft::Entry>& entries);
  // Not durable until Sync.
  Status SetHardState(const raft::HardState& hard_state);
  // Makes every earlier Append and SetHardState durable (one group commit).
  Status Sync();
  // Writes every earlier Append and SetHardState to the file without fdatasync, so
  // that a write error is reported here rather than by a later read (which the Raft
  // core would treat as a broken log). Nothing becomes durable.
  Status Flush();
  // Installs a snapshot received from the leader: saves the file, discards the whole
  // log (the log restarts after the snapshot). A snapshot at index 0 records only the
  // founding membership for a joining node. Durable on return.
  Status ApplySnapshot(const raft::Snapshot& snapshot);
  // Saves a snapshot of the application state as of `index` (FirstIndex() <= index <=
  // LastIndex(), above the newest snapshot; the caller knows index is applied). Does
  // not compact. Durable on return.
  Result<raft::Snapshot> CreateSnapshot(raft::Index index, const raft::ConfState& conf_state,
                                        std::string data);
  // Discards entries up to and including `compact_index`, which must be at most the
  // newest snapshot's index. raft::ErrCompacted() when already compacted.
  Status Compact(raft::Index compact_index);
  // Persists one Ready: its snapshot, entries and hard state, then Sync when the
  // Ready must be synced. After it returns ok, send the Ready's messages.
  Status Persist(const raft::Ready& ready);

  const raft::HardState& hard_state() const { return hard_state_; }
  // Ok, or the failure that poisoned the storage.
  const Status& poisoned() const { return poisoned_; }
  WalRaftStorageStats stats() const { return stats_; }
  const std::string& dir() const { return dir_; }

 private:
  WalRaftStorage(std::string dir, const WalRaftStorageOptions& options);
  Status Recover(const std::optional<raft::ConfState>& bootstrap, const std::string& bootstrap_data);
  // Makes the WAL's log start right after (index, term): keeps entries after it when
  // the log holds (index, term), else discards the whole log. Durable on return.
  Status ResetLogAfter(raft::Index index, raft::Term term);
  Status SaveSnapshot(const raft::Snapshot& snapshot);
  // Records the first failure and returns it (see "Poisoning" above).
  Status Poison(const Status& failure);
  Result<std::vector<raft::Entry>> ReadFromDisk(raft::Index lo, raft::Index hi,
                                                std::uint64_t max_size_bytes) const;
  void CacheAppend(const std::vector<raft::Entry>& entries, std::size_t skip);
  void CacheDropThrough(raft::Index index);
  void CacheReset();

  const std::string dir_;
  const WalRaftStorageOptions options_;
  std::unique_ptr<wal::Wal> wal_;
  std::unique_ptr<wal::SnapshotStore> snapshots_;
  raft::Snapshot snapshot_;  // the newest snapshot (index 0: none, or the bootstrap one)
  raft::HardState hard_state_;
  // The compaction point: FirstIndex() - 1 and its term (kept here because the WAL
  // frees whole segments and may no longer hold it).
  raft::Index compacted_index_ = 0;
  raft::Term compacted_term_ = 0;
  // The newest entries, [cache_first_, LastIndex()], at most options_.tail_cache_bytes.
  std::deque<raft::Entry> cache_;
  raft::Index cache_first_ = 1;
  std::uint64_t cache_bytes_ = 0;
  Status poisoned_;
  mutable WalRaftStorageStats stats_;
};

}  // namespace tri::storage
