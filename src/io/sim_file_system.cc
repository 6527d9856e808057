#include "io/sim_file_system.h"

#include <unistd.h>

#include <algorithm>

#include "base/assert.h"

namespace tri::io {
namespace {

std::string Normalize(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  return p;
}

Status Crashed(const std::string& path) {
  return IoError("sim: " + path + ": file handle from before a crash");
}

}  // namespace

class SimFile final : public File {
 public:
  SimFile(SimFileSystem* fs, std::uint64_t inode, std::uint64_t generation, std::string path,
          bool writable)
      : fs_(fs),
        inode_(inode),
        generation_(generation),
        path_(std::move(path)),
        writable_(writable) {}

  ~SimFile() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return;
    if (auto* node = fs_->FindInode(inode_)) --node->open_handles;
  }

  Result<std::size_t> Read(std::uint64_t offset, void* buffer, std::size_t size) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    const SimFileSystem::Inode* node = fs_->FindInode(inode_);
    TRI_ASSERT(node != nullptr);
    if (offset >= node->current.size()) return std::size_t{0};
    const std::size_t n = std::min<std::uint64_t>(size, node->current.size() - offset);
    std::copy_n(node->current.data() + offset, n, static_cast<char*>(buffer));
    if (n > 0 && fs_->rng_.Bernoulli(fs_->faults_.read_bit_flip_probability)) {
      const std::uint64_t bit = fs_->rng_.Uniform(n * 8);
      static_cast<char*>(buffer)[bit / 8] ^= static_cast<char>(1u << (bit % 8));
    }
    return n;
  }

  Status Write(std::uint64_t offset, std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    if (!writable_) return InvalidArgument("sim: " + path_ + " is open read-only");
    return fs_->WriteLocked(inode_, path_, offset, data);
  }

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    if (!writable_) return InvalidArgument("sim: " + path_ + " is open read-only");
    return fs_->WriteLocked(inode_, path_, fs_->FindInode(inode_)->current.size(), data);
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    if (fs_->rng_.Bernoulli(fs_->faults_.sync_error_probability)) {
      return IoError("sim: fdatasync " + path_ + ": EIO (injected)");
    }
    SimFileSystem::Inode* node = fs_->FindInode(inode_);
    node->durable = node->current;
    node->pending.clear();
    ++fs_->sync_count_;
    return Status::Ok();
  }

  Status Allocate(std::uint64_t offset, std::uint64_t size) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    if (!writable_) return InvalidArgument("sim: " + path_ + " is open read-only");
    const SimFileSystem::Inode* node = fs_->FindInode(inode_);
    if (offset + size <= node->current.size()) return Status::Ok();
    if (fs_->rng_.Bernoulli(fs_->faults_.write_error_probability)) {
      return IoError("sim: fallocate " + path_ + ": EIO (injected)");
    }
    return fs_->ResizeLocked(inode_, path_, offset + size);
  }

  Status Truncate(std::uint64_t size) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    if (!writable_) return InvalidArgument("sim: " + path_ + " is open read-only");
    return fs_->ResizeLocked(inode_, path_, size);
  }

  Result<std::uint64_t> Size() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (generation_ != fs_->generation_) return Crashed(path_);
    return static_cast<std::uint64_t>(fs_->FindInode(inode_)->current.size());
  }

 private:
  SimFileSystem* const fs_;
  const std::uint64_t inode_;
  const std::uint64_t generation_;
  const std::string path_;
  const bool writable_;
};

class SimDirLock final : public DirLock {
 public:
  SimDirLock(SimFileSystem* fs, std::string dir, std::uint64_t generation)
      : fs_(fs), dir_(std::move(dir)), generation_(generation) {}
  ~SimDirLock() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    auto it = fs_->locks_.find(dir_);
    if (it != fs_->locks_.end() && it->second == generation_) fs_->locks_.erase(it);
  }

 private:
  SimFileSystem* const fs_;
  const std::string dir_;
  const std::uint64_t generation_;
};

SimFileSystem::SimFileSystem(Rng& rng) : rng_(rng) {
  dirs_.insert("/");
}

SimFileSystem::~SimFileSystem() = default;

void SimFileSystem::SetFaults(const SimFaults& faults) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = faults;
}

std::uint64_t SimFileSystem::crash_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crash_count_;
}

std::uint64_t SimFileSystem::sync_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_count_;
}

