#include "sim/node_nemesis.h"

#include <fmt/format.h>

#include <set>
#include <vector>

#include "sim/tick_clock.h"

namespace tri::sim {
namespace {

// The nemesis acts every 50..400 ms while the workload runs.
constexpr SimTimeUs kNemesisMinUs = 50'000;
constexpr SimTimeUs kNemesisMaxUs = 400'000;
// A crashed node stays down 50..800 ms.
constexpr SimTimeUs kDownMinUs = 50'000;
constexpr SimTimeUs kDownMaxUs = 800'000;

// Disk faults while they are on: rare enough that nodes mostly run, frequent
// enough that every run stops some node on a failed fsync or write.
io::SimFaults ActiveDiskFaults() {
  io::SimFaults f;
  f.sync_error_probability = 0.002;
  f.write_error_probability = 0.0005;
  f.short_write_probability = 0.0005;
  f.crash_scatters_sectors = true;
  return f;
}

}  // namespace

NodeNemesis::NodeNemesis(const NodeSimOptions& options, Rng* rng, NodeCluster* cluster)
    : options_(options), rng_(rng), cluster_(cluster) {
  NetworkConfig& net = cluster_->network().config();
  if (options_.faults.loss) net.loss_probability = 0.02;
  if (options_.faults.dup) net.duplicate_probability = 0.02;
  net.reorder = options_.faults.reorder;
  if (options_.faults.disk) cluster_->SetDiskFaults(ActiveDiskFaults());
  next_action_us_ = rng_->Range(kNemesisMinUs, kNemesisMaxUs);
}

void NodeNemesis::Step(SimTimeUs now_us) {
  RestartDue(now_us);
  if (now_us < next_action_us_) return;
  next_action_us_ = now_us + rng_->Range(kNemesisMinUs, kNemesisMaxUs);
  std::vector<void (NodeNemesis::*)(SimTimeUs)> actions;
  if (options_.faults.partition) actions.push_back(&NodeNemesis::TogglePartition);
  if (options_.faults.crash) actions.push_back(&NodeNemesis::CrashSome);
  if (options_.faults.drift) actions.push_back(&NodeNemesis::DriftClock);
  if (actions.empty()) return;
  (this->*actions[rng_->Uniform(actions.size())])(now_us);
}

void NodeNemesis::StopAll(SimTimeUs now_us) {
  NetworkConfig& net = cluster_->network().config();
  net.loss_probability = 0;
  net.duplicate_probability = 0;
  net.reorder = false;
  cluster_->network().links().Heal();
  cluster_->SetDiskFaults(io::SimFaults{});
  for (SimNodeId id : cluster_->node_ids()) {
    cluster_->clock(id).SetDrift(0);
    if (!cluster_->IsUp(id)) cluster_->Restart(id, now_us);
  }
  restart_at_.clear();
}

void NodeNemesis::RestartDue(SimTimeUs now_us) {
  for (SimNodeId id : cluster_->node_ids()) {
    if (cluster_->IsUp(id)) {
      restart_at_.erase(id);
      continue;
    }
    auto [it, inserted] = restart_at_.try_emplace(id, now_us + rng_->Range(kDownMinUs, kDownMaxUs));
    if (!inserted && now_us >= it->second) {
      if (cluster_->Restart(id, now_us)) {
        restart_at_.erase(it);
      } else {
        it->second = now_us + rng_->Range(kDownMinUs, kDownMaxUs);
      }
    }
  }
}

void NodeNemesis::Log(const std::string& what) {
  if (options_.verbose) fmt::print("  {}\n", what);
}

void NodeNemesis::TogglePartition(SimTimeUs) {
  LinkTable& links = cluster_->network().links();
  if (links.IsPartitioned()) {
    links.Heal();
    Log("heal");
    return;
  }
  const std::vector<SimNodeId> ids = cluster_->node_ids();
  if (ids.size() < 2) return;
  std::set<SimNodeId> side;
  for (SimNodeId id : ids) {
    if (rng_->Bernoulli(0.5)) side.insert(id);
  }
  if (side.empty() || side.size() == ids.size()) side = {ids[rng_->Uniform(ids.size())]};
  const std::uint64_t kind = rng_->Uniform(3);
  if (kind == 0) {
    links.PartitionSymmetric(side);
  } else if (kind == 1) {
    links.PartitionOneWay(side);
  } else {
    const SimNodeId bridge = ids[rng_->Uniform(ids.size())];
    side.erase(bridge);
    if (side.empty()) return;
    links.PartitionBridge(bridge, side);
  }
  ++partitions_;
  Log("partition: " + links.DescribeCuts());
}

void NodeNemesis::CrashSome(SimTimeUs now_us) {
  const std::vector<SimNodeId> ids = cluster_->node_ids();
  const double dice = rng_->NextDouble();
  if (dice < 0.15) {
    // The whole cluster loses power at once: only what was synced survives.
    for (SimNodeId id : ids)
      cluster_->Crash(id, /*power_loss=*/true, now_us);
    return;
  }
  const SimNodeId victim = ids[rng_->Uniform(ids.size())];
  if (!cluster_->IsUp(victim)) return;
  if (dice < 0.5) {
    cluster_->ArmCrashAfterProcess(victim);
    Log(fmt::format("node {} will crash right after its next Process", victim));
  } else {
    cluster_->Crash(victim, rng_->Bernoulli(0.7), now_us);
  }
}

void NodeNemesis::DriftClock(SimTimeUs now_us) {
  const std::vector<SimNodeId> ids = cluster_->node_ids();
  const SimNodeId id = ids[rng_->Uniform(ids.size())];
  if (rng_->Bernoulli(0.2)) {
    // A stalled process: no tick for up to 600 ms.
    cluster_->clock(id).ResumeAt(now_us + rng_->Range(10'000, 600'000));
    Log(fmt::format("node {} clock pauses", id));
    return;
  }
  const double drift = DriftFromUniform(rng_->NextDouble(), kMaxDrift);
  cluster_->clock(id).SetDrift(drift);
  Log(fmt::format("node {} clock drift {:+.2f}", id, drift));
}

}  // namespace tri::sim
