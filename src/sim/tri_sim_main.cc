// tri-sim: runs the deterministic cluster simulator from the command line.
//
//   tri-sim raft --seed 7 --nodes 3 --ops 200 --faults all
//   tri-sim raft --seeds 1..200 --nodes 5 --faults all
//   tri-sim raft --seeds 1..50 --inject-bug stale-read --expect-violation linearizability
//   tri-sim lincheck history.jsonl   (see sim/lincheck_command.h)
//   tri-sim node --seeds 1..20 --nodes 3 --faults all   (node_sim.h)
//   tri-sim saga --seed 1 --nodes 3 --sagas 50 --max-steps 50 --faults all   (saga_sim.h)
//   tri-sim coord --seed 1 --nodes 3 --clients 6 --faults all                 (coord_sim.h)
//   tri-sim placement --nodes 1000 --keys 1000000 --seed 1                     (placement_sim.h)
//   tri-sim steal --nodes 1000 --tasks 100000 --seed 1                       (steal_sim.h)
//   tri-sim swim --nodes 1000 --seed 1 --loss 0.01 --crashes 10               (swim_sim.h)
//   tri-sim swim --goals --seeds 1..4 --jobs 2                                (swim_goals.h)
//
// Exit status: 0 when every seed passes (or, with --expect-violation, when at
// least one seed fails with that invariant; the run stops at that seed); 1
// otherwise; 2 on bad arguments.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/cli_args.h"
#include "sim/coord_sim_cli.h"
#include "sim/lincheck_command.h"
#include "sim/node_sim_cli.h"
#include "sim/placement_sim_cli.h"
#include "sim/raft_sim.h"
#include "sim/saga_sim_cli.h"
#include "sim/steal_sim_cli.h"
#include "sim/swim_sim_cli.h"

