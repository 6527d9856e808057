#pragma once

// An in-memory FileSystem that models what survives a power loss, for tests and
// the deterministic simulator.
//
// Model:
// - Each file (inode) has its current bytes (what reads see: the page cache) and
//   its durable bytes (what the disk holds). Write, Append, Allocate and Truncate
//   change the current bytes and queue an operation; File::Sync makes all queued
//   operations of that file durable.
// - Names are separate from data: creating, renaming and removing a name changes
//   the current namespace and queues a namespace operation (one ordered journal
//   for the whole file system). SyncDir(d) makes durable every queued namespace
//   operation up to and including the last one that touches d. So a file that was
//   created or renamed but whose directory was never synced may vanish on a crash,
//   and a removed one may come back. Directories themselves are durable once made.
// - Crash() is a power loss. For the namespace journal and for each file it keeps a
//   seeded prefix of the queued operations; the last kept write may be torn, keeping
//   only a prefix of its 512-byte sectors (or, with SimFaults::crash_scatters_sectors,
//   every unsynced sector survives or not on its own). Open handles and locks die.
// - Faults (SimFaults), all drawn from the injected Rng so a seed replays exactly:
//   EIO on write or sync, ENOSPC, short writes (a prefix lands, then EIO), and bit
//   flips in the data a read returns.
//
// Thread-safe: one mutex guards the whole file system.

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "io/file_system.h"

namespace tri::io {

struct SimFaults {
  double write_error_probability = 0;    // Write/Append/Allocate fail with EIO, nothing written
  double short_write_probability = 0;    // a prefix of a Write/Append lands, then EIO
  double sync_error_probability = 0;     // Sync/SyncDir fail with EIO
  double no_space_probability = 0;       // Write/Append/Allocate fail with ENOSPC
  double read_bit_flip_probability = 0;  // Read returns the data with one bit flipped
  // Crash() lets each unsynced 512-byte sector of every write survive on its own
  // (writeback reaching the disk out of order) instead of keeping a prefix.
  bool crash_scatters_sectors = false;
  // Writes that would grow the total size of all files beyond this fail with ENOSPC.
  std::uint64_t capacity_bytes = std::numeric_limits<std::uint64_t>::max();
};

inline constexpr std::uint64_t kSimSectorBytes = 512;

class SimFileSystem final : public FileSystem {
 public:
  // `rng` makes every crash and fault choice; it must outlive this object.
  explicit SimFileSystem(Rng& rng);
  ~SimFileSystem() override;

  void SetFaults(const SimFaults& faults);

  // Power loss: see the model above. Every File and DirLock from before the crash
  // fails (or does nothing) afterwards.
  void Crash();

  // Test hooks, acting on the bytes at rest (both current and durable), the way a
  // failing medium would.
  Status CorruptByte(const std::string& path, std::uint64_t offset, std::uint8_t xor_mask);
  Result<std::string> DurableContents(const std::string& path);
  std::uint64_t crash_count() const;
  std::uint64_t sync_count() const;

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::vector<std::string>> List(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Result<std::uint64_t> FileSize(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Status CreateDirs(const std::string& dir) override;
  Result<std::unique_ptr<DirLock>> LockDir(const std::string& dir) override;

 private:
  friend class SimFile;
  friend class SimDirLock;

  struct DataOp {
    bool is_write = true;  // else a resize to `size`
    std::uint64_t offset = 0;
    std::string data;
    std::uint64_t size = 0;
  };
  struct Inode {
    std::string current;
    std::string durable;
    std::vector<DataOp> pending;
    int open_handles = 0;
  };
  struct NameOp {
    enum Kind { kLink, kUnlink, kRename } kind;
    std::string path;
    std::string to;           // kRename
    std::uint64_t inode = 0;  // kLink
  };

  static void ApplyDataOp(std::string& bytes, const DataOp& op);
  static void ApplyNameOp(std::map<std::string, std::uint64_t>& names, const NameOp& op);
  static bool NameOpTouches(const NameOp& op, const std::string& dir);
  Inode* FindInode(std::uint64_t id);
  std::uint64_t TotalBytesLocked() const;
  void CollectGarbageLocked();
  // Shared by Write/Append: applies faults, then the write. REQUIRES: mu_ held.
  Status WriteLocked(std::uint64_t inode, const std::string& path, std::uint64_t offset,
                     std::string_view data);
  Status ResizeLocked(std::uint64_t inode, const std::string& path, std::uint64_t size);

  mutable std::mutex mu_;
  Rng& rng_;
  SimFaults faults_;
  std::uint64_t generation_ = 0;  // bumped by Crash(); stale handles fail
  std::uint64_t next_inode_ = 1;
  std::uint64_t crash_count_ = 0;
  std::uint64_t sync_count_ = 0;
  std::map<std::uint64_t, Inode> inodes_;
  std::map<std::string, std::uint64_t> current_names_;
  std::map<std::string, std::uint64_t> durable_names_;
  std::vector<NameOp> pending_names_;
  std::set<std::string> dirs_;
  std::map<std::string, std::uint64_t> locks_;  // dir -> generation that holds it
};

}  // namespace tri::io
