#include "server/observed_file_system.h"

#include <fstream>
#include <sstream>

namespace tri::server {
namespace {

class ObservedFile final : public io::ForwardingFile {
 public:
  ObservedFile(std::unique_ptr<io::File> base, ObservedFileSystem* fs, std::string path)
      : ForwardingFile(std::move(base)), fs_(fs), path_(std::move(path)) {}

  Status Write(std::uint64_t offset, std::string_view data) override {
    if (fs_->CurrentFault() == ObservedFileSystem::Fault::kWriteEnospc) return NoSpace("write");
    return ForwardingFile::Write(offset, data);
  }
  Status Append(std::string_view data) override {
    if (fs_->CurrentFault() == ObservedFileSystem::Fault::kWriteEnospc) return NoSpace("append");
    return ForwardingFile::Append(data);
  }
  Status Allocate(std::uint64_t offset, std::uint64_t size) override {
    if (fs_->CurrentFault() == ObservedFileSystem::Fault::kWriteEnospc) return NoSpace("fallocate");
    return ForwardingFile::Allocate(offset, size);
  }
  Status Sync() override {
    if (fs_->CurrentFault() == ObservedFileSystem::Fault::kFsyncEio)
      return IoError("fdatasync " + path_ +
                     ": Input/output error (injected by TRI_TESTING_FAULT_FILE)");
    const auto start = std::chrono::steady_clock::now();
    Status st = ForwardingFile::Sync();
    if (fs_->fsync_seconds() != nullptr)
      fs_->fsync_seconds()->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return st;
  }

 private:
  Status NoSpace(const char* what) const {
    return ResourceExhausted(std::string(what) + " " + path_ +
                             ": No space left on device (injected by TRI_TESTING_FAULT_FILE)");
  }
  ObservedFileSystem* fs_;
  std::string path_;
};

}  // namespace

ObservedFileSystem::ObservedFileSystem(io::FileSystem& base, Histogram* fsync_seconds,
                                       std::string fault_file)
    : ForwardingFileSystem(base),
      fsync_seconds_(fsync_seconds),
      fault_file_(std::move(fault_file)) {}

ObservedFileSystem::Fault ObservedFileSystem::CurrentFault() {
  if (fault_file_.empty()) return Fault::kNone;
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_poll_) {
    next_poll_ = now + std::chrono::milliseconds(100);
    std::ifstream in(fault_file_);
    std::string text;
    if (in) std::getline(in, text);
    fault_ = text == "fsync=eio"      ? Fault::kFsyncEio
             : text == "write=enospc" ? Fault::kWriteEnospc
                                      : Fault::kNone;
  }
  return fault_;
}

std::unique_ptr<io::File> ObservedFileSystem::WrapFile(const std::string& path,
                                                       std::unique_ptr<io::File> file) {
  return std::make_unique<ObservedFile>(std::move(file), this, path);
}

}  // namespace tri::server