SimFileSystem::Inode* SimFileSystem::FindInode(std::uint64_t id) {
  auto it = inodes_.find(id);
  return it == inodes_.end() ? nullptr : &it->second;
}

void SimFileSystem::ApplyDataOp(std::string& bytes, const DataOp& op) {
  if (!op.is_write) {
    bytes.resize(op.size, '\0');
    return;
  }
  if (bytes.size() < op.offset + op.data.size()) bytes.resize(op.offset + op.data.size(), '\0');
  std::copy(op.data.begin(), op.data.end(), bytes.begin() + static_cast<std::ptrdiff_t>(op.offset));
}

void SimFileSystem::ApplyNameOp(std::map<std::string, std::uint64_t>& names, const NameOp& op) {
  switch (op.kind) {
    case NameOp::kLink:
      names[op.path] = op.inode;
      break;
    case NameOp::kUnlink:
      names.erase(op.path);
      break;
    case NameOp::kRename: {
      auto it = names.find(op.path);
      if (it == names.end()) break;
      const std::uint64_t inode = it->second;
      names.erase(it);
      names[op.to] = inode;
      break;
    }
  }
}

bool SimFileSystem::NameOpTouches(const NameOp& op, const std::string& dir) {
  if (DirName(op.path) == dir) return true;
  return op.kind == NameOp::kRename && DirName(op.to) == dir;
}

std::uint64_t SimFileSystem::TotalBytesLocked() const {
  std::uint64_t total = 0;
  for (const auto& [id, node] : inodes_)
    total += node.current.size();
  return total;
}

void SimFileSystem::CollectGarbageLocked() {
  std::set<std::uint64_t> live;
  for (const auto& [path, id] : current_names_)
    live.insert(id);
  for (const auto& [path, id] : durable_names_)
    live.insert(id);
  for (const NameOp& op : pending_names_)
    live.insert(op.inode);
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    if (live.count(it->first) == 0 && it->second.open_handles == 0) {
      it = inodes_.erase(it);
    } else {
      ++it;
    }
  }
}

Status SimFileSystem::WriteLocked(std::uint64_t inode, const std::string& path,
                                  std::uint64_t offset, std::string_view data) {
  Inode* node = FindInode(inode);
  TRI_ASSERT(node != nullptr);
  if (rng_.Bernoulli(faults_.write_error_probability)) {
    return IoError("sim: write " + path + ": EIO (injected)");
  }
  const std::uint64_t end = offset + data.size();
  const std::uint64_t growth = end > node->current.size() ? end - node->current.size() : 0;
  if (growth > 0 && (TotalBytesLocked() + growth > faults_.capacity_bytes ||
                     rng_.Bernoulli(faults_.no_space_probability))) {
    return ResourceExhausted("sim: write " + path + ": ENOSPC");
  }
  std::string_view landed = data;
  const bool short_write = data.size() > 1 && rng_.Bernoulli(faults_.short_write_probability);
  if (short_write) landed = data.substr(0, rng_.Uniform(data.size()));
  DataOp op{true, offset, std::string(landed), 0};
  ApplyDataOp(node->current, op);
  node->pending.push_back(std::move(op));
  if (short_write) {
    return IoError("sim: write " + path + ": short write of " + std::to_string(landed.size()) +
                   " of " + std::to_string(data.size()) + " bytes, then EIO (injected)");
  }
  return Status::Ok();
}

Status SimFileSystem::ResizeLocked(std::uint64_t inode, const std::string& path,
                                   std::uint64_t size) {
  Inode* node = FindInode(inode);
  TRI_ASSERT(node != nullptr);
  if (size > node->current.size() &&
      (TotalBytesLocked() + (size - node->current.size()) > faults_.capacity_bytes ||
       rng_.Bernoulli(faults_.no_space_probability))) {
    return ResourceExhausted("sim: allocate " + path + ": ENOSPC");
  }
  DataOp op{false, 0, {}, size};
  ApplyDataOp(node->current, op);
  node->pending.push_back(std::move(op));
  return Status::Ok();
}

