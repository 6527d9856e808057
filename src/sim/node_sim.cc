#include "sim/node_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "base/rng.h"
#include "sim/linearizability.h"
#include "sim/node_checkers.h"
#include "sim/node_cluster.h"
#include "sim/node_nemesis.h"
#include "sim/workload.h"

namespace tri::sim {
namespace {

// The simulator's step: every due message, tick and client action happens at
// the first step at or after its time.
constexpr SimTimeUs kStepUs = 1'000;
// Serializable reads: one every 5..40 ms through a random member.
constexpr SimTimeUs kSerializableReadMaxUs = 40'000;
// A final read that failed (leader change) is asked again this many times.
constexpr int kFinalReadAttempts = 20;

struct NamedFault {
  std::string_view name;
  bool NodeFaultSet::*flag;
};
constexpr NamedFault kFaultNames[] = {
    {"loss", &NodeFaultSet::loss},       {"dup", &NodeFaultSet::dup},
    {"reorder", &NodeFaultSet::reorder}, {"partition", &NodeFaultSet::partition},
    {"crash", &NodeFaultSet::crash},     {"disk", &NodeFaultSet::disk},
    {"drift", &NodeFaultSet::drift},
};

}  // namespace

Result<NodeFaultSet> NodeFaultSet::Parse(std::string_view list) {
  if (list == "all") return All();
  NodeFaultSet set;
  if (list == "none" || list.empty()) return set;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view name = list.substr(start, comma - start);
    bool known = false;
    for (const NamedFault& f : kFaultNames) {
      if (f.name == name) {
        set.*f.flag = true;
        known = true;
      }
    }
    if (!known) {
      return InvalidArgument(fmt::format(
          "--faults: unknown fault '{}' (want loss,dup,reorder,partition,crash,disk,drift, all "
          "or none)",
          name));
    }
    start = comma + 1;
  }
  return set;
}

std::string NodeFaultSet::ToString() const {
  std::string out;
  bool all = true;
  for (const NamedFault& f : kFaultNames) {
    if (!(this->*f.flag)) {
      all = false;
      continue;
    }
    if (!out.empty()) out += ",";
    out += f.name;
  }
  if (all) return "all";
  return out.empty() ? "none" : out;
}

Result<NodeInjectedBug> ParseNodeInjectedBug(std::string_view name) {
  if (name == "none") return NodeInjectedBug::kNone;
  if (name == "ack-before-sync") return NodeInjectedBug::kAckBeforeSync;
  return InvalidArgument(
      fmt::format("--inject-bug: unknown bug '{}' (want ack-before-sync or none)", name));
}

std::string_view NodeInjectedBugName(NodeInjectedBug bug) {
  switch (bug) {
    case NodeInjectedBug::kNone:
      return "none";
    case NodeInjectedBug::kAckBeforeSync:
      return "ack-before-sync";
  }
  return "unknown";
}

