#pragma once

// Workloads of `tri-sim steal` (steal_sim.h): node speeds and zones, and tasks
// with their work, home node and pinned flag, all drawn from a seed.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/rng.h"

namespace tri::sim {

enum class StealWorkload : std::uint8_t {
  kUniform,  // work uniform in [5, 25], homes hashed over every node (the control)
  kPareto,   // work Pareto(alpha 1.5, minimum 2): a heavy tail, homes hashed over every node
  kHuge,     // work uniform in [5, 25], and one task in 1,000 twenty times larger
  kHotspot,  // work uniform in [5, 25], every home hashed onto 1% of the nodes
};

const char* StealWorkloadName(StealWorkload workload);
// "uniform" | "pareto" | "huge" | "hotspot"; the error names the accepted words.
Result<StealWorkload> ParseStealWorkload(const std::string& text);

struct StealWorkloadOptions {
  std::uint32_t nodes = 1000;
  std::uint64_t tasks = 100'000;
  std::uint32_t zones = 4;
  double pinned_fraction = 0.02;
  double speed_min = 0.5;  // work units per ms
  double speed_max = 2.0;
};

struct SimNode {
  std::string name;
  std::string zone;
  double speed = 1.0;
};

struct SimTask {
  std::uint64_t id = 0;
  std::uint64_t work = 0;  // work units; a node of speed s runs it in ceil(work / s) ms
  std::uint32_t home = 0;  // the node it is queued on first (static hashing)
  bool pinned = false;
};

struct StealWorkloadSpec {
  std::vector<SimNode> nodes;
  std::vector<SimTask> tasks;  // ids 1..M, in arrival order
  std::uint64_t total_work = 0;
  std::uint64_t longest_work = 0;
  double total_speed = 0;
  double fastest_speed = 0;
  // The largest (pinned work of a node / its speed): pinned tasks cannot move.
  double pinned_bound_ms = 0;
  // max(total work / total speed, longest task / fastest speed, pinned bound),
  // in ms: no schedule finishes earlier.
  double LowerBoundMs() const;
};

StealWorkloadSpec MakeStealWorkload(StealWorkload kind, const StealWorkloadOptions& options,
                                    Rng& rng);

// Run time in ms of `work` on a node of `speed` (at least 1).
std::int64_t RunTimeMs(std::uint64_t work, double speed);

}  // namespace tri::sim
