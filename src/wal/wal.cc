#include "wal/wal.h"

#include <algorithm>

#include "base/assert.h"

namespace tri::wal {
namespace {

constexpr std::uint64_t kMinSegmentBytes = 4096;
constexpr std::size_t kSegmentHeaderRecordBytes = kRecordHeaderBytes + kSegmentHeaderPayloadBytes;
constexpr std::size_t kHardStateRecordBytes = kRecordHeaderBytes + kHardStatePayloadBytes;
constexpr std::size_t kSyncMarkRecordBytes = kRecordHeaderBytes + kSyncMarkPayloadBytes;
// Appends are buffered until a Sync (one write per group commit); past this much
// buffered data they are written right away.
constexpr std::size_t kMaxBufferedBytes = std::size_t{1} << 20;

}  // namespace

Wal::Wal(io::FileSystem& fs, std::string dir, WalOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

Wal::~Wal() {
  // Hand buffered appends to the file system, as a process exit would leave them in
  // the page cache. They were never synced, so nothing is promised about them.
  std::lock_guard<std::mutex> lock(mu_);
  if (poisoned_.ok()) (void)FlushScratchLocked();
}

Result<std::unique_ptr<Wal>> Wal::Open(io::FileSystem& fs, const std::string& dir,
                                       WalOptions options) {
  if (options.segment_size_bytes < kMinSegmentBytes) {
    return InvalidArgument("wal: segment size " + std::to_string(options.segment_size_bytes) +
                           " is below the minimum of " + std::to_string(kMinSegmentBytes));
  }
  if (options.first_index == 0) return InvalidArgument("wal: first index must be at least 1");
  TRI_RETURN_IF_ERROR(fs.CreateDirs(dir));
  std::unique_ptr<Wal> wal(new Wal(fs, dir, options));
  TRI_ASSIGN_OR_RETURN(wal->dir_lock_, fs.LockDir(dir));
  TRI_RETURN_IF_ERROR(wal->Recover().WithContext("wal: recovering " + dir));
  return wal;
}

Status Wal::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  TRI_ASSIGN_OR_RETURN(LogScan scan, ScanLog(fs_, dir_, options_.first_index));
  if (scan.empty_last) {
    // Created by a crash before its header was durable: it holds nothing.
    TRI_RETURN_IF_ERROR(fs_.Remove(io::JoinPath(dir_, *scan.empty_last)));
    TRI_RETURN_IF_ERROR(fs_.SyncDir(dir_));
    recovery_.removed_segments.push_back(*scan.empty_last);
  }

  first_index_ = scan.first_index;
  last_index_ = scan.last_index;
  last_term_ = scan.last_term;
  hard_state_ = scan.hard_state;
  locations_.assign(scan.locations.begin(), scan.locations.end());
  for (const SegmentInfo& info : scan.segments) {
    Segment segment;
    segment.header = info.header;
    segment.path = io::JoinPath(dir_, info.name);
    TRI_ASSIGN_OR_RETURN(auto file, fs_.Open(segment.path, io::OpenMode::kReadWrite));
    segment.file = std::move(file);
    segment.capacity_bytes = info.file_bytes;
    segments_[info.header.seq] = std::move(segment);
  }

  if (segments_.empty()) {
    TRI_RETURN_IF_ERROR(RollLocked(0));
  } else {
    const SegmentInfo& tail = scan.segments.back();
    Segment& active = ActiveLocked();
    write_offset_ = tail.end_offset;
    scratch_offset_ = write_offset_;
    if (tail.torn_tail) {
      // Zero the torn bytes so the next write starts on a clean end-of-data marker.
      recovery_.torn_tail = true;
      recovery_.tail_segment = tail.name;
      recovery_.tail_offset = tail.end_offset;
      recovery_.tail_problem = tail.tail_problem;
      TRI_RETURN_IF_ERROR(active.file->Truncate(tail.end_offset));
      TRI_RETURN_IF_ERROR(
          active.file->Allocate(tail.end_offset, tail.file_bytes - tail.end_offset));
    }
    // Invariant: the active segment holds the newest hard state (rolls copy it), so
    // removing older segments never loses it. A crash can break that (a torn copy,
    // or the newest one in a segment about to be removed): restore it.
    if (hard_state_ && scan.hard_state_segment != tail.name) {
      if (write_offset_ + kHardStateRecordBytes > active.capacity_bytes) {
        TRI_RETURN_IF_ERROR(RollLocked(0));
      } else {
        AppendHardStateRecord(scratch_, *hard_state_);
        scratch_offset_ = write_offset_;
        TRI_RETURN_IF_ERROR(FlushScratchLocked());
      }
    }
    // What was read may have come from a cache that was never flushed (the previous
    // process died between write and sync): make it durable before calling it so.
    TRI_RETURN_IF_ERROR(ActiveLocked().file->Sync());
    // New records are always written in the current format: a tail segment of an
    // older version is sealed and a new one started.
    if (ActiveLocked().header.version != kWalFormatVersion) TRI_RETURN_IF_ERROR(RollLocked(0));
  }

  // Superseded by a reset or a truncation. Newest first, each removal durable
  // before the next, so an interrupted cleanup still leaves a log that chains.
  for (auto it = scan.obsolete.rbegin(); it != scan.obsolete.rend(); ++it) {
    TRI_RETURN_IF_ERROR(fs_.Remove(io::JoinPath(dir_, *it)));
    TRI_RETURN_IF_ERROR(fs_.SyncDir(dir_));
    recovery_.removed_segments.push_back(*it);
  }
  durable_index_ = last_index_;
  PublishDurableLocked();
  synced_offset_ = write_offset_;
  marked_offset_ = 0;  // the first append marks everything recovered as synced
  return Status::Ok();
}

Status Wal::PoisonLocked(Status status) {
  TRI_ASSERT(!status.ok());
  if (poisoned_.ok())
    poisoned_ = status.WithContext("wal " + dir_ + " failed and must be reopened");
  PublishDurableLocked();
  return poisoned_;
}

Status Wal::FlushScratchLocked() {
  if (scratch_.empty()) return Status::Ok();
  Segment& active = ActiveLocked();
  TRI_ASSERT(scratch_offset_ == write_offset_);
  TRI_ASSERT(write_offset_ + scratch_.size() <= active.capacity_bytes);
  const Status st = active.file->Write(write_offset_, scratch_);
  if (!st.ok()) return PoisonLocked(st);
  write_offset_ += scratch_.size();
  scratch_.clear();
  scratch_offset_ = write_offset_;
  return Status::Ok();
}

Status Wal::RollLocked(std::uint32_t flags) {
  TRI_ASSERT(scratch_.empty());
  std::uint64_t seq = 1;
  if (!segments_.empty()) {
    // Everything in the old segment must be durable before anything in the new one,
    // so that only the last segment can ever have a torn tail.
    const Status st = ActiveLocked().file->Sync();
    if (!st.ok()) return PoisonLocked(st);
    seq = ActiveLocked().header.seq + 1;
  }
  Segment segment;
  segment.header = SegmentHeader{seq, last_index_ + 1, flags};
  segment.path = io::JoinPath(dir_, SegmentFileName(seq, last_index_ + 1));
  segment.capacity_bytes = options_.segment_size_bytes;
  auto file = fs_.Open(segment.path, io::OpenMode::kCreate);
  if (!file.ok()) return PoisonLocked(file.status());
  segment.file = std::move(file).value();
  std::string head;
  AppendSegmentHeaderRecord(head, segment.header);
  if (hard_state_) AppendHardStateRecord(head, *hard_state_);
  Status st = segment.file->Truncate(0);
  if (st.ok()) st = segment.file->Allocate(0, segment.capacity_bytes);
  if (st.ok()) st = segment.file->Write(0, head);
  if (st.ok()) st = segment.file->Sync();
  if (st.ok()) st = fs_.SyncDir(dir_);
  if (!st.ok()) return PoisonLocked(st);
  segments_[seq] = std::move(segment);
  write_offset_ = head.size();
  scratch_offset_ = write_offset_;
  synced_offset_ = write_offset_;
  marked_offset_ = write_offset_;
  ++stats_.segments_created;
  return Status::Ok();
}

std::uint64_t Wal::MaxEntryDataBytes() const {
  return options_.segment_size_bytes - kSegmentHeaderRecordBytes - kHardStateRecordBytes -
         kSyncMarkRecordBytes - EntryRecordBytes(0);
}

Status Wal::Append(std::span<const Entry> entries, const std::optional<HardState>& state) {
  std::lock_guard<std::mutex> lock(mu_);
  return AppendLocked(entries, state);
}

Result<std::uint64_t> Wal::AppendNext(std::uint64_t term, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry entry{last_index_ + 1, term, std::string(data)};
  TRI_RETURN_IF_ERROR(AppendLocked(std::span<const Entry>(&entry, 1), std::nullopt));
  return entry.index;
}

Status Wal::AppendLocked(std::span<const Entry> entries, const std::optional<HardState>& state) {
  if (!poisoned_.ok()) return poisoned_;
  std::uint64_t term = last_term_;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.index != last_index_ + 1 + i) {
      return InvalidArgument("wal: append of index " + std::to_string(e.index) + " where " +
                             std::to_string(last_index_ + 1 + i) + " comes next");
    }
    if (e.term < term) {
      return InvalidArgument("wal: entry " + std::to_string(e.index) + " has term " +
                             std::to_string(e.term) + " below the previous term " +
                             std::to_string(term));
    }
    if (e.data.size() > MaxEntryDataBytes()) {
      return InvalidArgument("wal: entry " + std::to_string(e.index) + " has " +
                             std::to_string(e.data.size()) + " bytes; a segment holds at most " +
                             std::to_string(MaxEntryDataBytes()));
    }
    term = e.term;
  }

  TRI_ASSERT(scratch_offset_ == write_offset_);
  auto make_room = [&](std::size_t record_bytes) -> Status {
    if (scratch_offset_ + scratch_.size() + record_bytes <= ActiveLocked().capacity_bytes) {
      return Status::Ok();
    }
    TRI_RETURN_IF_ERROR(FlushScratchLocked());
    return RollLocked(0);
  };
  if (synced_offset_ > marked_offset_) {
    // Tell recovery that everything before synced_offset_ was durable.
    TRI_RETURN_IF_ERROR(make_room(kSyncMarkRecordBytes));
    if (synced_offset_ > marked_offset_) {
      AppendSyncMarkRecord(scratch_, synced_offset_);
      marked_offset_ = synced_offset_;
    }
  }
  for (const Entry& e : entries) {
    const std::size_t record_bytes = EntryRecordBytes(e.data.size());
    TRI_RETURN_IF_ERROR(make_room(record_bytes));
    locations_.push_back(EntryLocation{ActiveLocked().header.seq, scratch_offset_ + scratch_.size(),
                                       static_cast<std::uint32_t>(record_bytes), e.term});
    AppendEntryRecord(scratch_, e);
    last_index_ = e.index;
    last_term_ = e.term;
  }
  if (state) {
    TRI_RETURN_IF_ERROR(make_room(kHardStateRecordBytes));
    AppendHardStateRecord(scratch_, *state);
    hard_state_ = *state;
  }
  // Written by the next Sync's leader, together with every other buffered append.
  if (scratch_.size() >= kMaxBufferedBytes) TRI_RETURN_IF_ERROR(FlushScratchLocked());
  ++write_seq_;
  ++stats_.append_calls;
  stats_.entries_appended += entries.size();
  return Status::Ok();
}