void SimFileSystem::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  ++crash_count_;
  ++generation_;
  locks_.clear();

  // The namespace journal: a prefix survives.
  const std::uint64_t names_kept = rng_.Uniform(pending_names_.size() + 1);
  for (std::uint64_t i = 0; i < names_kept; ++i)
    ApplyNameOp(durable_names_, pending_names_[i]);
  pending_names_.clear();
  current_names_ = durable_names_;

  for (auto& [id, node] : inodes_) {
    node.open_handles = 0;
    const std::size_t n = node.pending.size();
    if (n > 0 && faults_.crash_scatters_sectors) {
      for (const DataOp& op : node.pending) {
        if (!op.is_write) {
          ApplyDataOp(node.durable, op);
          continue;
        }
        std::uint64_t begin = op.offset;
        const std::uint64_t end = op.offset + op.data.size();
        while (begin < end) {
          const std::uint64_t piece_end =
              std::min(end, (begin / kSimSectorBytes + 1) * kSimSectorBytes);
          if (rng_.Bernoulli(0.5)) {
            DataOp piece{true, begin, op.data.substr(begin - op.offset, piece_end - begin), 0};
            ApplyDataOp(node.durable, piece);
          } else if (node.durable.size() < piece_end) {
            node.durable.resize(piece_end, '\0');  // the file size still covers it
          }
          begin = piece_end;
        }
      }
    } else if (n > 0) {
      // A third of the time nothing unsynced survives, a third everything does,
      // otherwise a prefix whose last write may be torn at a sector boundary.
      const std::uint64_t mode = rng_.Uniform(3);
      std::size_t kept = mode == 0   ? 0
                         : mode == 1 ? n
                                     : static_cast<std::size_t>(rng_.Uniform(n + 1));
      for (std::size_t i = 0; i < kept; ++i)
        ApplyDataOp(node.durable, node.pending[i]);
      if (mode == 2 && kept < n && node.pending[kept].is_write) {
        const DataOp& torn = node.pending[kept];
        const std::uint64_t first_boundary = (torn.offset / kSimSectorBytes + 1) * kSimSectorBytes;
        const std::uint64_t end = torn.offset + torn.data.size();
        if (first_boundary < end) {
          const std::uint64_t boundaries = (end - first_boundary - 1) / kSimSectorBytes + 1;
          const std::uint64_t cut = first_boundary + rng_.Uniform(boundaries) * kSimSectorBytes;
          TRI_ASSERT(cut > torn.offset && cut < end);
          DataOp prefix{true, torn.offset, torn.data.substr(0, cut - torn.offset), 0};
          ApplyDataOp(node.durable, prefix);
        }
      }
    }
    node.pending.clear();
    node.current = node.durable;
  }
  CollectGarbageLocked();
}

Status SimFileSystem::CorruptByte(const std::string& path, std::uint64_t offset,
                                  std::uint8_t xor_mask) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_names_.find(Normalize(path));
  if (it == current_names_.end()) return NotFound("sim: corrupt " + path + ": no such file");
  Inode* node = FindInode(it->second);
  if (offset >= node->current.size()) return OutOfRange("sim: corrupt " + path + ": past end");
  node->current[offset] = static_cast<char>(node->current[offset] ^ xor_mask);
  if (offset < node->durable.size()) {
    node->durable[offset] = static_cast<char>(node->durable[offset] ^ xor_mask);
  }
  for (DataOp& op : node->pending) {
    if (op.is_write && offset >= op.offset && offset < op.offset + op.data.size()) {
      op.data[offset - op.offset] = static_cast<char>(op.data[offset - op.offset] ^ xor_mask);
    }
  }
  return Status::Ok();
}

Result<std::string> SimFileSystem::DurableContents(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = durable_names_.find(Normalize(path));
  if (it == durable_names_.end()) return NotFound("sim: " + path + ": not durable");
  return FindInode(it->second)->durable;
}

Result<std::unique_ptr<File>> SimFileSystem::Open(const std::string& raw_path, OpenMode mode) {
  const std::string path = Normalize(raw_path);
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.count(DirName(path)) == 0) return NotFound("sim: open " + path + ": no such directory");
  if (dirs_.count(path) != 0) return InvalidArgument("sim: open " + path + ": is a directory");
  auto it = current_names_.find(path);
  std::uint64_t inode = 0;
  if (it != current_names_.end()) {
    if (mode == OpenMode::kCreateExclusive)
      return AlreadyExists("sim: create " + path + ": exists");
    inode = it->second;
  } else {
    if (mode == OpenMode::kRead || mode == OpenMode::kReadWrite) {
      return NotFound("sim: open " + path + ": no such file");
    }
    inode = next_inode_++;
    inodes_[inode];
    current_names_[path] = inode;
    pending_names_.push_back({NameOp::kLink, path, {}, inode});
  }
  ++inodes_[inode].open_handles;
  return std::unique_ptr<File>(
      new SimFile(this, inode, generation_, path, mode != OpenMode::kRead));
}

