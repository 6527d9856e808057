#pragma once

// The file-system seam: everything storage does with files goes through
// FileSystem and File, so tests and the simulator can swap in SimFileSystem
// (crashes, torn writes, injected faults) for PosixFileSystem (a real disk).
//
// Contracts shared by every implementation:
// - Paths are plain strings; a directory and a name are joined with JoinPath.
// - Write/Append either write every byte or return an error. After an error the
//   file's contents in the written range are unspecified (a short write may have
//   landed part of the data): callers treat the file as poisoned.
// - Nothing is durable until Sync (file data and size) and, for the existence of a
//   name in a directory (create, rename, remove), SyncDir of that directory.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace tri::io {

class File {
 public:
  virtual ~File() = default;

  // Reads up to `size` bytes at `offset` (pread). Returns the number read; it is
  // less than `size` only at end of file.
  virtual Result<std::size_t> Read(std::uint64_t offset, void* buffer, std::size_t size) = 0;
  // Writes all of `data` at `offset` (pwrite), extending the file if needed.
  virtual Status Write(std::uint64_t offset, std::string_view data) = 0;
  // Writes all of `data` at the current end of the file.
  virtual Status Append(std::string_view data) = 0;
  // Makes every write so far, and the file size, durable (fdatasync).
  virtual Status Sync() = 0;
  // Ensures [offset, offset + size) is allocated; the file grows to at least
  // offset + size and new bytes read as zero (fallocate, mode 0).
  virtual Status Allocate(std::uint64_t offset, std::uint64_t size) = 0;
  // Sets the file size (ftruncate); bytes beyond a grown size read as zero.
  virtual Status Truncate(std::uint64_t size) = 0;
  virtual Result<std::uint64_t> Size() = 0;
};

// Held while a data directory is in use; releasing it (destruction) unlocks.
class DirLock {
 public:
  virtual ~DirLock() = default;
};

enum class OpenMode {
  kRead,             // existing file, read only
  kReadWrite,        // existing file
  kCreate,           // read-write; created empty if missing
  kCreateExclusive,  // read-write; fails with kAlreadyExists if present
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes the directory's entries (creates, renames, removes in it) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual Result<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Result<std::uint64_t> FileSize(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Creates `dir` and missing parents; ok if it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  // Takes the exclusive lock of `dir` (file `dir`/LOCK, which records the holder's
  // pid). A second locker gets kFailedPrecondition:
  // "data directory <dir> is in use by pid <N>".
  virtual Result<std::unique_ptr<DirLock>> LockDir(const std::string& dir) = 0;
};

std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of `path` ("." when there is none).
std::string DirName(std::string_view path);

// Reads the whole file at `path`.
Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path);

inline constexpr const char* kLockFileName = "LOCK";

}  // namespace tri::io
