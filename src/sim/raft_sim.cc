#include "sim/raft_sim.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "sim/idle_phase.h"
#include "sim/linearizability.h"
#include "sim/raft_invariants.h"
#include "sim/sim_cluster.h"
#include "sim/workload.h"

namespace tri::sim {
namespace {

constexpr SimTimeUs kStepUs = 1'000;  // the simulator's time resolution
constexpr SimTimeUs kDurabilityCheckEveryUs = 100'000;
constexpr SimTimeUs kLazySyncEveryUs = 50'000;  // kLazyFsync: background flush period
constexpr SimTimeUs kDrainAfterProbeUs = 3'000'000;

// Chooses and applies faults during the fault phase, from the run's Rng.
class Nemesis {
 public:
  Nemesis(const RaftSimOptions& options, Rng* rng, SimCluster* cluster)
      : options_(options), rng_(rng), cluster_(cluster) {
    NetworkConfig& net = cluster_->network().config();
    net.loss_probability = options_.faults.loss ? 0.03 : 0.0;
    net.duplicate_probability = options_.faults.dup ? 0.03 : 0.0;
    net.reorder = options_.faults.reorder;
    if (options_.faults.partition) actions_.push_back(Action::kPartition);
    if (options_.faults.crash) actions_.push_back(Action::kCrash);
    if (options_.faults.drift) actions_.push_back(Action::kDrift);
    if (options_.faults.crash) {
      cluster_->set_leader_crash_after_append_probability(0.02);
      cluster_->set_new_leader_crash_probability(options_.new_leader_crash_probability);
    }
    if (options_.faults.loss) actions_.push_back(Action::kLossBurst);
    if (options_.faults.transfer) actions_.push_back(Action::kTransfer);
    if (options_.faults.membership) actions_.push_back(Action::kMembership);
    next_us_ = NextGap();
  }

  std::uint64_t partitions() const { return partitions_; }

