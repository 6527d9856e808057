#pragma once

// A node's logical clock in the simulator. Raft counts time in ticks; each
// node ticks every nominal_tick_us * (1 + drift), and drift differs between
// nodes (and may change during a run), so nodes disagree on how long an
// election timeout is, the way real clocks do. A paused clock (a stalled
// process) does not tick until it resumes.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "base/assert.h"
#include "sim/network.h"

namespace tri::sim {

// The drift fault's range: tick periods vary by up to +-30% between nodes.
inline constexpr double kMaxDrift = 0.3;

// A drift in [-max_drift, max_drift) from a uniform draw `u` in [0, 1).
inline double DriftFromUniform(double u, double max_drift) {
  return u * (2 * max_drift) - max_drift;
}

// The largest drift d such that two clocks with drifts in [-d, d] differ in rate by
// at most `max_rate_ratio` (the faster one's rate over the slower one's):
// (1 + d) / (1 - d) <= max_rate_ratio.
inline double MaxDriftForRateRatio(double max_rate_ratio) {
  TRI_ASSERT(max_rate_ratio >= 1);
  return (max_rate_ratio - 1) / (max_rate_ratio + 1);
}

class TickClock {
 public:
  // drift in (-0.9, 0.9): the relative change of the tick period (see SetDrift).
  TickClock(SimTimeUs nominal_tick_us, double drift, SimTimeUs first_tick_us)
      : nominal_tick_us_(nominal_tick_us), next_tick_us_(first_tick_us) {
    TRI_ASSERT(nominal_tick_us_ > 0);
    SetDrift(drift);
  }

  SimTimeUs next_tick_us() const { return next_tick_us_; }
  SimTimeUs period_us() const { return period_us_; }
  double drift() const { return drift_; }
  std::uint64_t ticks() const { return ticks_; }

  bool Due(SimTimeUs now_us) const { return now_us >= next_tick_us_; }

  // Records one tick and schedules the next one period later.
  void OnTick() {
    ++ticks_;
    next_tick_us_ += period_us_;
  }

  // A drift of +0.25 makes the period 25% longer (the node's time runs slow).
  void SetDrift(double drift) {
    TRI_ASSERT(drift > -0.9 && drift < 0.9);
    drift_ = drift;
    period_us_ = std::max<SimTimeUs>(
        1,
        static_cast<SimTimeUs>(std::llround(static_cast<double>(nominal_tick_us_) * (1 + drift))));
  }

  // No tick before `until_us` (a pause, or a restart at that time).
  void ResumeAt(SimTimeUs until_us) { next_tick_us_ = until_us; }

 private:
  SimTimeUs nominal_tick_us_;
  SimTimeUs period_us_ = 0;
  double drift_ = 0;
  SimTimeUs next_tick_us_;
  std::uint64_t ticks_ = 0;
};

}  // namespace tri::sim
