#include "sim/node_sim_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
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
  node->add_option("--parallel-apply-threads", o.parallel_apply_threads,
                   "apply runs of committed KV entries through a transaction executor with "
                   "this many threads (0: off)")
      ->check(CLI::Range(0u, static_cast<unsigned>(txn::kMaxThreads)));
  node->add_option("--parallel-apply-min-batch", o.parallel_apply_min_batch,
                   "shortest run of KV entries handed to the executor")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  node->add_option("--parallel-apply-scheduler", o.parallel_apply_scheduler,
                   "optimistic | declared | serial")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, txn::Scheduler>{{"optimistic", txn::Scheduler::kOptimistic},
                                                {"declared", txn::Scheduler::kDeclared},
                                                {"serial", txn::Scheduler::kSerial}},
          CLI::ignore_case));
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
  const SeedBatch batch{.name = "node",
                        .seed = options.seed,
                        .seeds_text = args.seeds_text,
                        .expect_violation = args.expect_violation,
                        .stop_at_expected = false};
  return RunSeedBatch(batch, [&](std::uint64_t seed) {
    options.seed = seed;
    const NodeSimResult result = RunIsolated(options, args.quiet);
    return result.ok ? std::string() : result.violated;
  });
}

}  // namespace tri::sim