Status Wal::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!poisoned_.ok()) return poisoned_;
  return FlushScratchLocked();
}

Result<std::uint64_t> Wal::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t target = write_seq_;
  while (true) {
    if (!poisoned_.ok()) return poisoned_;
    if (durable_seq_ >= target) return durable_index_;
    if (!sync_in_progress_) break;
    const std::uint32_t epoch = sync_epoch_.load(std::memory_order_acquire);
    lock.unlock();
    sync_epoch_.wait(epoch, std::memory_order_acquire);
    if (published_durable_seq_.load(std::memory_order_acquire) >= target) {
      return published_durable_index_.load(std::memory_order_acquire);
    }
    lock.lock();
  }
  // This caller leads: one write of everything buffered, then one fdatasync.
  TRI_RETURN_IF_ERROR(FlushScratchLocked());
  sync_in_progress_ = true;
  const std::uint64_t covered_seq = write_seq_;
  const std::uint64_t covered_index = last_index_;
  const std::uint64_t covered_segment = ActiveLocked().header.seq;
  const std::uint64_t covered_offset = write_offset_;
  const std::shared_ptr<io::File> file = ActiveLocked().file;
  lock.unlock();
  const Status st = file->Sync();
  lock.lock();
  sync_in_progress_ = false;
  ++stats_.fdatasyncs;
  if (!st.ok()) return PoisonLocked(st);
  durable_seq_ = std::max(durable_seq_, covered_seq);
  if (ActiveLocked().header.seq == covered_segment) {
    synced_offset_ = std::max(synced_offset_, covered_offset);
  }
  durable_index_ = std::max(durable_index_, std::min(covered_index, last_index_));
  PublishDurableLocked();
  return durable_index_;
}

