#pragma once

// The fault injector of the node simulations (`tri-sim node`, `tri-sim saga`):
// while the workload runs it partitions links, crashes nodes (power loss,
// process stop, also right after a Process before its messages leave, or the
// whole cluster at once), fails fsyncs and writes, and drifts or pauses clocks,
// each chosen by NodeSimOptions::faults; it restarts stopped nodes after a
// while. StopAll ends every fault at once so the cluster can settle.

#include <cstdint>
#include <map>
#include <string>

#include "base/rng.h"
#include "sim/network.h"
#include "sim/node_cluster.h"
#include "sim/node_sim.h"

namespace tri::sim {

class NodeNemesis {
 public:
  // Not owned; all outlive the nemesis. Sets the network's and disks' fault
  // rates for the chosen faults.
  NodeNemesis(const NodeSimOptions& options, Rng* rng, NodeCluster* cluster);

  // Acts when its next action is due (every 50..400 ms) and restarts nodes
  // whose down time passed.
  void Step(SimTimeUs now_us);
  // Every fault stops: links heal, loss and duplication end, disks stop failing,
  // clocks run at nominal speed, and every node comes back.
  void StopAll(SimTimeUs now_us);
  // Nodes stopped by a storage failure (not by the nemesis) come back too.
  void RestartDue(SimTimeUs now_us);

  std::uint64_t partitions() const { return partitions_; }

 private:
  void Log(const std::string& what);
  void TogglePartition(SimTimeUs now_us);
  void CrashSome(SimTimeUs now_us);
  void DriftClock(SimTimeUs now_us);

  const NodeSimOptions& options_;
  Rng* rng_;
  NodeCluster* cluster_;
  SimTimeUs next_action_us_ = 0;
  std::map<SimNodeId, SimTimeUs> restart_at_;
  std::uint64_t partitions_ = 0;
};

}  // namespace tri::sim
