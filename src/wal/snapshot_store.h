#pragma once

// Snapshot files of the replicated state machine, one per snapshot, in their own
// directory. Format (docs/storage.md): a 48-byte header (magic, format version,
// last included index and term, body size, body CRC32C, header CRC32C), then the body.
// Version 2 (written by this build) starts the body with the snapshot's membership
// (length-prefixed: voters, learners, removed as varint lists), then the application
// data; version 1 (still read) has only the data and reads with an empty membership
// and `membership_recorded` false.
//
// Save writes "<name>.tmp", fsyncs it, renames it to "<name>" and fsyncs the
// directory, so a crash leaves either the old set of snapshots or the new one, never
// a partial file under a final name. The newest `keep` snapshots are kept.
// LoadNewest verifies every candidate, newest first; a corrupt one is reported and
// the next older one used.
//
// Not thread-safe: one owner (the node's snapshotting driver).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "io/file_system.h"

namespace tri::wal {

inline constexpr std::uint32_t kSnapshotFormatVersion = 2;
inline constexpr std::uint32_t kOldestSnapshotFormatVersion = 1;  // the oldest version read
inline constexpr std::string_view kSnapshotMagic = "TRISNAP1";
inline constexpr std::size_t kSnapshotHeaderBytes = 48;

// The cluster membership as of the snapshot (Raft's ConfState, as node ids).
struct SnapshotMembership {
  std::vector<std::uint64_t> voters;
  std::vector<std::uint64_t> learners;
  std::vector<std::uint64_t> removed;
  friend bool operator==(const SnapshotMembership&, const SnapshotMembership&) = default;
};

struct SnapshotMeta {
  std::uint64_t last_index = 0;  // last log index the snapshot includes
  std::uint64_t last_term = 0;   // its term
  SnapshotMembership membership;
  // False only for a version 1 file, which has no membership section.
  bool membership_recorded = true;
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string body;
};

struct SnapshotOptions {
  std::size_t keep = 2;  // newest snapshots kept after a Save; at least 1
};

// "<index:016x>-<term:016x>.snap"
std::string SnapshotFileName(const SnapshotMeta& meta);
// Header + body, as written to disk. `version` 1 (for tests of old files) drops the
// membership.
std::string EncodeSnapshot(const SnapshotMeta& meta, std::string_view body,
                           std::uint32_t version = kSnapshotFormatVersion);
// Verifies and decodes a whole snapshot file; errors say what is wrong.
Result<Snapshot> DecodeSnapshot(std::string_view bytes);

class SnapshotStore {
 public:
  // Creates `dir` if needed and removes temporary files left by a crash.
  static Result<std::unique_ptr<SnapshotStore>> Open(io::FileSystem& fs, const std::string& dir,
                                                     SnapshotOptions options = {});

  // Durable on return. Then removes all but the newest `keep` snapshots.
  Status Save(const SnapshotMeta& meta, std::string_view body);

  // The newest intact snapshot, or kNotFound when there is none. Each corrupt newer
  // one is logged and, when `problems` is given, described there ("<file>: <what>").
  Result<Snapshot> LoadNewest(std::vector<std::string>* problems = nullptr);

  // Snapshot file names, newest first.
  Result<std::vector<std::string>> List();

 private:
  SnapshotStore(io::FileSystem& fs, std::string dir, SnapshotOptions options)
      : fs_(fs), dir_(std::move(dir)), options_(options) {}

  io::FileSystem& fs_;
  const std::string dir_;
  const SnapshotOptions options_;
};

}  // namespace tri::wal