void Wal::PublishDurableLocked() {
  published_durable_index_.store(durable_index_, std::memory_order_release);
  published_durable_seq_.store(durable_seq_, std::memory_order_release);
  sync_epoch_.fetch_add(1, std::memory_order_acq_rel);
  sync_epoch_.notify_all();
  sync_done_.notify_all();
}

Result<std::uint64_t> Wal::AppendAndSync(std::span<const Entry> entries,
                                         const std::optional<HardState>& state) {
  TRI_RETURN_IF_ERROR(Append(entries, state));
  return Sync();
}

void Wal::WaitForNoSyncLocked(std::unique_lock<std::mutex>& lock) {
  sync_done_.wait(lock, [&] { return !sync_in_progress_; });
}

Result<std::vector<Entry>> Wal::Read(std::uint64_t lo, std::uint64_t hi, std::uint64_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!poisoned_.ok()) return poisoned_;
  if (!scratch_.empty()) TRI_RETURN_IF_ERROR(FlushScratchLocked());  // reads come from files
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + ")";
  if (lo < first_index_) {
    return OutOfRange("wal: read " + range + " starts below the first index " +
                      std::to_string(first_index_) + " (compacted)");
  }
  if (hi > last_index_ + 1 || lo > hi) {
    return NotFound("wal: read " + range + " goes past the last index " +
                    std::to_string(last_index_));
  }
  std::vector<Entry> out;
  std::uint64_t data_bytes = 0;
  std::string buf;
  for (std::uint64_t index = lo; index < hi; ++index) {
    const EntryLocation& loc = locations_[index - first_index_];
    const Segment& segment = segments_.at(loc.seq);
    buf.resize(loc.record_bytes);
    TRI_ASSIGN_OR_RETURN(const std::size_t n,
                         segment.file->Read(loc.offset, buf.data(), buf.size()));
    const std::string where = segment.path + " at offset " + std::to_string(loc.offset) + ": ";
    if (n != buf.size())
      return Corruption(where + "entry " + std::to_string(index) + " is cut short");
    RecordView record;
    std::string problem;
    const RecordCheck check = CheckRecordAt(buf, 0, &record, &problem);
    if (check != RecordCheck::kValid || record.type != RecordType::kEntry ||
        kRecordHeaderBytes + record.payload.size() != buf.size()) {
      return Corruption(where + "entry " + std::to_string(index) + " fails its check on read" +
                        (problem.empty() ? std::string() : " (" + problem + ")"));
    }
    TRI_ASSIGN_OR_RETURN(Entry entry, DecodeEntry(record.payload, segment.header.version));
    if (entry.index != index) {
      return Corruption(where + "holds index " + std::to_string(entry.index) + ", expected " +
                        std::to_string(index));
    }
    data_bytes += entry.data.size();
    if (!out.empty() && data_bytes > max_bytes) break;
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::uint64_t> Wal::Term(std::uint64_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < first_index_) {
    return OutOfRange("wal: entry " + std::to_string(index) + " is below the first index " +
                      std::to_string(first_index_) + " (compacted)");
  }
  if (index > last_index_) {
    return NotFound("wal: entry " + std::to_string(index) + " is past the last index " +
                    std::to_string(last_index_));
  }
  return locations_[index - first_index_].term;
}