NodeSimResult RunNodeSim(const NodeSimOptions& options) {
  NodeSimResult result;
  SeededRng rng(options.seed);
  WorkloadConfig wc;
  wc.clients = options.clients;
  wc.total_ops = options.ops;
  wc.keys = options.keys;
  // No retries: the rsm has no client sessions, so a retried put could apply twice.
  // An attempt waits past the node's request timeout (1.5 s) so that the node's
  // answer, not the client's patience, decides most outcomes.
  wc.max_attempts = 1;
  wc.attempt_timeout_us = 2'000'000;
  std::vector<SimNodeId> ids;
  for (int i = 1; i <= options.nodes; ++i)
    ids.push_back(static_cast<SimNodeId>(i));
  Workload workload(wc, ids, &rng);
  ReplicaAgreement agreement;
  SerializableReadCheck serializable;
  NodeCluster cluster(options, &rng, &workload, &agreement, &serializable);
  NodeNemesis nemesis(options, &rng, &cluster);

  SimTimeUs now = 0;
  SimTimeUs next_serializable_us = rng.Range(5'000, kSerializableReadMaxUs);
  auto checkers_ok = [&] { return agreement.ok() && !cluster.recovery_violation(); };
  auto step = [&] {
    now += kStepUs;
    cluster.Step(now);
  };

  // Phase 1: the workload under faults.
  while (checkers_ok() && !workload.AllIssued()) {
    nemesis.Step(now);
    workload.Tick(now, cluster);
    if (now >= next_serializable_us) {
      cluster.ServeSerializableRead(ids[rng.Uniform(ids.size())],
                                    static_cast<KvKey>(rng.Uniform(options.keys)));
      next_serializable_us = now + rng.Range(5'000, kSerializableReadMaxUs);
    }
    step();
  }

  // Phase 2: faults stop; outstanding operations finish and the cluster settles.
  if (checkers_ok()) {
    nemesis.StopAll(now);
    const SimTimeUs stopped_at = now;
    const SimTimeUs bound_us = static_cast<SimTimeUs>(options.settle_bound_ms) * 1000;
    while (checkers_ok() && now - stopped_at <= bound_us &&
           !(workload.Done() && cluster.Settled())) {
      nemesis.RestartDue(now);
      workload.Tick(now, cluster);
      step();
    }
    if (checkers_ok() && !(workload.Done() && cluster.Settled())) {
      result.ok = false;
      result.violated = "liveness";
      result.details =
          fmt::format("{} ms after every fault stopped the cluster has not settled: {}",
                      options.settle_bound_ms, cluster.Describe());
    }
  }
  workload.Finish();
  KvHistory history = workload.history();

  // Phase 3: a linearizable read of every key through the leader; they join the
  // history after every client operation, so each acknowledged write must show.
  if (checkers_ok() && result.ok) {
    std::int64_t time = 0;
    for (const KvOperation& op : history) {
      time = std::max(time, op.call_time + 1);
      if (op.return_time != kNeverReturned) time = std::max(time, op.return_time + 1);
    }
    for (KvKey key = 0; key < options.keys && result.ok && checkers_ok(); ++key) {
      bool read = false;
      for (int attempt = 0; attempt < kFinalReadAttempts && !read && checkers_ok(); ++attempt) {
        const auto leader = cluster.Leader();
        std::optional<std::uint64_t> token;
        if (leader) token = cluster.StartFinalRead(*leader, key);
        const SimTimeUs deadline = now + 2'000'000;
        while (checkers_ok() && now < deadline && !(token && cluster.final_read(*token).done)) {
          step();
          if (!token) break;
        }
        if (!token || !cluster.final_read(*token).ok) continue;
        KvOperation op;
        op.id = history.size();
        op.client_id = options.clients;  // a client of its own
        op.kind = OpKind::kGet;
        op.key = key;
        op.outcome = OpOutcome::kOk;
        op.read_value = cluster.final_read(*token).value;
        op.call_time = time++;
        op.return_time = time++;
        op.call_sim_us = now;
        op.return_sim_us = now;
        history.push_back(op);
        read = true;
      }
      if (!read && checkers_ok()) {
        result.ok = false;
        result.violated = "liveness";
        result.details = fmt::format("the final read of key {} failed {} times: {}", key,
                                     kFinalReadAttempts, cluster.Describe());
      }
    }
    if (checkers_ok() && result.ok) {
      // Let every node apply what the reads committed, then compare their states.
      const SimTimeUs settle_until = now + static_cast<SimTimeUs>(options.settle_bound_ms) * 1000;
      while (checkers_ok() && !cluster.Settled() && now < settle_until)
        step();
      cluster.RecordAllStateHashes();
    }
  }

  result.simulated_us = now;
  result.committed_index = agreement.highest_committed();
  result.max_term = cluster.max_term();
  result.ops_completed = workload.stats().completed;
  result.ops_timed_out = workload.stats().timed_out;
  result.serializable_reads = serializable.recorded();
  result.hashes_compared = agreement.hashes_compared();
  result.parallel_apply = cluster.parallel_apply_stats();
  result.crashes = cluster.crashes();
  result.fatal_stops = cluster.fatal_stops();
  result.partitions = nemesis.partitions();
  const NetworkStats& ns = cluster.network().stats();
  result.messages_sent = ns.sent;
  result.messages_dropped = ns.lost + ns.dropped_partition + ns.dropped_node_down;

  if (!agreement.ok()) {
    result.ok = false;
    result.violated = agreement.violation().invariant;
    result.details = agreement.violation().details;
    return result;
  }
  if (cluster.recovery_violation()) {
    result.ok = false;
    result.violated = cluster.recovery_violation()->invariant;
    result.details = cluster.recovery_violation()->details;
    return result;
  }
  if (!result.ok) return result;

  // Serializable reads against the settled leader's MVCC history.
  const auto leader = cluster.Leader();
  if (leader) {
    const rsm::StateMachine& sm = cluster.core(*leader)->state_machine();
    auto reference = [&](const std::string& key, std::int64_t revision) {
      SerializableReadCheck::Reference ref;
      rsm::RangeRequest r;
      r.key = key;
      r.revision = revision;
      auto resp = sm.Range(r);
      if (!resp.ok()) {
        // Compacted revisions cannot be checked; one beyond the settled
        // cluster's revision was never committed.
        const std::int64_t current = sm.store().current_revision();
        if (revision <= current) return ref;
        ref.known = true;
        ref.value = fmt::format("<revision {} beyond the cluster's {}>", revision, current);
        return ref;
      }
      ref.known = true;
      if (!resp.value().kvs.empty()) ref.value = resp.value().kvs[0].value;
      return ref;
    };
    std::uint64_t checked = 0;
    const auto bad = serializable.Check(reference, &checked);
    result.serializable_checked = checked;
    if (bad) {
      result.ok = false;
      result.violated = bad->invariant;
      result.details = bad->details;
      return result;
    }
  }

  const LinearizabilityResult lin = CheckKvLinearizability(history);
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

namespace {

std::string ReplayArguments(const NodeSimOptions& o) {
  const NodeSimOptions defaults;
  std::string args = fmt::format("--seed {} --nodes {} --ops {} --faults {}", o.seed, o.nodes,
                                 o.ops, o.faults.ToString());
  if (o.clients != defaults.clients) args += fmt::format(" --clients {}", o.clients);
  if (o.keys != defaults.keys) args += fmt::format(" --keys {}", o.keys);
  if (o.duplicate_proposals) args += " --dup-proposals";
  if (o.restart_clock_frozen) args += " --restart-clock-frozen";
  if (o.parallel_apply_threads != 0) {
    args += fmt::format(
        " --parallel-apply-threads {} --parallel-apply-min-batch {} "
        "--parallel-apply-scheduler {}",
        o.parallel_apply_threads, o.parallel_apply_min_batch,
        txn::SchedulerName(o.parallel_apply_scheduler));
  }
  if (o.bug != NodeInjectedBug::kNone) {
    args += fmt::format(" --inject-bug {}", NodeInjectedBugName(o.bug));
  }
  return args;
}

}  // namespace

std::string FormatNodeSimResult(const NodeSimOptions& o, const NodeSimResult& r) {
  const std::string head = fmt::format(
      "node seed {} nodes {} ops {} faults {}{}", o.seed, o.nodes, o.ops, o.faults.ToString(),
      o.bug == NodeInjectedBug::kNone ? std::string()
                                      : fmt::format(" bug {}", NodeInjectedBugName(o.bug)));
  const std::string stats = fmt::format(
      "sim {:.2f}s, committed {}, term {}, ops ok {} timed-out {}, serializable reads {} "
      "(checked {}), hashes compared {}, crashes {} (storage stops {}), partitions {}, msgs {} "
      "dropped {}",
      r.simulated_us / 1e6, r.committed_index, r.max_term, r.ops_completed, r.ops_timed_out,
      r.serializable_reads, r.serializable_checked, r.hashes_compared, r.crashes, r.fatal_stops,
      r.partitions, r.messages_sent, r.messages_dropped);
  const std::string parallel =
      o.parallel_apply_threads == 0
          ? std::string()
          : fmt::format(", parallel apply: runs {} planned {} one by one {} fallbacks {}",
                        r.parallel_apply.runs, r.parallel_apply.planned_entries,
                        r.parallel_apply.serial_entries, r.parallel_apply.fallbacks);
  if (r.ok) return fmt::format("{}: ok ({}{})", head, stats, parallel);
  return fmt::format("{}: FAILED {}: {}\n  ({})\n  replay: tri-sim node {}", head, r.violated,
                     r.details, stats, ReplayArguments(o));
}

}  // namespace tri::sim
