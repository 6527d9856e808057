#pragma once

// One simulated run of durable sagas on a cluster of real nodes (`tri-sim
// saga`): the node simulation's cluster (node_cluster.h: server::NodeCore on
// the WAL over simulated disks, the simulated network, drifting tick clocks and
// wall clocks with different offsets) with, on every node, the leader's
// server::SagaExecutor (noop, sleep and fail actions on the executor's own
// timers; no action runner) proposing through the node like the real one, and
// clients that start the workload's sagas (saga_workload.h) through random
// members (followers forward) and abort some of them, retrying on failures.
// The nemesis (node_nemesis.h) partitions, crashes, fails disks and drifts
// clocks; the "late" fault proposes delayed copies of the executors' reports
// (dispatches and results) again through random members, the way a report held
// up in the network or by a deposed leader would arrive after the attempt moved
// on (stronger than the TCP transport alone: it exercises the dispatch-token
// fencing). Everything comes from one seed.
//
// Phases: faults while the sagas start and run; then every fault stops and the
// cluster must settle with every saga finished on every replica. Checked
// (saga_checkers.h): continuously, the committed log in order (no forward
// dispatch or result after the stop, no superseded result applied, a finished
// saga keeps its outcome), replica state hashes at equal applied indexes and
// every replica's event histories; at the end, every saga terminal on every
// replica with one outcome, the tables identical.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/node_sim.h"

namespace tri::sim {

enum class SagaInjectedBug : std::uint8_t {
  kNone = 0,
  // rsm::SagaOptions::TestingBugs::accept_stale_results: the saga table
  // applies a result whose dispatch token was superseded.
  kAcceptStaleResult,
};
Result<SagaInjectedBug> ParseSagaInjectedBug(std::string_view name);
std::string_view SagaInjectedBugName(SagaInjectedBug bug);

struct SagaSimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  std::uint32_t sagas = 50;
  std::uint32_t max_steps = 50;
  NodeFaultSet faults;
  bool late_reports = false;  // the "late" fault
  SagaInjectedBug bug = SagaInjectedBug::kNone;
  // Simulated time allowed after the faults stop for every saga to finish.
  std::uint64_t settle_bound_ms = 120'000;
  std::uint64_t snapshot_count = 64;
  // The executor's wait before re-dispatching an earlier leader's attempt
  // (short, so that re-dispatches happen within a run).
  std::uint64_t redispatch_grace_ms = 300;
  bool verbose = false;
};

// "loss,dup,reorder,partition,crash,disk,drift,late", "all" or "none".
Status ParseSagaFaults(std::string_view list, SagaSimOptions* options);
std::string SagaFaultsToString(const SagaSimOptions& options);

struct SagaSimResult {
  bool ok = true;
  std::string violated;  // the rule (saga_checkers.h), "liveness" or "simulator"
  std::string details;
  // Statistics for the summary.
  std::int64_t simulated_us = 0;
  std::uint64_t committed_index = 0;
  std::uint64_t max_term = 0;
  std::map<std::string, std::uint64_t> outcomes;  // outcome name -> sagas
  std::uint64_t steps = 0;                        // steps of all planned sagas
  std::uint64_t definitions = 0;                  // sagas registered before their start
  std::uint64_t starts_sent = 0;
  std::uint64_t aborts_accepted = 0;
  std::uint64_t aborts_too_late = 0;  // the saga had finished
  std::uint64_t dispatches = 0;
  std::uint64_t redispatches = 0;
  std::uint64_t results_applied = 0;
  std::uint64_t stale_results_refused = 0;
  std::uint64_t late_reports_sent = 0;
  std::uint64_t hashes_compared = 0;
  std::uint64_t history_checks = 0;
  // Times the observer went on from a replica's table over entries that only
  // snapshots held (saga_checkers.h, SagaLogObserver::ResyncFrom).
  std::uint64_t observer_resyncs = 0;
  std::uint64_t crashes = 0;
  std::uint64_t fatal_stops = 0;
  std::uint64_t partitions = 0;
};

SagaSimResult RunSagaSim(const SagaSimOptions& options);

// A summary (ok) or a failure report ending with a "replay: tri-sim saga ..." line.
std::string FormatSagaSimResult(const SagaSimOptions& options, const SagaSimResult& result);

}  // namespace tri::sim