Status Wal::TruncateSuffix(std::uint64_t from) {
  std::unique_lock<std::mutex> lock(mu_);
  WaitForNoSyncLocked(lock);
  if (!poisoned_.ok()) return poisoned_;
  if (from < first_index_ || from > last_index_ + 1) {
    return OutOfRange("wal: truncate from " + std::to_string(from) + " outside [" +
                      std::to_string(first_index_) + ", " + std::to_string(last_index_ + 1) + "]");
  }
  if (from == last_index_ + 1) {
    // Nothing to cut, but the contract still holds: the remaining log is durable.
    lock.unlock();
    return Sync().status();
  }
  TRI_RETURN_IF_ERROR(FlushScratchLocked());
  // Atomic by construction: a new segment flagged as a truncation (carrying the
  // hard state) voids entries >= from in older segments once it is durable.
  // Nothing older is changed in place, so a crash at any point leaves either the
  // old log or the new one, and never loses the hard state.
  locations_.resize(from - first_index_);
  last_index_ = from - 1;
  last_term_ = locations_.empty() ? 0 : locations_.back().term;
  TRI_RETURN_IF_ERROR(RollLocked(kSegmentFlagTruncate));
  durable_seq_ = write_seq_;
  durable_index_ = last_index_;
  PublishDurableLocked();
  // Segments holding only void entries, newest first.
  while (segments_.size() > 1) {
    auto victim = std::prev(std::prev(segments_.end()));
    if (victim->second.header.first_index < from) break;
    // One directory sync per removal: the removals become durable in this order.
    Status st = fs_.Remove(victim->second.path);
    if (st.ok()) st = fs_.SyncDir(dir_);
    if (!st.ok()) return PoisonLocked(st);
    segments_.erase(victim);
  }
  return Status::Ok();
}

