#include "wal/inspect.h"

#include <cctype>
#include <cstdio>

#include "wal/log_scanner.h"

namespace tri::wal {
namespace {

std::string Flags(std::uint32_t flags) {
  std::string s;
  if (flags & kSegmentFlagLogReset) s += " reset";
  if (flags & kSegmentFlagTruncate) s += " truncate";
  return s;
}

std::string Preview(const std::string& data) {
  constexpr std::size_t kMax = 48;
  std::string s;
  for (std::size_t i = 0; i < data.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (std::isprint(c) && c != '\\' && c != '"') {
      s.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      s += buf;
    }
  }
  if (data.size() > kMax) s += "...";
  return s;
}

class DumpVisitor final : public LogVisitor {
 public:
  DumpVisitor(std::ostream& out, std::uint64_t from) : out_(out), from_(from) {}
  void OnSegment(const SegmentInfo& s) override {
    out_ << "segment " << s.name << " version=" << s.header.version << " seq=" << s.header.seq
         << " first_index=" << s.header.first_index << Flags(s.header.flags) << "\n";
  }
  void OnEntry(const SegmentInfo& s, std::uint64_t offset, const Entry& e) override {
    if (e.index < from_) return;
    out_ << "  @" << offset << " entry index=" << e.index << " term=" << e.term
         << " type=" << static_cast<int>(e.type) << " bytes=" << e.data.size() << " data=\""
         << Preview(e.data) << "\"\n";
  }
  void OnHardState(const SegmentInfo& s, std::uint64_t offset, const HardState& h) override {
    out_ << "  @" << offset << " hard-state term=" << h.term << " vote=" << h.vote
         << " commit=" << h.commit << "\n";
  }

 private:
  std::ostream& out_;
  const std::uint64_t from_;
};

int Verdict(const Result<LogScan>& scan, std::ostream& out, bool list_segments) {
  if (!scan.ok()) {
    const bool corrupt = scan.status().code() == StatusCode::kCorruption;
    out << (corrupt ? "CORRUPT: " : "ERROR: ") << scan.status().message() << "\n";
    return corrupt ? kInspectCorrupt : kInspectUnreadable;
  }
  const LogScan& log = *scan;
  if (list_segments) {
    for (const SegmentInfo& s : log.segments) {
      out << s.name << " version=" << s.header.version << " seq=" << s.header.seq
          << " first_index=" << s.header.first_index << " entries=" << s.entry_count
          << " hard_states=" << s.hard_state_count << " used=" << s.end_offset << "/"
          << s.file_bytes << Flags(s.header.flags) << "\n";
    }
  }
  for (const std::string& name : log.obsolete)
    out << name << " obsolete (removed on open)\n";
  if (log.empty_last)
    out << *log.empty_last << " has no header: left by a crash (removed on open)\n";
  out << "entries: ";
  if (log.last_index >= log.first_index) {
    out << "[" << log.first_index << ", " << log.last_index << "], last term " << log.last_term;
  } else {
    out << "none, next index " << log.first_index;
  }
  out << "\nhard state: ";
  if (log.hard_state) {
    out << "term=" << log.hard_state->term << " vote=" << log.hard_state->vote
        << " commit=" << log.hard_state->commit;
  } else {
    out << "none";
  }
  out << "\n";
  if (!log.segments.empty() && log.segments.back().torn_tail) {
    const SegmentInfo& tail = log.segments.back();
    out << "torn tail: " << tail.name << " at offset " << tail.end_offset << ": "
        << tail.tail_problem << " (truncated on open)\n";
  }
  out << "OK\n";
  return kInspectOk;
}

}  // namespace

int RunWalCheck(io::FileSystem& fs, const std::string& dir, std::ostream& out) {
  if (!fs.Exists(dir)) {
    out << "ERROR: " << dir << " does not exist\n";
    return kInspectUnreadable;
  }
  return Verdict(ScanLog(fs, dir), out, /*list_segments=*/true);
}

int RunWalDump(io::FileSystem& fs, const std::string& dir, std::uint64_t from_index,
               std::ostream& out) {
  if (!fs.Exists(dir)) {
    out << "ERROR: " << dir << " does not exist\n";
    return kInspectUnreadable;
  }
  DumpVisitor visitor(out, from_index);
  return Verdict(ScanLog(fs, dir, 1, &visitor), out, /*list_segments=*/false);
}

}  // namespace tri::wal
