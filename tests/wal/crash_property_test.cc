// Crash consistency on the simulated file system: random appends, syncs, suffix
// truncations, prefix drops and crashes (with torn writes, lost unsynced data and
// lost directory entries). After every recovery:
//   - every entry acknowledged durable is present and intact,
//   - nothing that was never appended appears, and order is preserved,
//   - the torn tail is gone (the log keeps working and reopens cleanly),
//   - the hard state is the last acknowledged one or a later one,
//   - corruption injected before the tail is refused, never skipped.
// A third of the cases crash with unsynced sectors surviving independently
// (out-of-order writeback) rather than as a torn prefix.
// Cases: TRI_WAL_CRASH_CASES (default 3000, plus a third as many with I/O faults);
// base seed TRI_WAL_CRASH_SEED. A failure prints the seed that replays it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "wal/log_scanner.h"
#include "wal/wal.h"
#include "wal/wal_test_util.h"

namespace tri::wal {
namespace {

constexpr const char* kDir = "/node/wal";

std::uint64_t EnvOr(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

// What the log must look like, as far as the test knows.
struct Model {
  std::uint64_t first = 1;
  std::vector<Entry> entries;  // entries[i].index == first + i
  std::uint64_t acked = 0;     // highest index acknowledged durable
  std::vector<HardState> states;
  std::optional<std::size_t> acked_state;  // states[k] for k >= this may be recovered
  // After a failed operation the disk may hold either outcome.
  std::uint64_t first_max = 1;
  std::optional<std::uint64_t> failed_reset;  // a DropPrefix(index >= last) that failed

  std::uint64_t last() const { return first + entries.size() - 1; }
};

class CrashCase {
 public:
  CrashCase(std::uint64_t seed, bool faults)
      : faults_(faults), rng_(seed), fs_rng_(seed ^ 0x5EEDF00Dull), fs_(fs_rng_) {}

  // Returns an empty string on success, else what went wrong.
  std::string Run() {
    options_.segment_size_bytes = std::uint64_t{4096} << rng_.Uniform(4);
    // A third of the cases crash with unsynced sectors reaching disk out of order.
    scatter_ = rng_.Uniform(3) == 0;
    if (!Reopen()) return failure_;
    const int ops = 20 + static_cast<int>(rng_.Uniform(60));
    for (int op = 0; op < ops && failure_.empty(); ++op) {
      if (corrupted_) break;
      if (faults_ && rng_.Bernoulli(0.1)) {
        fs_.SetFaults({.write_error_probability = 0.05,
                       .short_write_probability = 0.05,
                       .sync_error_probability = 0.05,
                       .no_space_probability = 0.02,
                       .crash_scatters_sectors = scatter_});
      }
      const std::uint64_t dice = rng_.Uniform(100);
      if (dice < 45)
        DoAppend();
      else if (dice < 65)
        DoSync();
      else if (dice < 72)
        DoTruncate();
      else if (dice < 78)
        DoDropPrefix();
      else if (dice < 82)
        DoRead();
      else if (dice < 86)
        DoCorruptBeforeTail();
      else
        DoCrash();
    }
    if (failure_.empty() && !corrupted_) DoCrash();
    return failure_;
  }

 private:
  void Fail(const std::string& what) {
    if (failure_.empty())
      failure_ = what + (std::getenv("TRI_WAL_CRASH_TRACE") ? "\n" + trace_.str() : "");
  }

  bool Reopen() {
    wal_.reset();
    auto wal = Wal::Open(fs_, kDir, options_);
    if (!wal.ok()) {
      Fail("open failed: " + wal.status().ToString());
      return false;
    }
    wal_ = std::move(wal).value();
    return true;
  }

  void NoteFailure() { healthy_ = false; }

  void DoAppend() {
    if (!healthy_) return;
    const std::uint64_t count = rng_.Uniform(5);
    std::vector<Entry> batch;
    std::uint64_t term = model_.entries.empty() ? term_floor_ : model_.entries.back().term;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (rng_.Bernoulli(0.1)) ++term;
      const std::size_t size = rng_.Bernoulli(0.1) ? rng_.Uniform(1500) : rng_.Uniform(120);
      batch.push_back(testing::MakeEntry(model_.last() + 1 + i, term, size));
    }
    std::optional<HardState> state;
    if (count == 0 || rng_.Bernoulli(0.3)) {
      state = HardState{term, rng_.Uniform(5), model_.last() + count};
    }
    const Status st = wal_->Append(batch, state);
    if (state) trace_ << "hs " << state->term << "/" << state->commit << "\n";
    trace_ << "append " << count << " from " << model_.last() + 1 << (state ? " +hs" : "") << " -> "
           << st.ToString() << "\n";
    // Even a failed append may have reached the disk.
    for (Entry& e : batch)
      model_.entries.push_back(std::move(e));
    if (state) model_.states.push_back(*state);
    if (!st.ok()) NoteFailure();
  }

  void DoSync() {
    if (!healthy_) return;
    auto durable = wal_->Sync();
    trace_ << "sync -> " << (durable.ok() ? std::to_string(*durable) : durable.status().ToString())
           << "\n";
    if (!durable.ok()) return NoteFailure();
    if (*durable != model_.last()) {
      Fail("Sync returned " + std::to_string(*durable) + ", expected " +
           std::to_string(model_.last()));
    }
    model_.acked = *durable;
    if (!model_.states.empty()) model_.acked_state = model_.states.size() - 1;
  }

  void DoTruncate() {
    if (!healthy_) return;
    const std::uint64_t from = model_.first + rng_.Uniform(model_.entries.size() + 1);
    const Status st = wal_->TruncateSuffix(from);
    trace_ << "truncate " << from << " -> " << st.ToString() << "\n";
    if (!st.ok()) {
      // Entries >= from may or may not be gone; the ones before are still owed.
      model_.acked = std::min(model_.acked, from - 1);
      return NoteFailure();
    }
    model_.entries.resize(from - model_.first);
    model_.acked = from - 1;
    if (!model_.states.empty()) model_.acked_state = model_.states.size() - 1;
    term_floor_ = model_.entries.empty() ? term_floor_ : model_.entries.back().term;
  }

  void DoDropPrefix() {
    if (!healthy_) return;
    const std::uint64_t index = model_.first + rng_.Uniform(model_.entries.size() + 3);
    const Status st = wal_->DropPrefix(index);
    trace_ << "drop " << index << " -> " << st.ToString() << " first " << wal_->FirstIndex()
           << "\n";
    if (!st.ok()) {
      model_.first_max = std::max(model_.first_max, index + 1);
      if (index >= model_.last()) model_.failed_reset = index;
      return NoteFailure();
    }
    if (index >= model_.last()) {
      model_.entries.clear();
      model_.first = index + 1;
      model_.acked = index;
      if (!model_.states.empty()) model_.acked_state = model_.states.size() - 1;
    } else {
      const std::uint64_t first = wal_->FirstIndex();
      if (first > index + 1 || first < model_.first) {
        return Fail("DropPrefix(" + std::to_string(index) + ") left FirstIndex " +
                    std::to_string(first));
      }
      model_.entries.erase(
          model_.entries.begin(),
          model_.entries.begin() + static_cast<std::ptrdiff_t>(first - model_.first));
      model_.first = first;
    }
    model_.first_max = model_.first;
  }

  void DoRead() {
    if (!healthy_ || model_.entries.empty()) return;
    const std::uint64_t lo = model_.first + rng_.Uniform(model_.entries.size());
    const std::uint64_t hi = lo + 1 + rng_.Uniform(model_.last() - lo + 1);
    auto got = wal_->Read(lo, hi);
    if (!got.ok()) {
      // A read first writes buffered appends, so an injected write fault can fail it.
      if (faults_ && got.status().code() != StatusCode::kCorruption) return NoteFailure();
      return Fail("read failed: " + got.status().ToString());
    }
    for (std::uint64_t i = lo; i < hi; ++i) {
      if ((*got)[i - lo] != model_.entries[i - model_.first])
        return Fail("read wrong entry " + std::to_string(i));
    }
  }

  // Damages a durable record that has a durable record after it, then expects the
  // next open to refuse the log.
  void DoCorruptBeforeTail() {
    if (!healthy_ || rng_.Uniform(4) != 0) return;
    // Sync, then one more synced batch: its sync mark vouches for everything before.
    if (!wal_->Sync().ok()) return NoteFailure();
    const std::uint64_t term = model_.entries.empty() ? term_floor_ : model_.entries.back().term;
    Entry extra = testing::MakeEntry(model_.last() + 1, term, 10);
    const Status st = wal_->Append(std::span<const Entry>(&extra, 1));
    model_.entries.push_back(std::move(extra));
    if (!st.ok()) return NoteFailure();
    if (!wal_->Sync().ok()) return NoteFailure();
    model_.acked = model_.last();
    if (!model_.states.empty()) model_.acked_state = model_.states.size() - 1;
    auto scan = ScanLog(fs_, kDir, options_.first_index);
    if (!scan.ok()) return Fail("scan of a healthy log failed: " + scan.status().ToString());
    if (scan->locations.size() < 2) return;
    const EntryLocation& loc = scan->locations[rng_.Uniform(scan->locations.size() - 1)];
    std::string path;
    for (const SegmentInfo& s : scan->segments) {
      if (s.header.seq == loc.seq) path = io::JoinPath(kDir, s.name);
    }
    const std::uint64_t offset = loc.offset + rng_.Uniform(loc.record_bytes);
    const auto mask = static_cast<std::uint8_t>(1u << rng_.Uniform(8));
    if (!fs_.CorruptByte(path, offset, mask).ok()) return Fail("could not corrupt " + path);
    wal_.reset();
    fs_.SetFaults({.crash_scatters_sectors = scatter_});
    fs_.Crash();
    auto reopened = Wal::Open(fs_, kDir, options_);
    if (reopened.ok())
      return Fail("corruption at " + path + ":" + std::to_string(offset) + " was not refused");
    const std::string name = path.substr(path.rfind('/') + 1);
    if (reopened.status().code() != StatusCode::kCorruption ||
        reopened.status().message().find(name) == std::string::npos) {
      return Fail("corruption reported badly: " + reopened.status().ToString());
    }
    corrupted_ = true;
  }

  void DoCrash() {
    wal_.reset();
    fs_.SetFaults({.crash_scatters_sectors = scatter_});
    fs_.Crash();
    trace_ << "crash\n";
    if (!Reopen()) return;
    trace_ << "  recovered [" << wal_->FirstIndex() << ", " << wal_->LastIndex()
           << "] torn=" << wal_->recovery().torn_tail << " " << wal_->recovery().tail_problem
           << " removed " << wal_->recovery().removed_segments.size() << " hs "
           << (wal_->hard_state() ? std::to_string(wal_->hard_state()->term) + "/" +
                                        std::to_string(wal_->hard_state()->commit)
                                  : "none")
           << "\n";
    for (const auto& n : testing::SegmentNames(fs_, kDir))
      trace_ << "  segment " << n << "\n";
    healthy_ = true;
    Check();
  }

  void Check() {
    const std::uint64_t first = wal_->FirstIndex();
    const std::uint64_t last = wal_->LastIndex();
    const bool reset_took_effect =
        model_.failed_reset && first == *model_.failed_reset + 1 && last == *model_.failed_reset;
    std::ostringstream why;
    if (!reset_took_effect) {
      if (first < model_.first || first > model_.first_max) {
        why << "first index " << first << " outside [" << model_.first << ", " << model_.first_max
            << "]";
      } else if (last < model_.acked) {
        why << "lost acknowledged entries: last index " << last << " < acked " << model_.acked;
      } else if (last > model_.last()) {
        why << "invented entries: last index " << last << " > appended " << model_.last();
      }
      if (!why.str().empty()) return Fail(why.str());
      if (last >= first) {
        auto got = wal_->Read(first, last + 1);
        if (!got.ok()) return Fail("read after recovery: " + got.status().ToString());
        for (std::uint64_t i = first; i <= last; ++i) {
          if ((*got)[i - first] != model_.entries[i - model_.first]) {
            return Fail("entry " + std::to_string(i) + " differs after recovery");
          }
        }
      }
    }
    const auto state = wal_->hard_state();
    if (model_.acked_state) {
      bool found = false;
      for (std::size_t k = *model_.acked_state; k < model_.states.size(); ++k) {
        found = found || (state && *state == model_.states[k]);
      }
      if (!found) return Fail("hard state regressed behind the acknowledged one");
    } else if (state) {
      bool found = false;
      for (const HardState& s : model_.states)
        found = found || s == *state;
      if (!found) return Fail("invented hard state");
    }
    // Adopt what survived.
    if (reset_took_effect) {
      model_.entries.clear();
    } else {
      model_.entries.erase(
          model_.entries.begin(),
          model_.entries.begin() + static_cast<std::ptrdiff_t>(first - model_.first));
      model_.entries.resize(last + 1 - first);
    }
    model_.first = first;
    model_.first_max = first;
    model_.failed_reset.reset();
    model_.acked = last;
    model_.states.clear();
    model_.acked_state.reset();
    if (state) {
      model_.states.push_back(*state);
      model_.acked_state = 0;
    }
    term_floor_ = model_.entries.empty() ? term_floor_ : model_.entries.back().term;
    if (wal_->DurableIndex() != last) Fail("recovered log is not all durable");
  }

  const bool faults_;
  SeededRng rng_;
  SeededRng fs_rng_;
  io::SimFileSystem fs_;
  WalOptions options_;
  std::unique_ptr<Wal> wal_;
  Model model_;
  std::uint64_t term_floor_ = 1;
  bool healthy_ = true;
  bool scatter_ = false;
  bool corrupted_ = false;
  std::string failure_;
  std::ostringstream trace_;
};

void RunCases(bool faults, std::uint64_t cases) {
  const std::uint64_t base = EnvOr("TRI_WAL_CRASH_SEED", 20261123);
  int failures = 0;
  for (std::uint64_t i = 0; i < cases && failures < 5; ++i) {
    const std::uint64_t seed = base + i;
    CrashCase c(seed, faults);
    const std::string failure = c.Run();
    if (!failure.empty()) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << (faults ? " (with faults)" : "") << ": " << failure
                    << "\n  replay: TRI_WAL_CRASH_SEED=" << seed << " TRI_WAL_CRASH_CASES=1";
    }
  }
}

TEST(WalCrashProperty, AcknowledgedEntriesSurviveEveryCrash) {
  RunCases(false, EnvOr("TRI_WAL_CRASH_CASES", 3000));
}

TEST(WalCrashProperty, AcknowledgedEntriesSurviveCrashesAfterIoFaults) {
  RunCases(true, std::max<std::uint64_t>(1, EnvOr("TRI_WAL_CRASH_CASES", 3000) / 3));
}

}  // namespace
}  // namespace tri::wal
