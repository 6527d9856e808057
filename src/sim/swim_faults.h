#pragma once

// The fault plan of a `tri-sim swim` run (docs/membership.md): which member
// crashes when, which members stall (their process freezes) and when, and which
// partitions split the cluster when. Drawn up front from the seed, so the run
// and its checkers read the same plan and a seed replays exactly.

#include <cstdint>
#include <vector>

#include "base/rng.h"
#include "membership/types.h"

namespace tri::sim {

using membership::Millis;

struct SwimFaultOptions {
  // Crashes spread over the faulty window; each stops one member forever.
  int crashes = 0;
  // Short stalls: this fraction of the members is stall-prone; each of them
  // stalls for [stall_min_ms, stall_max_ms] with exponential gaps of mean
  // stall_mean_gap_ms.
  double stall_fraction = 0.0;
  Millis stall_min_ms = 500;
  Millis stall_max_ms = 2000;
  Millis stall_mean_gap_ms = 30000;
  // Long stalls: this many stalls of long_stall_ms (meant to exceed the
  // suspicion timeout, so that the member is declared dead with a cause).
  int long_stalls = 0;
  Millis long_stall_ms = 60000;
  // Partitions: each splits the members into two random groups (the smaller
  // holds 10%..50%) for partition_ms, then heals.
  int partitions = 0;
  Millis partition_ms = 20000;
};

struct CrashFault {
  Millis at = 0;
  int member = 0;
};

struct StallFault {
  int member = 0;
  Millis start = 0;
  Millis end = 0;  // exclusive: the member runs again at `end`
};

struct PartitionFault {
  Millis start = 0;
  Millis end = 0;
  std::vector<std::uint8_t> side;  // per member: 0 or 1
};

// Every fault lies in [window_start, window_end); crashes hit distinct members,
// and a member's stalls never overlap each other.
class SwimFaultPlan {
 public:
  static SwimFaultPlan Draw(const SwimFaultOptions& options, int members, Millis window_start,
                            Millis window_end, Rng& rng);

  const std::vector<CrashFault>& crashes() const { return crashes_; }
  const std::vector<StallFault>& stalls() const { return stalls_; }
  const std::vector<PartitionFault>& partitions() const { return partitions_; }

  // The crash time of `member`, or -1 when it never crashes.
  Millis CrashTime(int member) const { return crash_at_[member]; }
  // True when a partition active at `at` separates `a` from `b`.
  bool Separated(int a, int b, Millis at) const;
  // True when a partition that cut `member` off from some members overlapped
  // [from, to].
  bool PartitionedDuring(int member, Millis from, Millis to) const;
  // The longest stall of `member` that overlapped [from, to] (0 if none).
  Millis LongestStallDuring(int member, Millis from, Millis to) const;

 private:
  std::vector<CrashFault> crashes_;
  std::vector<StallFault> stalls_;
  std::vector<PartitionFault> partitions_;
  std::vector<Millis> crash_at_;
  std::vector<std::vector<int>> stalls_of_;  // member -> indexes into stalls_
};

}  // namespace tri::sim
