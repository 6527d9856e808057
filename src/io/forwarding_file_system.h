#pragma once

// Forwards every call to another FileSystem (LevelDB's EnvWrapper): subclass it
// and override only the call a test wants to fail, delay or count. Open wraps
// files in ForwardingFile through WrapFile, which subclasses may override too.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/file_system.h"

namespace tri::io {

class ForwardingFile : public File {
 public:
  explicit ForwardingFile(std::unique_ptr<File> base) : base_(std::move(base)) {}

  Result<std::size_t> Read(std::uint64_t offset, void* buffer, std::size_t size) override {
    return base_->Read(offset, buffer, size);
  }
  Status Write(std::uint64_t offset, std::string_view data) override {
    return base_->Write(offset, data);
  }
  Status Append(std::string_view data) override { return base_->Append(data); }
  Status Sync() override { return base_->Sync(); }
  Status Allocate(std::uint64_t offset, std::uint64_t size) override {
    return base_->Allocate(offset, size);
  }
  Status Truncate(std::uint64_t size) override { return base_->Truncate(size); }
  Result<std::uint64_t> Size() override { return base_->Size(); }

 protected:
  File& base() { return *base_; }

 private:
  std::unique_ptr<File> base_;
};

class ForwardingFileSystem : public FileSystem {
 public:
  // `base` must outlive this object.
  explicit ForwardingFileSystem(FileSystem& base) : base_(base) {}

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    TRI_ASSIGN_OR_RETURN(auto file, base_.Open(path, mode));
    return WrapFile(path, std::move(file));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_.SyncDir(dir); }
  Result<std::vector<std::string>> List(const std::string& dir) override { return base_.List(dir); }
  Status Remove(const std::string& path) override { return base_.Remove(path); }
  Result<std::uint64_t> FileSize(const std::string& path) override { return base_.FileSize(path); }
  bool Exists(const std::string& path) override { return base_.Exists(path); }
  Status CreateDirs(const std::string& dir) override { return base_.CreateDirs(dir); }
  Result<std::unique_ptr<DirLock>> LockDir(const std::string& dir) override {
    return base_.LockDir(dir);
  }

 protected:
  // Called for every opened file; the default returns it unwrapped.
  virtual std::unique_ptr<File> WrapFile(const std::string& path, std::unique_ptr<File> file) {
    return file;
  }
  FileSystem& base() { return base_; }

 private:
  FileSystem& base_;
};

}  // namespace tri::io
