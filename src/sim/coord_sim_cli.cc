#include "sim/coord_sim_cli.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>

#include "base/log.h"
#include "sim/child_run.h"
#include "sim/cli_args.h"

namespace tri::sim {

CLI::App* AddCoordSimCommand(CLI::App& app, CoordSimCommandLine* args) {
  CLI::App* cmd = app.add_subcommand(
      "coord",
      "simulate leases, fenced locks, barriers and watches on real nodes under faults, with "
      "checkers");
  CoordSimOptions& o = args->options;
  cmd->add_option("--seed", o.seed, "seed of the run (replays exactly)");
  cmd->add_option("--seeds", args->seeds_text, "run many seeds: A..B (inclusive)");
  cmd->add_option("--nodes", o.nodes, "members of the cluster")->check(CLI::Range(1, 9));
  cmd->add_option("--clients", o.clients, "lease and lock clients")->check(CLI::Range(1u, 1000u));
  cmd->add_option("--locks", o.locks, "lock names the clients compete for")
      ->check(CLI::Range(1u, 200u));
  cmd->add_option("--barriers", o.barriers, "barriers created over the run")
      ->check(CLI::Range(0u, 60u));
  cmd->add_option("--duration-ms", o.duration_ms, "simulated ms of client work under faults")
      ->check(CLI::Range(std::uint64_t{100}, std::uint64_t{3'600'000}));
  cmd->add_option("--quiet-ms", o.quiet_ms, "then simulated ms of client work without faults")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{3'600'000}));
  cmd->add_option("--faults", args->faults_text,
                  "loss,dup,reorder,partition,crash,disk,drift | all | none");
  cmd->add_option("--inject-bug", args->bug_text,
                  "a deliberate bug: ignore-keep-alives (the lease table does not extend a "
                  "lease on keep-alive) | grant-to-last-waiter (a freed lock passes to its last "
                  "waiter) | stale-fence-on-handover (a lock passed to a waiter keeps the old "
                  "holder's token in its fence key) | watcher-ignores-restore-epoch (the "
                  "watchers miss a snapshot that replaced the state) | none");
  cmd->add_option("--expect-violation", args->expect_violation,
                  "succeed iff some seed fails with this rule (a comma-separated list accepts "
                  "any of them); stops at the first such seed");
  cmd->add_option("--settle-bound-ms", o.settle_bound_ms,
                  "simulated ms allowed after the faults stop for the cluster to settle");
  cmd->add_option("--snapshot-count", o.snapshot_count,
                  "a snapshot every this many applied entries")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd->add_flag("--verbose", o.verbose, "log every fault");
  cmd->add_flag("--quiet", args->quiet, "with --seeds: print only failures and the summary");
  return cmd;
}

int RunCoordSimCommand(CoordSimCommandLine& args) {
  CoordSimOptions& options = args.options;
  if (Status st = SetupLogging(options.verbose ? "warn" : "off"); !st.ok()) {
    fmt::print(stderr, "tri-sim coord: {}\n", st.message());
    return 2;
  }
  auto faults = NodeFaultSet::Parse(args.faults_text);
  if (!faults.ok()) {
    fmt::print(stderr, "tri-sim coord: --faults: {}\n", faults.status().message());
    return 2;
  }
  options.faults = *faults;
  auto bug = ParseCoordInjectedBug(args.bug_text);
  if (!bug.ok()) {
    fmt::print(stderr, "tri-sim coord: {}\n", bug.status().message());
    return 2;
  }
  options.bug = *bug;
  const SeedBatch batch{.name = "coord",
                        .seed = options.seed,
                        .seeds_text = args.seeds_text,
                        .expect_violation = args.expect_violation,
                        .stop_at_expected = true};
  return RunSeedBatch(batch, [&](std::uint64_t seed) {
    options.seed = seed;
    // Each seed in a child process (child_run.h): a core assertion is that
    // seed's violation.
    const CoordSimResult result = RunSeedIsolated<CoordSimResult>(
        [&] { return RunCoordSim(options); },
        [&](const CoordSimResult& r) { return FormatCoordSimResult(options, r); }, args.quiet);
    return result.ok ? std::string() : result.violated;
  });
}

}  // namespace tri::sim