  void Step(SimTimeUs now_us) {
    // Restarts and heals are scheduled separately so that faults end by themselves.
    for (auto it = restart_at_.begin(); it != restart_at_.end();) {
      if (it->second <= now_us) {
        Log(now_us, fmt::format("restart node {}", it->first));
        cluster_->Restart(it->first, now_us);
        it = restart_at_.erase(it);
      } else {
        ++it;
      }
    }
    if (heal_at_us_ >= 0 && now_us >= heal_at_us_) {
      Log(now_us, "heal partition");
      cluster_->network().links().Heal();
      heal_at_us_ = -1;
    }
    if (loss_burst_end_us_ >= 0 && now_us >= loss_burst_end_us_) {
      cluster_->network().config().loss_probability = 0.03;
      loss_burst_end_us_ = -1;
    }
    // A crash right after granting a vote is the moment that tests whether
    // the vote was really made durable.
    for (SimNodeId voter : cluster_->TakeRecentVoters()) {
      if (options_.faults.crash && !actions_.empty() && rng_->Bernoulli(0.3) &&
          cluster_->IsUp(voter) && restart_at_.size() + 1 < cluster_->node_ids().size()) {
        cluster_->Crash(voter);
        cluster_->Restart(voter, now_us);  // an instant reboot
        Log(now_us, fmt::format("crash and reboot node {} right after it voted", voter));
      }
    }
    for (SimNodeId crashed : cluster_->TakeSuddenCrashes()) {
      const SimTimeUs down_us = rng_->Range(100'000, 1'500'000);
      restart_at_[crashed] = now_us + down_us;
      Log(now_us, fmt::format("leader {} crashed before sending its Ready, down {} ms", crashed,
                              down_us / 1000));
    }
    if (actions_.empty() || now_us < next_us_) return;
    next_us_ = now_us + NextGap();
    switch (actions_[rng_->Uniform(actions_.size())]) {
      case Action::kPartition:
        Partition(now_us);
        break;
      case Action::kCrash:
        CrashOne(now_us);
        break;
      case Action::kDrift:
        Drift(now_us);
        break;
      case Action::kTransfer: {
        const auto leader = cluster_->Leader();
        if (!leader) break;
        const auto ids = cluster_->node_ids();
        const SimNodeId target = ids[rng_->Uniform(ids.size())];
        if (target == *leader) break;
        const bool accepted = cluster_->TransferLeader(*leader, target);
        Log(now_us, fmt::format("transfer leadership {} -> {}{}", *leader, target,
                                accepted ? "" : " (refused)"));
        break;
      }
      case Action::kMembership: {
        const std::string change = cluster_->ChangeMembership();
        if (!change.empty()) Log(now_us, change);
        break;
      }
      case Action::kLossBurst:
        cluster_->network().config().loss_probability = 0.3;
        loss_burst_end_us_ = now_us + rng_->Range(50'000, 500'000);
        Log(now_us, "loss burst 30%");
        break;
    }
  }

  // Pauses every fault for an idle phase: partitions heal, crashed nodes restart,
  // clock pauses end, the network turns clean. Resume() brings the faults back.
  void Pause(SimTimeUs now_us) {
    for (const auto& [id, at] : restart_at_)
      cluster_->Restart(id, now_us);
    restart_at_.clear();
    for (SimNodeId crashed : cluster_->TakeSuddenCrashes())
      cluster_->Restart(crashed, now_us);
    (void)cluster_->TakeRecentVoters();
    cluster_->network().links().Heal();
    heal_at_us_ = -1;
    loss_burst_end_us_ = -1;
    NetworkConfig& net = cluster_->network().config();
    net.loss_probability = 0;
    net.duplicate_probability = 0;
    net.reorder = false;
    cluster_->set_leader_crash_after_append_probability(0);
    cluster_->set_new_leader_crash_probability(0);
    cluster_->UnpauseClocks(now_us);
    Log(now_us, "idle phase: faults and clients pause");
  }

  void Resume(SimTimeUs now_us) {
    NetworkConfig& net = cluster_->network().config();
    net.loss_probability = options_.faults.loss ? 0.03 : 0.0;
    net.duplicate_probability = options_.faults.dup ? 0.03 : 0.0;
    net.reorder = options_.faults.reorder;
    if (options_.faults.crash) {
      cluster_->set_leader_crash_after_append_probability(0.02);
      cluster_->set_new_leader_crash_probability(options_.new_leader_crash_probability);
    }
    next_us_ = now_us + NextGap();
    Log(now_us, "idle phase over: faults and clients resume");
  }

  // Ends every fault: partitions heal, nodes restart, the network turns clean.
  void StopAll(SimTimeUs now_us) {
    for (const auto& [id, at] : restart_at_)
      cluster_->Restart(id, now_us);
    restart_at_.clear();
    cluster_->network().links().Heal();
    heal_at_us_ = -1;
    loss_burst_end_us_ = -1;
    NetworkConfig& net = cluster_->network().config();
    net.loss_probability = 0;
    net.duplicate_probability = 0;
    actions_.clear();
    cluster_->set_leader_crash_after_append_probability(0);
    cluster_->set_new_leader_crash_probability(0);
    for (SimNodeId crashed : cluster_->TakeSuddenCrashes())
      cluster_->Restart(crashed, now_us);
    Log(now_us, "all faults stop");
  }

 private:
  enum class Action { kPartition, kCrash, kDrift, kLossBurst, kTransfer, kMembership };

  SimTimeUs NextGap() { return rng_->Range(50'000, 600'000); }

  void Log(SimTimeUs now_us, const std::string& what) {
    if (options_.verbose) fmt::print("[{:>9.3f}s] nemesis: {}\n", now_us / 1e6, what);
  }

  // Faults pick the leader half the time: that is where they hurt.
  SimNodeId PickTarget() {
    const auto leader = cluster_->Leader();
    if (leader && rng_->Bernoulli(0.5)) return *leader;
    const auto ids = cluster_->node_ids();
    return ids[rng_->Uniform(ids.size())];
  }

  void Partition(SimTimeUs now_us) {
    LinkTable& links = cluster_->network().links();
    if (links.IsPartitioned()) return;
    const auto ids = cluster_->node_ids();
    const SimNodeId target = PickTarget();
    std::string what;
    switch (rng_->Uniform(ids.size() >= 3 ? 4 : 2)) {
      case 0: {  // isolate one node (often the leader)
        links.PartitionSymmetric({target});
        what = fmt::format("isolate node {}", target);
        break;
      }
      case 1: {  // a random split
        std::set<SimNodeId> side;
        for (SimNodeId id : ids) {
          if (rng_->Bernoulli(0.5)) side.insert(id);
        }
        if (side.empty() || side.size() == ids.size()) side = {target};
        links.PartitionSymmetric(side);
        what = fmt::format("split off {} node(s) with node {}", side.size(), *side.begin());
        break;
      }
      case 2: {  // the target can hear but not be heard
        links.PartitionOneWay({target});
        what = fmt::format("one-way: node {} cannot send", target);
        break;
      }
      default: {  // a bridge node joins two halves that cannot talk
        std::set<SimNodeId> side_a;
        for (SimNodeId id : ids) {
          if (id != target && side_a.size() < (ids.size() - 1) / 2) side_a.insert(id);
        }
        links.PartitionBridge(target, side_a);
        what = fmt::format("bridge node {}", target);
        break;
      }
    }
    ++partitions_;
    heal_at_us_ = now_us + rng_->Range(100'000, 2'000'000);
    Log(now_us, what + " (" + links.DescribeCuts() + ")");
  }

  void CrashOne(SimTimeUs now_us) {
    const auto ids = cluster_->node_ids();
    if (restart_at_.size() + 1 >= ids.size()) return;  // keep one node up
    const SimNodeId target = PickTarget();
    if (!cluster_->IsUp(target)) return;
    cluster_->Crash(target);
    // Quick reboots are common, and they are the ones that find lost-state bugs.
    const SimTimeUs down_us =
        rng_->Bernoulli(0.5) ? rng_->Range(0, 30'000) : rng_->Range(100'000, 2'000'000);
    restart_at_[target] = now_us + down_us;
    Log(now_us, fmt::format("crash node {} for {} ms", target, down_us / 1000));
  }

  void Drift(SimTimeUs now_us) {
    const auto ids = cluster_->node_ids();
    const SimNodeId target = ids[rng_->Uniform(ids.size())];
    TickClock& clock = cluster_->clock(target);
    const double max_drift = cluster_->max_drift();
    if (rng_->Bernoulli(0.3)) {
      if (max_drift < kMaxDrift) {
        // Lease reads: a paused leader clock is unbounded drift. Skipped.
        Log(now_us, fmt::format("(no clock pause of node {}: lease reads)", target));
        return;
      }
      // A stalled process: no ticks for a while (GC pause, SIGSTOP).
      const SimTimeUs pause_us = rng_->Range(50'000, 1'000'000);
      clock.ResumeAt(std::max(clock.next_tick_us(), now_us) + pause_us);
      Log(now_us, fmt::format("pause node {} clock for {} ms", target, pause_us / 1000));
    } else {
      const double drift = DriftFromUniform(rng_->NextDouble(), max_drift);
      clock.SetDrift(drift);
      Log(now_us, fmt::format("node {} tick drift {:+.0f}%", target, drift * 100));
    }
  }

  const RaftSimOptions& options_;
  Rng* rng_;
  SimCluster* cluster_;
  std::vector<Action> actions_;
  SimTimeUs next_us_ = 0;
  SimTimeUs heal_at_us_ = -1;
  SimTimeUs loss_burst_end_us_ = -1;
  std::map<SimNodeId, SimTimeUs> restart_at_;
  std::uint64_t partitions_ = 0;
};

}  // namespace

Result<FaultSet> FaultSet::Parse(std::string_view list) {
  FaultSet f;
  if (list == "all") return All();
  if (list == "none" || list.empty()) return f;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view name = list.substr(start, comma - start);
    if (name == "loss") {
      f.loss = true;
    } else if (name == "dup") {
      f.dup = true;
    } else if (name == "reorder") {
      f.reorder = true;
    } else if (name == "partition") {
      f.partition = true;
    } else if (name == "crash") {
      f.crash = true;
    } else if (name == "drift") {
      f.drift = true;
    } else if (name == "transfer") {
      f.transfer = true;
    } else if (name == "membership") {
      f.membership = true;
    } else if (name == "all") {
      f = All();
    } else {
      return InvalidArgument(
          fmt::format("unknown fault '{}' (known: loss, dup, reorder, partition, crash, drift, "
                      "transfer, membership, all, none)",
                      name));
    }
    start = comma + 1;
  }
  return f;
}

std::string FaultSet::ToString() const {
  std::vector<std::string> names;
  if (loss) names.push_back("loss");
  if (dup) names.push_back("dup");
  if (reorder) names.push_back("reorder");
  if (partition) names.push_back("partition");
  if (crash) names.push_back("crash");
  if (drift) names.push_back("drift");
  if (transfer) names.push_back("transfer");
  if (membership) names.push_back("membership");
  if (names.size() == 8) return "all";
  if (names.empty()) return "none";
  return fmt::format("{}", fmt::join(names, ","));
}

Result<InjectedBug> ParseInjectedBug(std::string_view name) {
  if (name == "none") return InjectedBug::kNone;
  if (name == "forget-vote") return InjectedBug::kForgetVote;
  if (name == "stale-read") return InjectedBug::kStaleRead;
  if (name == "lazy-fsync") return InjectedBug::kLazyFsync;
  if (name == "double-vote") return InjectedBug::kDoubleVote;
  for (InjectedBug bug :
       {InjectedBug::kCommitByCount, InjectedBug::kVoteNotPersistedSameTerm,
        InjectedBug::kAcceptStaleTermAppend, InjectedBug::kHeartbeatNoTimerReset,
        InjectedBug::kLearnersCountForCommit, InjectedBug::kReadBeforeOwnTermCommit}) {
    if (name == InjectedBugName(bug)) return bug;
  }
  return InvalidArgument(
      fmt::format("unknown bug '{}' (known: none, forget-vote, stale-read, lazy-fsync, "
                  "double-vote, commit-by-count, vote-not-persisted-same-term, "
                  "accept-stale-term-append, heartbeat-no-timer-reset, "
                  "learners-count-for-commit, read-before-own-term-commit)",
                  name));
}

std::string_view InjectedBugName(InjectedBug bug) {
  switch (bug) {
    case InjectedBug::kNone:
      return "none";
    case InjectedBug::kForgetVote:
      return "forget-vote";
    case InjectedBug::kStaleRead:
      return "stale-read";
    case InjectedBug::kLazyFsync:
      return "lazy-fsync";
    case InjectedBug::kDoubleVote:
      return "double-vote";
    case InjectedBug::kCommitByCount:
      return "commit-by-count";
    case InjectedBug::kVoteNotPersistedSameTerm:
      return "vote-not-persisted-same-term";
    case InjectedBug::kAcceptStaleTermAppend:
      return "accept-stale-term-append";
    case InjectedBug::kHeartbeatNoTimerReset:
      return "heartbeat-no-timer-reset";
    case InjectedBug::kLearnersCountForCommit:
      return "learners-count-for-commit";
    case InjectedBug::kReadBeforeOwnTermCommit:
      return "read-before-own-term-commit";
  }
  return "?";
}

RaftSimResult RunRaftSim(const RaftSimOptions& options) {
  TRI_ASSERT(options.nodes >= 1);
  SeededRng rng(options.seed);
  RaftInvariants invariants(static_cast<std::size_t>(options.nodes));
  WorkloadConfig wc;
  wc.clients = options.clients;
  wc.keys = options.keys;
  wc.total_ops = options.ops;
  wc.attempt_timeout_us = options.tick_us * options.election_ticks * 4;
  std::vector<SimNodeId> ids;
  for (int i = 1; i <= options.nodes; ++i)
    ids.push_back(static_cast<SimNodeId>(i));
  SeededRng workload_rng(rng.Next());
  Workload workload(wc, ids, &workload_rng);
  SimCluster cluster(options, &rng, &workload, &invariants);
  Nemesis nemesis(options, &rng, &cluster);
  RaftSimResult result;

  SimTimeUs now = 0;
  auto step = [&] {
    now += kStepUs;
    cluster.Step(now);
    if (options.bug == InjectedBug::kLazyFsync && now % kLazySyncEveryUs == 0) cluster.SyncAll();
    if (now % kDurabilityCheckEveryUs == 0) {
      invariants.CheckCommittedDurable(cluster.DurableStorages());
    }
  };

  // Phase 1: the workload under faults, interrupted by idle phases (idle_phase.h).
  IdlePhaseConfig idle_config;
  idle_config.election_timeout_us = options.tick_us * options.election_ticks;
  idle_config.settle_bound_us = options.tick_us * options.liveness_bound_ticks;
  SeededRng idle_rng(rng.Next());
  IdlePhases idle(idle_config, &idle_rng, &cluster, &invariants);
  while (invariants.ok() && !workload.Done() && now < options.max_fault_phase_us) {
    if (options.idle_phases && idle.Due(now)) {
      nemesis.Pause(now);
      idle.Begin(now);
    }
    if (idle.active()) {
      step();
      if (idle.Step(now)) nemesis.Resume(now);
      continue;
    }
    nemesis.Step(now);
    workload.Tick(now, cluster);
    step();
  }

  // Phase 2: faults stop; a leader must be elected and a probe committed everywhere.
  if (invariants.ok()) {
    nemesis.StopAll(now);
    const SimTimeUs stopped_at = now;
    const SimTimeUs bound_us = options.tick_us * options.liveness_bound_ticks;
    std::uint64_t probe = 0;
    SimTimeUs last_probe_us = -1;
    const SimTimeUs reprobe_us = options.tick_us * options.election_ticks;
    bool live = false;
    while (invariants.ok() && now - stopped_at <= bound_us) {
      if (probe > 0 && cluster.ProbeAppliedEverywhere(1)) {
        live = true;
        break;
      }
      if (last_probe_us < 0 || now - last_probe_us >= reprobe_us) {
        if (cluster.ProposeProbe(probe + 1)) {
          ++probe;
          last_probe_us = now;
        }
      }
      workload.Tick(now, cluster);
      step();
    }
    if (invariants.ok()) {
      result.liveness_ticks = (now - stopped_at) / options.tick_us;
      if (!live) {
        const auto leader = cluster.Leader();
        result.ok = false;
        result.violated = "liveness";
        result.details = fmt::format(
            "{} ticks after every fault stopped, {} (probes proposed: {})",
            options.liveness_bound_ticks,
            leader
                ? fmt::format("node {} leads but the probe is not applied on every node", *leader)
                : std::string("no node is leader"),
            probe);
      }
    }
    // Let outstanding client operations finish on the healed cluster.
    const SimTimeUs drain_until = now + kDrainAfterProbeUs;
    while (invariants.ok() && result.ok && !workload.Done() && now < drain_until) {
      workload.Tick(now, cluster);
      step();
    }
  }
  if (invariants.ok()) invariants.CheckCommittedDurable(cluster.DurableStorages());
  if (invariants.ok()) invariants.CheckLogMatching(cluster.Storages());
  workload.Finish();

  result.simulated_us = now;
  result.committed_entries = invariants.committed_index();
  result.leaders = invariants.leaders_seen();
  result.max_term = invariants.max_term();
  result.ops_completed = workload.stats().completed;
  result.ops_timed_out = workload.stats().timed_out;
  result.ops_refused = workload.stats().refused;
  result.crashes = cluster.crashes();
  result.compactions = cluster.compactions();
  result.snapshots_installed = cluster.snapshots_installed();
  result.partitions = nemesis.partitions();
  result.idle_phases = idle.watched();
  const NetworkStats& ns = cluster.network().stats();
  result.messages_sent = ns.sent;
  result.messages_dropped = ns.lost + ns.dropped_partition + ns.dropped_node_down;

  if (!invariants.ok()) {
    result.ok = false;
    result.violated = invariants.violation().invariant;
    result.details = invariants.violation().details;
    return result;
  }
  if (!result.ok) return result;

  // Phase 3: the client history.
  const LinearizabilityResult lin = CheckKvLinearizability(workload.history());
  result.linearizability_steps = lin.search_steps;
  if (lin.verdict != LinearizabilityVerdict::kLinearizable) {
    result.ok = false;
    result.violated = lin.verdict == LinearizabilityVerdict::kNotLinearizable
                          ? "linearizability"
                          : "linearizability (inconclusive: search budget exhausted)";
    result.details = lin.explanation;
  }
  return result;
}

std::string ReplayArguments(const RaftSimOptions& o) {
  const RaftSimOptions defaults;
  std::string args = fmt::format("--seed {} --nodes {} --ops {} --faults {}", o.seed, o.nodes,
                                 o.ops, o.faults.ToString());
  if (o.clients != defaults.clients) args += fmt::format(" --clients {}", o.clients);
  if (o.keys != defaults.keys) args += fmt::format(" --keys {}", o.keys);
  if (o.lease_reads) args += " --lease-reads";
  if (o.drift_beyond_lease_bound) args += " --drift-beyond-lease-bound";
  if (o.new_leader_crash_probability != defaults.new_leader_crash_probability) {
    args += fmt::format(" --new-leader-crashes {}", o.new_leader_crash_probability);
  }
  if (o.liveness_bound_ticks != defaults.liveness_bound_ticks) {
    args += fmt::format(" --liveness-bound-ticks {}", o.liveness_bound_ticks);
  }
  if (!o.idle_phases) args += " --no-idle-phases";
  if (o.bug != InjectedBug::kNone) args += fmt::format(" --inject-bug {}", InjectedBugName(o.bug));
  return args;
}

std::string FormatRaftSimResult(const RaftSimOptions& o, const RaftSimResult& r) {
  const std::string head = fmt::format(
      "seed {} nodes {} ops {} faults {}{}{}{}{}", o.seed, o.nodes, o.ops, o.faults.ToString(),
      o.lease_reads ? " lease-reads" : "",
      o.lease_reads && o.drift_beyond_lease_bound ? " drift-beyond-lease-bound" : "",
      o.new_leader_crash_probability > 0
          ? fmt::format(" new-leader-crashes {}", o.new_leader_crash_probability)
          : std::string(),
      o.bug == InjectedBug::kNone ? std::string() : fmt::format(" bug {}", InjectedBugName(o.bug)));
  const std::string stats = fmt::format(
      "sim {:.2f}s, committed {}, terms {} leaders {}, ops ok {} timed-out {} refused {}, "
      "crashes {} partitions {}, compactions {} snapshots sent {}, msgs {} dropped {}, "
      "idle phases {}, liveness {} ticks",
      r.simulated_us / 1e6, r.committed_entries, r.max_term, r.leaders, r.ops_completed,
      r.ops_timed_out, r.ops_refused, r.crashes, r.partitions, r.compactions, r.snapshots_installed,
      r.messages_sent, r.messages_dropped, r.idle_phases, r.liveness_ticks);
  if (r.ok) return fmt::format("{}: ok ({})", head, stats);
  return fmt::format("{}: FAILED {}: {}\n  ({})\n  replay: tri-sim raft {}", head, r.violated,
                     r.details, stats, ReplayArguments(o));
}

}  // namespace tri::sim