int main(int argc, char** argv) {
  CLI::App app{"tri-sim: deterministic simulation of Trinity's cores under faults"};
  app.require_subcommand(1);
  CLI::App* raft = app.add_subcommand("raft", "simulate a Raft cluster serving a KV workload");

  tri::sim::RaftSimOptions options;
  std::string seeds_text;
  std::string faults_text = "none";
  std::string bug_text = "none";
  std::string expect_violation;
  bool quiet = false;
  raft->add_option("--seed", options.seed, "seed of the run (replays exactly)");
  raft->add_option("--seeds", seeds_text, "run many seeds: A..B (inclusive)");
  raft->add_option("--nodes", options.nodes, "voters in the cluster")->check(CLI::Range(1, 9));
  raft->add_option("--ops", options.ops, "client operations per run");
  raft->add_option("--clients", options.clients, "concurrent clients")->check(CLI::Range(1, 64));
  raft->add_option("--keys", options.keys, "keys the clients use")->check(CLI::Range(1, 1000));
  raft->add_option("--faults", faults_text,
                   "loss,dup,reorder,partition,crash,drift,transfer,membership | all | none");
  raft->add_option("--inject-bug", bug_text,
                   "a deliberate bug: forget-vote | stale-read | lazy-fsync (driver), "
                   "double-vote | commit-by-count | vote-not-persisted-same-term | "
                   "accept-stale-term-append | heartbeat-no-timer-reset | "
                   "learners-count-for-commit | read-before-own-term-commit (core) | none");
  raft->add_option("--expect-violation", expect_violation,
                   "succeed iff some seed fails with this invariant, stopping at that seed "
                   "(e.g. linearizability; "
                   "a comma-separated list accepts any of them)");
  raft->add_option("--liveness-bound-ticks", options.liveness_bound_ticks,
                   "ticks allowed after faults stop to elect a leader and commit");
  raft->add_flag("--lease-reads", options.lease_reads,
                 "serve reads from the leader lease (drift is then kept within its bound)");
  raft->add_flag("--drift-beyond-lease-bound", options.drift_beyond_lease_bound,
                 "with --lease-reads: full drift and clock pauses (stale reads expected)");
  raft->add_option("--new-leader-crashes", options.new_leader_crash_probability,
                   "with the crash fault: probability that a new leader crashes right after "
                   "its first append and its first commit (default 0)")
      ->check(CLI::Range(0.0, 1.0));
  bool no_idle_phases = false;
  raft->add_flag("--no-idle-phases", no_idle_phases,
                 "no fault-free idle phases (in which no election may happen)");
  raft->add_flag("--verbose", options.verbose, "log every fault");
  raft->add_flag("--quiet", quiet, "with --seeds: print only failures and the summary");
  tri::sim::NodeSimCommandLine node_args;
  CLI::App* node = tri::sim::AddNodeSimCommand(app, &node_args);
  tri::sim::SagaSimCommandLine saga_args;
  CLI::App* saga = tri::sim::AddSagaSimCommand(app, &saga_args);
  tri::sim::CoordSimCommandLine coord_args;
  CLI::App* coord = tri::sim::AddCoordSimCommand(app, &coord_args);
  tri::sim::PlacementSimCommandLine placement_args;
  CLI::App* placement = tri::sim::AddPlacementSimCommand(app, &placement_args);
  tri::sim::StealSimCommandLine steal_args;
  CLI::App* steal = tri::sim::AddStealSimCommand(app, &steal_args);
  tri::sim::SwimSimCommandLine swim_args;
  CLI::App* swim = tri::sim::AddSwimSimCommand(app, &swim_args);

  tri::sim::LincheckCommand lincheck(app);

  CLI11_PARSE(app, argc, argv);
  if (lincheck.Selected()) return lincheck.Run();
  if (node->parsed()) return tri::sim::RunNodeSimCommand(node_args);
  if (saga->parsed()) return tri::sim::RunSagaSimCommand(saga_args);
  if (coord->parsed()) return tri::sim::RunCoordSimCommand(coord_args);
  if (placement->parsed()) return tri::sim::RunPlacementSimCommand(placement_args);
  if (steal->parsed()) return tri::sim::RunStealSimCommand(steal_args);
  if (swim->parsed()) return tri::sim::RunSwimSimCommand(swim_args);

  auto faults = tri::sim::FaultSet::Parse(faults_text);
  if (!faults.ok()) {
    fmt::print(stderr, "tri-sim: {}\n", faults.status().message());
    return 2;
  }
  options.faults = *faults;
  options.idle_phases = !no_idle_phases;
  auto bug = tri::sim::ParseInjectedBug(bug_text);
  if (!bug.ok()) {
    fmt::print(stderr, "tri-sim: {}\n", bug.status().message());
    return 2;
  }
  options.bug = *bug;
  std::uint64_t first = options.seed;
  std::uint64_t last = options.seed;
  if (!seeds_text.empty() && !tri::sim::ParseSeedRange(seeds_text, &first, &last)) {
    fmt::print(stderr, "tri-sim: --seeds wants A..B with A <= B, got '{}'\n", seeds_text);
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> failed;
  std::vector<std::uint64_t> expected_hits;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    options.seed = seed;
    const tri::sim::RaftSimResult result = tri::sim::RunRaftSim(options);
    if (!result.ok) {
      failed.push_back(seed);
      if (!expect_violation.empty() &&
          tri::sim::ExpectedViolation(expect_violation, result.violated)) {
        expected_hits.push_back(seed);
      }
    }
    if (!result.ok || !quiet) {
      fmt::print("{}\n", tri::sim::FormatRaftSimResult(options, result));
      std::fflush(stdout);
    }
    if (!expected_hits.empty()) {
      last = seed;  // the expected violation is found: the rest adds nothing
      break;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t runs = last - first + 1;
  if (runs > 1 || !expect_violation.empty()) {
    fmt::print("tri-sim: {} seed(s) {}..{}, {} failed{}{}, {:.1f}s\n", runs, first, last,
               failed.size(), failed.empty() ? "" : ": ", fmt::format("{}", fmt::join(failed, " ")),
               seconds);
  }
  if (!expect_violation.empty()) {
    if (expected_hits.empty()) {
      fmt::print("tri-sim: expected a '{}' violation, but no seed produced one\n",
                 expect_violation);
      return 1;
    }
    fmt::print("tri-sim: '{}' caught, first at seed {}\n", expect_violation, expected_hits.front());
    return 0;
  }
  return failed.empty() ? 0 : 1;
}
