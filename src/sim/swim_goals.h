#pragma once

// The goal scenarios of `tri-sim swim --goals` (issue 12, docs/membership.md):
// crash detection at N=100 and N=1,000 with 1% loss, false positives with 5%
// loss and 10% of members stalling 0.5-2 s (Lifeguard on and off), and
// dissemination and bandwidth at N=1,000 with 10% loss. Each scenario runs a
// range of seeds (in `jobs` threads) and pools the figures; the table says,
// per goal, the target, the measured figure and met / missed.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/swim_sim.h"

namespace tri::sim {

// Runs `base` for seeds first..last in `jobs` threads; results in seed order.
std::vector<SwimSimResult> RunSwimSeeds(const SwimSimOptions& base, std::uint64_t first,
                                        std::uint64_t last, int jobs);

// The figures of many seeds pooled into one result (vectors concatenated,
// counts and exposure summed, bandwidth averaged, the first failure kept).
SwimSimResult PoolSwimResults(const std::vector<SwimSimResult>& results);

struct SwimGoalOptions {
  std::uint64_t first_seed = 1;
  std::uint64_t last_seed = 1;
  int jobs = 1;
  // The core's tuning for every scenario (the Lifeguard switches are set per
  // scenario).
  membership::Config config;
  // Size of the false-positive scenario: members and simulated ms per seed.
  int fp_nodes = 100;
  Millis fp_duration_ms = 3'600'000;
  // Which scenarios to run: detect, fp, dissemination (comma-separated) or all.
  std::string only = "all";
};

// Runs the scenarios, prints each scenario's pooled line and the goal table;
// returns 0 when every scenario ran without a checker failure (a missed goal is
// a figure, not a failure), 1 otherwise.
int RunSwimGoals(const SwimGoalOptions& options);

}  // namespace tri::sim
