#include "sim/saga_sim_cli.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "base/log.h"
#include "sim/child_run.h"
#include "sim/cli_args.h"

namespace tri::sim {
namespace {

// Runs one seed in a child process (child_run.h), so that a core assertion is
// that seed's violation; the child prints the seed's line when not quiet or failed.
SagaSimResult RunIsolated(const SagaSimOptions& options, bool quiet) {
  return RunSeedIsolated<SagaSimResult>(
      [&] { return RunSagaSim(options); },
      [&](const SagaSimResult& r) { return FormatSagaSimResult(options, r); }, quiet);
}

}  // namespace

CLI::App* AddSagaSimCommand(CLI::App& app, SagaSimCommandLine* args) {
  CLI::App* cmd = app.add_subcommand(
      "saga", "simulate durable sagas on a cluster of real nodes under faults, with checkers");
  SagaSimOptions& o = args->options;
  cmd->add_option("--seed", o.seed, "seed of the run (replays exactly)");
  cmd->add_option("--seeds", args->seeds_text, "run many seeds: A..B (inclusive)");
  cmd->add_option("--nodes", o.nodes, "members of the cluster")->check(CLI::Range(1, 9));
  cmd->add_option("--sagas", o.sagas, "sagas the clients start")->check(CLI::Range(1u, 100'000u));
  cmd->add_option("--max-steps", o.max_steps, "steps of the largest random saga")
      ->check(CLI::Range(1u, 1000u));
  cmd->add_option("--faults", args->faults_text,
                  "loss,dup,reorder,partition,crash,disk,drift,late | all | none");
  cmd->add_option("--inject-bug", args->bug_text,
                  "a deliberate bug: accept-stale-result (the saga table applies a result of "
                  "a superseded dispatch) | none");
  cmd->add_option("--expect-violation", args->expect_violation,
                  "succeed iff some seed fails with this rule (a comma-separated list accepts "
                  "any of them); stops at the first such seed");
  cmd->add_option("--settle-bound-ms", o.settle_bound_ms,
                  "simulated ms allowed after the faults stop for every saga to finish");
  cmd->add_option("--snapshot-count", o.snapshot_count,
                  "a snapshot every this many applied entries")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd->add_option("--redispatch-grace-ms", o.redispatch_grace_ms,
                  "a new leader's wait before re-dispatching an earlier leader's attempts");
  cmd->add_flag("--verbose", o.verbose, "log every fault");
  cmd->add_flag("--quiet", args->quiet, "with --seeds: print only failures and the summary");
  return cmd;
}

int RunSagaSimCommand(SagaSimCommandLine& args) {
  SagaSimOptions& options = args.options;
  if (Status st = SetupLogging(options.verbose ? "warn" : "off"); !st.ok()) {
    fmt::print(stderr, "tri-sim saga: {}\n", st.message());
    return 2;
  }
  if (Status st = ParseSagaFaults(args.faults_text, &options); !st.ok()) {
    fmt::print(stderr, "tri-sim saga: --faults: {}\n", st.message());
    return 2;
  }
  auto bug = ParseSagaInjectedBug(args.bug_text);
  if (!bug.ok()) {
    fmt::print(stderr, "tri-sim saga: {}\n", bug.status().message());
    return 2;
  }
  options.bug = *bug;
  const SeedBatch batch{.name = "saga",
                        .seed = options.seed,
                        .seeds_text = args.seeds_text,
                        .expect_violation = args.expect_violation,
                        .stop_at_expected = true};
  return RunSeedBatch(batch, [&](std::uint64_t seed) {
    options.seed = seed;
    const SagaSimResult result = RunIsolated(options, args.quiet);
    return result.ok ? std::string() : result.violated;
  });
}

}  // namespace tri::sim