Status Wal::DropPrefix(std::uint64_t index) {
  std::unique_lock<std::mutex> lock(mu_);
  WaitForNoSyncLocked(lock);
  if (!poisoned_.ok()) return poisoned_;
  if (index < first_index_) return Status::Ok();
  TRI_RETURN_IF_ERROR(FlushScratchLocked());

  if (index >= last_index_) {
    // Reset to an empty log starting after `index`: a new segment flagged as a reset
    // makes every older one obsolete, even if a crash interrupts their removal.
    locations_.clear();
    if (index > last_index_) last_term_ = 0;
    last_index_ = index;
    first_index_ = index + 1;
    TRI_RETURN_IF_ERROR(RollLocked(kSegmentFlagLogReset));
    durable_seq_ = write_seq_;
    durable_index_ = last_index_;
    PublishDurableLocked();
  }
  // Whole segments whose entries are all <= index, oldest first (after a reset:
  // every segment but the new one).
  const bool reset = (ActiveLocked().header.flags & kSegmentFlagLogReset) != 0 &&
                     ActiveLocked().header.first_index == index + 1;
  while (segments_.size() > 1) {
    auto oldest = segments_.begin();
    auto next = std::next(oldest);
    if (!reset && next->second.header.first_index - 1 > index) break;
    // One directory sync per removal: the removals become durable in this order,
    // so a crash part-way leaves a log that still chains.
    Status st = fs_.Remove(oldest->second.path);
    if (st.ok()) st = fs_.SyncDir(dir_);
    if (!st.ok()) return PoisonLocked(st);
    if (!reset) {
      const std::uint64_t dropped = next->second.header.first_index - first_index_;
      TRI_ASSERT(dropped <= locations_.size());
      locations_.erase(locations_.begin(),
                       locations_.begin() + static_cast<std::ptrdiff_t>(dropped));
      first_index_ = next->second.header.first_index;
    }
    segments_.erase(oldest);
  }
  return Status::Ok();
}

std::uint64_t Wal::FirstIndex() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_index_;
}

std::uint64_t Wal::LastIndex() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_index_;
}

std::uint64_t Wal::DurableIndex() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_index_;
}

std::optional<HardState> Wal::hard_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hard_state_;
}

WalStats Wal::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace tri::wal
