#pragma once

#include "io/file_system.h"

namespace tri::io {

// FileSystem on the real disk through POSIX calls (pread/pwrite, fdatasync,
// fallocate, rename, fsync of a directory, flock). Thread-safe; File objects may
// be used from several threads at once (positional I/O only).
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::vector<std::string>> List(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Result<std::uint64_t> FileSize(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Status CreateDirs(const std::string& dir) override;
  Result<std::unique_ptr<DirLock>> LockDir(const std::string& dir) override;

  // A process-wide instance.
  static PosixFileSystem& Instance();
};

}  // namespace tri::io
