#include "sim/node_sim_cli.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/log.h"
#include "sim/child_run.h"
#include "sim/cli_args.h"

namespace tri::sim {
namespace {

// Runs one seed in a child process (child_run.h); the child prints the seed's line.
NodeSimResult RunIsolated(const NodeSimOptions& options, bool quiet) {
  return RunSeedIsolated<NodeSimResult>(
      [&] { return RunNodeSim(options); },
      [&](const NodeSimResult& r) { return FormatNodeSimResult(options, r); }, quiet);
}

}  // namespace

CLI::App* AddNodeSimCommand(CLI::App& app, NodeSimCommandLine* args) {
  CLI::App* node = app.add_subcommand(
      "node", "simulate a cluster of real nodes (NodeCore on the WAL) serving a KV workload");
  NodeSimOptions& o = args->options;
  node->add_option("--seed", o.seed, "seed of the run (replays exactly)");
  node->add_option("--seeds", args->seeds_text, "run many seeds: A..B (inclusive)");
  node->add_option("--nodes", o.nodes, "members of the cluster")->check(CLI::Range(1, 9));
  node->add_option("--ops", o.ops, "client operations per run");
  node->add_option("--clients", o.clients, "concurrent clients")->check(CLI::Range(1, 64));
  node->add_option("--keys", o.keys, "keys the clients use")->check(CLI::Range(1, 1000));
  node->add_option("--faults", args->faults_text,
                   "loss,dup,reorder,partition,crash,disk,drift | all | none");
  node->add_option("--inject-bug", args->bug_text,
                   "a deliberate bug: ack-before-sync (storage acks Sync without writing) | none");
  node->add_option("--expect-violation", args->expect_violation,
                   "succeed iff some seed fails with this invariant (e.g. linearizability; a "
                   "comma-separated list accepts any of them)");
  node->add_option("--settle-bound-ms", o.settle_bound_ms,
                   "simulated ms allowed after the faults stop for the cluster to settle");
  node->add_option("--snapshot-count", o.snapshot_count,
                   "a snapshot every this many applied entries")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  node->add_flag("--dup-proposals", o.duplicate_proposals,
                 "with the dup fault: duplicate forwarded proposals too (the TCP transport "
                 "never does; each copy applies, so linearizability fails)");
  node->add_flag("--restart-clock-frozen", o.restart_clock_frozen,
                 "a restarted node's wall clock resumes where it stopped (request ids repeat)");
  node->add_flag("--verbose", o.verbose, "log every fault");
  node->add_flag("--quiet", args->quiet, "with --seeds: print only failures and the summary");
  return node;
}

int RunNodeSimCommand(NodeSimCommandLine& args) {
  NodeSimOptions& options = args.options;
  // The storage logs its failures; under injected disk faults that is noise
  // unless the run is verbose.
  if (Status st = SetupLogging(options.verbose ? "warn" : "off"); !st.ok()) {
    fmt::print(stderr, "tri-sim node: {}\n", st.message());
    return 2;
  }
  auto faults = NodeFaultSet::Parse(args.faults_text);
  if (!faults.ok()) {
    fmt::print(stderr, "tri-sim node: {}\n", faults.status().message());
    return 2;
  }
  options.faults = *faults;
  auto bug = ParseNodeInjectedBug(args.bug_text);
  if (!bug.ok()) {
    fmt::print(stderr, "tri-sim node: {}\n", bug.status().message());
    return 2;
  }
  options.bug = *bug;
  std::uint64_t first = options.seed;
  std::uint64_t last = options.seed;
  if (!args.seeds_text.empty() && !ParseSeedRange(args.seeds_text, &first, &last)) {
    fmt::print(stderr, "tri-sim node: --seeds wants A..B with A <= B, got '{}'\n", args.seeds_text);
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> failed;
  std::vector<std::uint64_t> expected_hits;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    options.seed = seed;
    const NodeSimResult result = RunIsolated(options, args.quiet);
    if (!result.ok) {
      failed.push_back(seed);
      if (!args.expect_violation.empty() &&
          ExpectedViolation(args.expect_violation, result.violated)) {
        expected_hits.push_back(seed);
      }
    }
    std::fflush(stdout);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t runs = last - first + 1;
  if (runs > 1 || !args.expect_violation.empty()) {
    fmt::print("tri-sim node: {} seed(s) {}..{}, {} failed{}{}, {:.1f}s\n", runs, first, last,
               failed.size(), failed.empty() ? "" : ": ", fmt::format("{}", fmt::join(failed, " ")),
               seconds);
  }
  if (!args.expect_violation.empty()) {
    if (expected_hits.empty()) {
      fmt::print("tri-sim node: expected a '{}' violation, but no seed produced one\n",
                 args.expect_violation);
      return 1;
    }
    fmt::print("tri-sim node: '{}' caught, first at seed {}\n", args.expect_violation,
               expected_hits.front());
    return 0;
  }
  return failed.empty() ? 0 : 1;
}

}  // namespace tri::sim