Status SimFileSystem::Rename(const std::string& raw_from, const std::string& raw_to) {
  const std::string from = Normalize(raw_from);
  const std::string to = Normalize(raw_to);
  std::lock_guard<std::mutex> lock(mu_);
  if (current_names_.count(from) == 0) return NotFound("sim: rename " + from + ": no such file");
  if (dirs_.count(DirName(to)) == 0)
    return NotFound("sim: rename to " + to + ": no such directory");
  NameOp op{NameOp::kRename, from, to, current_names_[from]};
  ApplyNameOp(current_names_, op);
  pending_names_.push_back(std::move(op));
  return Status::Ok();
}

Status SimFileSystem::SyncDir(const std::string& raw_dir) {
  const std::string dir = Normalize(raw_dir);
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.count(dir) == 0) return NotFound("sim: fsync " + dir + ": no such directory");
  if (rng_.Bernoulli(faults_.sync_error_probability)) {
    return IoError("sim: fsync directory " + dir + ": EIO (injected)");
  }
  std::size_t last = 0;
  for (std::size_t i = 0; i < pending_names_.size(); ++i) {
    if (NameOpTouches(pending_names_[i], dir)) last = i + 1;
  }
  for (std::size_t i = 0; i < last; ++i)
    ApplyNameOp(durable_names_, pending_names_[i]);
  pending_names_.erase(pending_names_.begin(),
                       pending_names_.begin() + static_cast<std::ptrdiff_t>(last));
  ++sync_count_;
  if (pending_names_.empty()) CollectGarbageLocked();
  return Status::Ok();
}

Result<std::vector<std::string>> SimFileSystem::List(const std::string& raw_dir) {
  const std::string dir = Normalize(raw_dir);
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.count(dir) == 0) return NotFound("sim: list " + dir + ": no such directory");
  std::vector<std::string> names;
  const std::size_t prefix = dir == "/" ? 1 : dir.size() + 1;
  for (const auto& [path, id] : current_names_) {
    if (DirName(path) == dir) names.push_back(path.substr(prefix));
  }
  for (const std::string& d : dirs_) {
    if (d != dir && DirName(d) == dir) names.push_back(d.substr(prefix));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status SimFileSystem::Remove(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_names_.find(path);
  if (it == current_names_.end()) return NotFound("sim: remove " + path + ": no such file");
  NameOp op{NameOp::kUnlink, path, {}, it->second};
  ApplyNameOp(current_names_, op);
  pending_names_.push_back(std::move(op));
  return Status::Ok();
}

Result<std::uint64_t> SimFileSystem::FileSize(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_names_.find(path);
  if (it == current_names_.end()) return NotFound("sim: stat " + path + ": no such file");
  return static_cast<std::uint64_t>(inodes_[it->second].current.size());
}

bool SimFileSystem::Exists(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard<std::mutex> lock(mu_);
  return current_names_.count(path) != 0 || dirs_.count(path) != 0;
}

Status SimFileSystem::CreateDirs(const std::string& raw_dir) {
  std::string dir = Normalize(raw_dir);
  std::lock_guard<std::mutex> lock(mu_);
  while (dir != "/" && dir != "." && !dir.empty()) {
    if (current_names_.count(dir) != 0) return AlreadyExists("sim: mkdir " + dir + ": is a file");
    dirs_.insert(dir);
    dir = DirName(dir);
  }
  return Status::Ok();
}

Result<std::unique_ptr<DirLock>> SimFileSystem::LockDir(const std::string& raw_dir) {
  const std::string dir = Normalize(raw_dir);
  std::lock_guard<std::mutex> lock(mu_);
  if (dirs_.count(dir) == 0) return NotFound("sim: lock " + dir + ": no such directory");
  if (locks_.count(dir) != 0) {
    return FailedPrecondition("data directory " + dir + " is in use by pid " +
                              std::to_string(::getpid()));
  }
  locks_[dir] = generation_;
  return std::unique_ptr<DirLock>(new SimDirLock(this, dir, generation_));
}

}  // namespace tri::io
