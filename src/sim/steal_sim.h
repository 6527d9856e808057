#pragma once

// `tri-sim steal`: the work-stealing policy (routing/steal_node.h) on a
// simulated cluster of nodes of random speeds in zones, with message delays,
// running a workload (steal_workload.h) twice from the same seed: once with
// static placement (every task runs on its home node; no stealing) and once
// with stealing. Reports each makespan against the lower bound. The checkers
// of the stealing run: every task runs exactly once ("task duplicated", "task
// lost"), a pinned task never leaves its home ("pinned task moved"), a grant
// takes at most half of the victim's stealable tasks rounded up and at most
// max_tasks_per_steal ("grant bound"), in-flight steals per node stay within
// max_inflight_steals ("in-flight bound"), an offer to a faster node (kShare)
// or its decline carries one unpinned task offered at most max_share_offers
// times ("share bound").
//
// The network delivers every message once after a delay (1-3 ms in a zone,
// 5-15 ms across zones). With `loss` > 0 a request or refusal is lost with that
// probability, and a grant is handed back to its sender after the delay (the
// acknowledged transfer a real transport provides, steal_node.h); so are an
// offer (kShare) and a decline, which carry a task too.

#include <cstdint>
#include <string>

#include "routing/steal_types.h"
#include "sim/steal_workload.h"

namespace tri::sim {

enum class StealInjectedBug : std::uint8_t {
  kNone,
  kKeepGrantedTasks,  // the victim keeps what it grants: duplicates
  kGrantPinnedTasks,  // pinned tasks are granted like others
  kGrantEverything,   // a grant takes every stealable task
  kKeepOfferedTasks,  // the sender of an offer keeps the task: duplicates
};
Result<StealInjectedBug> ParseStealInjectedBug(const std::string& text);

// What the policy is told of a task's cost: its exact work, the work times a
// factor uniform in [0.5, 2], or nothing (cost 0: every queue is FIFO).
enum class CostEstimates : std::uint8_t { kExact, kNoisy, kNone };
Result<CostEstimates> ParseCostEstimates(const std::string& text);

inline routing::StealOptions SimPolicyDefaults() {
  routing::StealOptions policy;
  policy.request_timeout_ms = 50;
  return policy;
}

struct StealSimOptions {
  std::uint64_t seed = 1;
  StealWorkload workload = StealWorkload::kPareto;
  StealWorkloadOptions shape;
  double loss = 0;
  CostEstimates estimates = CostEstimates::kExact;
  // The policy's defaults, except a request timeout of 50 ms: about three
  // times the longest round trip of the simulated network.
  routing::StealOptions policy = SimPolicyDefaults();
  StealInjectedBug bug = StealInjectedBug::kNone;
  // A run still unfinished at this multiple of the static makespan (plus a
  // minute) has lost tasks.
  double give_up_factor = 20;
};

struct StealRunResult {
  std::int64_t makespan_ms = 0;
  std::uint64_t tasks_run = 0;
  double longest_task_speed = 0;  // speed of the node that ran the longest task
  std::int64_t longest_task_start_ms = 0;
  std::uint64_t messages = 0;
  std::uint64_t tasks_moved = 0;  // tasks granted
  std::uint64_t grants_returned = 0;
  std::uint64_t tasks_shared = 0;  // offers to faster nodes (kShare)
  std::uint64_t shares_declined = 0;
  std::uint64_t requests_timed_out = 0;
  std::uint64_t same_zone_requests = 0;
  std::uint64_t requests = 0;
  bool ok = true;
  std::string violated;
  std::string details;
};

struct StealSimResult {
  double lower_bound_ms = 0;
  std::uint64_t total_work = 0;
  std::uint64_t longest_work = 0;
  double fastest_speed = 0;
  StealRunResult static_run;
  StealRunResult stealing_run;
  // For the seed batch (child_run.h).
  bool ok = true;
  std::string violated;
  std::string details;
};

StealSimResult RunStealSim(const StealSimOptions& options);

// One line per run, for a batch: seed, workload, makespans / lower bound, verdict.
std::string FormatStealSimResult(const StealSimOptions& options, const StealSimResult& r);

}  // namespace tri::sim
