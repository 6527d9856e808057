#pragma once

// The node's file system: the real one, with fdatasync timed for the
// wal_fsync_duration_seconds histogram, and — only when a test asks for it with
// the environment variable TRI_TESTING_FAULT_FILE=<path> — disk faults switched
// on and off through the contents of that file (polled at most every 100 ms):
//   "fsync=eio"      every File::Sync fails with EIO (the node stops; a failed
//                    fdatasync is never retried)
//   "write=enospc"   every write, append and allocation fails with ENOSPC
//   empty / missing  no faults
// Production runs never set the variable; the check is then one branch.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "io/forwarding_file_system.h"
#include "server/metrics.h"

namespace tri::server {

class ObservedFileSystem final : public io::ForwardingFileSystem {
 public:
  // `fault_file` empty: no fault injection.
  ObservedFileSystem(io::FileSystem& base, Histogram* fsync_seconds, std::string fault_file);

  enum class Fault { kNone, kFsyncEio, kWriteEnospc };
  Fault CurrentFault();
  Histogram* fsync_seconds() const { return fsync_seconds_; }

 protected:
  std::unique_ptr<io::File> WrapFile(const std::string& path,
                                     std::unique_ptr<io::File> file) override;

 private:
  Histogram* const fsync_seconds_;
  const std::string fault_file_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_poll_{};
  Fault fault_ = Fault::kNone;
};

}  // namespace tri::server
