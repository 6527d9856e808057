#pragma once

// The segmented write-ahead log: Raft entries and hard state, on any
// io::FileSystem. On-disk format: wal/format.h and docs/storage.md.
//
// Durability contract: Append encodes into an in-memory buffer; nothing is
// durable until a Sync that *started after* the Append returned has returned ok.
// Sync is group commit: concurrent callers are coalesced so that one write and one
// fdatasync cover every batch appended before it began (leader/follower: the first
// caller writes the buffer and syncs, the others wait and are released by the sync
// that covers them). Reads, truncation, compaction and destruction write the
// buffer out first; more than 1 MiB of buffered appends is written at once.
//
// After any write or sync error the log is poisoned: every later call returns that
// error and the log must be reopened (recovery then decides what survived). A
// failed fdatasync is never retried, since the kernel may have dropped the dirty
// pages it failed to write.
//
// Thread-safe. Append, Sync, Read and the accessors may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "io/file_system.h"
#include "wal/format.h"
#include "wal/log_scanner.h"

namespace tri::wal {

struct WalOptions {
  // Size every new segment is preallocated to. Tests use small values.
  std::uint64_t segment_size_bytes = std::uint64_t{64} << 20;
  // The index of the first entry of a brand-new (empty) log.
  std::uint64_t first_index = 1;
};

// What Open found and repaired.
struct RecoveryReport {
  bool torn_tail = false;
  std::string tail_segment;
  std::uint64_t tail_offset = 0;
  std::string tail_problem;
  std::vector<std::string> removed_segments;  // obsolete or empty (crash while creating)
};

struct WalStats {
  std::uint64_t append_calls = 0;
  std::uint64_t entries_appended = 0;
  std::uint64_t fdatasyncs = 0;  // by Sync (group commit), not counting roll-overs
  std::uint64_t segments_created = 0;
};

class Wal {
 public:
  // Locks `dir` (creating it if needed), recovers the log in it, and repairs a
  // torn tail. Fails with kCorruption (naming file, offset and problem) when the log
  // is damaged anywhere before its tail, kFailedPrecondition when another process
  // holds the directory.
  static Result<std::unique_ptr<Wal>> Open(io::FileSystem& fs, const std::string& dir,
                                           WalOptions options = {});
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // REQUIRES: entries[i].index == LastIndex() + 1 + i; terms never decrease; each
  // entry's data fits in a segment (MaxEntryDataBytes). Writes the entries, then
  // `state` when given. Not durable until Sync.
  Status Append(std::span<const Entry> entries,
                const std::optional<HardState>& state = std::nullopt);
  // Appends one entry at the next index (LastIndex() + 1, chosen under the log's
  // lock) and returns that index: for producers that do not coordinate indexes
  // among themselves (benchmarks, non-Raft users). Not durable until Sync.
  Result<std::uint64_t> AppendNext(std::uint64_t term, std::string_view data);
  // Writes buffered records to the file without fdatasync: nothing becomes durable,
  // but a write error surfaces now instead of at a later read or sync.
  Status Flush();
  // Group commit. Returns the highest durable index once everything appended
  // before the call is durable.
  Result<std::uint64_t> Sync();
  // Append then Sync.
  Result<std::uint64_t> AppendAndSync(std::span<const Entry> entries,
                                      const std::optional<HardState>& state = std::nullopt);

  // Entries [lo, hi), stopping early (but after at least one) once `max_bytes` of
  // data is collected. Every record read is checksummed again. lo < FirstIndex() is
  // kOutOfRange, hi past LastIndex() + 1 is kNotFound (storage::WalRaftStorage checks
  // ranges itself and answers Raft with raft's own error kinds).
  Result<std::vector<Entry>> Read(
      std::uint64_t lo, std::uint64_t hi,
      std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());
  // Same error conventions as Read.
  Result<std::uint64_t> Term(std::uint64_t index) const;

  // Removes entries >= `from` (a Raft conflict). On return the cut, and every
  // entry before `from`, is durable. REQUIRES FirstIndex() <= from <= LastIndex() + 1.
  Status TruncateSuffix(std::uint64_t from);
  // Frees entries <= `index` (they are in a snapshot). Whole segments are removed,
  // so FirstIndex() may stay <= index. When index >= LastIndex() the log is reset
  // to be empty with FirstIndex() == index + 1 (durable before returning).
  Status DropPrefix(std::uint64_t index);

  std::uint64_t FirstIndex() const;
  std::uint64_t LastIndex() const;  // FirstIndex() - 1 when empty
  std::uint64_t DurableIndex() const;
  std::optional<HardState> hard_state() const;
  std::uint64_t MaxEntryDataBytes() const;
  const RecoveryReport& recovery() const { return recovery_; }
  WalStats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    SegmentHeader header;
    std::string path;
    std::shared_ptr<io::File> file;
    std::uint64_t capacity_bytes = 0;
  };

  Wal(io::FileSystem& fs, std::string dir, WalOptions options);
  Status Recover();
  // All REQUIRE mu_ held.
  Status AppendLocked(std::span<const Entry> entries, const std::optional<HardState>& state);
  Status FlushScratchLocked();
  Status RollLocked(std::uint32_t flags);
  Status PoisonLocked(Status status);
  Segment& ActiveLocked() { return segments_.rbegin()->second; }
  void WaitForNoSyncLocked(std::unique_lock<std::mutex>& lock);
  // Publishes durable_seq_/durable_index_ to lock-free readers and wakes waiters.
  void PublishDurableLocked();

  io::FileSystem& fs_;
  const std::string dir_;
  const WalOptions options_;
  std::unique_ptr<io::DirLock> dir_lock_;
  RecoveryReport recovery_;

  mutable std::mutex mu_;
  std::condition_variable sync_done_;
  std::map<std::uint64_t, Segment> segments_;  // by seq; the last one is active
  std::uint64_t write_offset_ = 0;             // in the active segment
  std::uint64_t synced_offset_ = 0;            // active segment bytes known fdatasynced
  std::uint64_t marked_offset_ = 0;            // the newest sync mark written in it
  std::deque<EntryLocation> locations_;        // entry first_index_ + i at [i]
  std::uint64_t first_index_ = 1;
  std::uint64_t last_index_ = 0;
  std::uint64_t last_term_ = 0;
  std::optional<HardState> hard_state_;
  std::string scratch_;               // records encoded but not yet written
  std::uint64_t scratch_offset_ = 0;  // where scratch_ goes in the active segment
  std::uint64_t write_seq_ = 0;       // Append calls that completed their writes
  std::uint64_t durable_seq_ = 0;     // of those, covered by a completed sync
  std::uint64_t durable_index_ = 0;
  bool sync_in_progress_ = false;
  // Followers wait on sync_epoch_ (bumped after every sync or failure) and, when
  // the published durable state covers them, return without taking mu_: with many
  // appenders this avoids a convoy on the mutex after every fdatasync.
  std::atomic<std::uint32_t> sync_epoch_{0};
  std::atomic<std::uint64_t> published_durable_seq_{0};
  std::atomic<std::uint64_t> published_durable_index_{0};
  Status poisoned_;
  WalStats stats_;
};

}  // namespace tri::wal
