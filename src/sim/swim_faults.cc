#include "sim/swim_faults.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace tri::sim {

namespace {

Millis ExponentialGap(Rng& rng, Millis mean) {
  // Inverse transform; 1 - u is in (0, 1], so the log is finite.
  const double u = rng.NextDouble();
  return static_cast<Millis>(-std::log(1.0 - u) * static_cast<double>(mean)) + 1;
}

}  // namespace

SwimFaultPlan SwimFaultPlan::Draw(const SwimFaultOptions& options, int members, Millis window_start,
                                  Millis window_end, Rng& rng) {
  TRI_ASSERT(members > 0);
  TRI_ASSERT(window_start < window_end);
  SwimFaultPlan plan;
  plan.crash_at_.assign(members, -1);
  plan.stalls_of_.resize(members);
  const Millis span = window_end - window_start;

  // Crashes: distinct members (at most all but one, so someone observes).
  const int crashes = std::min(options.crashes, members - 1);
  while (static_cast<int>(plan.crashes_.size()) < crashes) {
    const int m = static_cast<int>(rng.Uniform(members));
    if (plan.crash_at_[m] >= 0) continue;
    const Millis at = window_start + static_cast<Millis>(rng.Uniform(span));
    plan.crash_at_[m] = at;
    plan.crashes_.push_back({at, m});
  }
  std::sort(plan.crashes_.begin(), plan.crashes_.end(),
            [](const CrashFault& a, const CrashFault& b) { return a.at < b.at; });

  auto add_stall = [&](int m, Millis start, Millis length) {
    const Millis end = std::min(start + length, window_end);
    if (end <= start) return;
    for (int i : plan.stalls_of_[m]) {
      const StallFault& s = plan.stalls_[i];
      if (start < s.end && s.start < end) return;  // keep one member's stalls apart
    }
    plan.stalls_of_[m].push_back(static_cast<int>(plan.stalls_.size()));
    plan.stalls_.push_back({m, start, end});
  };
  // Short stalls on the stall-prone members.
  if (options.stall_fraction > 0) {
    TRI_ASSERT(options.stall_min_ms > 0 && options.stall_min_ms <= options.stall_max_ms);
    for (int m = 0; m < members; ++m) {
      if (!rng.Bernoulli(options.stall_fraction)) continue;
      Millis at = window_start + ExponentialGap(rng, options.stall_mean_gap_ms);
      while (at < window_end) {
        const Millis length = rng.Range(options.stall_min_ms, options.stall_max_ms);
        add_stall(m, at, length);
        at += length + ExponentialGap(rng, options.stall_mean_gap_ms);
      }
    }
  }
  for (int i = 0; i < options.long_stalls; ++i) {
    const int m = static_cast<int>(rng.Uniform(members));
    add_stall(m, window_start + static_cast<Millis>(rng.Uniform(span)), options.long_stall_ms);
  }

  for (int i = 0; i < options.partitions; ++i) {
    PartitionFault p;
    p.start = window_start + static_cast<Millis>(rng.Uniform(span));
    p.end = std::min(p.start + options.partition_ms, window_end);
    if (p.end <= p.start) continue;
    const double minority = 0.1 + 0.4 * rng.NextDouble();
    p.side.resize(members);
    for (int m = 0; m < members; ++m)
      p.side[m] = rng.Bernoulli(minority) ? 1 : 0;
    plan.partitions_.push_back(std::move(p));
  }
  return plan;
}

bool SwimFaultPlan::Separated(int a, int b, Millis at) const {
  for (const PartitionFault& p : partitions_) {
    if (at >= p.start && at < p.end && p.side[a] != p.side[b]) return true;
  }
  return false;
}

bool SwimFaultPlan::PartitionedDuring(int member, Millis from, Millis to) const {
  for (const PartitionFault& p : partitions_) {
    if (p.start > to || p.end < from) continue;
    // Cut off from someone unless every member sits on its side.
    for (std::uint8_t s : p.side) {
      if (s != p.side[member]) return true;
    }
  }
  return false;
}

Millis SwimFaultPlan::LongestStallDuring(int member, Millis from, Millis to) const {
  Millis longest = 0;
  for (int i : stalls_of_[member]) {
    const StallFault& s = stalls_[i];
    if (s.start > to || s.end < from) continue;
    longest = std::max(longest, s.end - s.start);
  }
  return longest;
}

}  // namespace tri::sim
