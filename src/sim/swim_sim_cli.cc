#include "sim/swim_sim_cli.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "sim/cli_args.h"
#include "sim/swim_goals.h"

namespace tri::sim {

CLI::App* AddSwimSimCommand(CLI::App& app, SwimSimCommandLine* args) {
  CLI::App* cmd = app.add_subcommand(
      "swim",
      "simulate N SWIM + Lifeguard members under loss, delay, partitions, stalls and crashes; "
      "measure detection, false positives, dissemination and bandwidth, with checkers");
  SwimSimOptions& o = args->options;
  membership::Config& c = o.config;
  SwimFaultOptions& f = o.faults;
  cmd->add_option("--seed", o.seed, "seed of the run (replays exactly)");
  cmd->add_option("--seeds", args->seeds_text, "run many seeds: A..B (inclusive)");
  cmd->add_option("--nodes", o.nodes, "members")->check(CLI::Range(2, 100000));
  cmd->add_option("--jobs", args->jobs, "seeds run side by side in threads")
      ->check(CLI::Range(1, 64));
  // The network.
  cmd->add_option("--loss", o.loss, "probability that a datagram is lost")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--delay-min-ms", o.delay_min_ms, "smallest one-way delay")
      ->check(CLI::Range(Millis{0}, Millis{60000}));
  cmd->add_option("--delay-max-ms", o.delay_max_ms, "largest one-way delay (before jitter)")
      ->check(CLI::Range(Millis{0}, Millis{60000}));
  cmd->add_option("--jitter-probability", o.jitter_probability,
                  "probability that a datagram is late by up to --jitter-ms more")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--jitter-ms", o.jitter_ms, "the most a late datagram adds")
      ->check(CLI::Range(Millis{0}, Millis{60000}));
  cmd->add_option("--stall-resume", args->stall_resume,
                  "after a stall: timers-first (late timers, then the buffered datagrams) | "
                  "packets-first")
      ->check(CLI::IsMember({"timers-first", "packets-first"}));
  cmd->add_option("--stall-buffer", o.stall_buffer_datagrams,
                  "datagrams a stalled member's socket buffers (the rest are dropped)");
  // Faults.
  cmd->add_option("--crashes", f.crashes, "members that crash in the faulty window")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--stall-fraction", f.stall_fraction, "fraction of members that stall")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--stall-min-ms", f.stall_min_ms, "shortest stall")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  cmd->add_option("--stall-max-ms", f.stall_max_ms, "longest stall")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  cmd->add_option("--stall-gap-ms", f.stall_mean_gap_ms,
                  "mean gap between one stall-prone member's stalls")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  cmd->add_option("--long-stalls", f.long_stalls,
                  "stalls of --long-stall-ms (past the suspicion timeout)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--long-stall-ms", f.long_stall_ms, "length of a long stall")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  cmd->add_option("--partitions", f.partitions, "partitions in the faulty window")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--partition-ms", f.partition_ms, "how long a partition lasts")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  // Phases and measurements.
  cmd->add_option("--join-spread-ms", o.join_spread_ms, "gap between two members' joins")
      ->check(CLI::Range(Millis{0}, Millis{60000}));
  cmd->add_option("--warmup-max-ms", o.warmup_max_ms,
                  "fail when the joins have not converged by then")
      ->check(CLI::Range(Millis{1000}, Millis{86'400'000}));
  cmd->add_option("--duration-ms", o.duration_ms, "simulated ms of the faulty window")
      ->check(CLI::Range(Millis{1000}, Millis{864'000'000}));
  cmd->add_option("--settle-ms", o.settle_ms,
                  "simulated ms after it, without new faults (-1: 2 x max suspicion + 30 s)")
      ->check(CLI::Range(Millis{-1}, Millis{86'400'000}));
  cmd->add_option("--updates", o.updates, "metadata updates timed to 99.99% of members")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--dissemination-timeout-ms", o.dissemination_timeout_ms,
                  "an update not at 99.99% of members by then counts as incomplete")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  cmd->add_option("--update-gap-ms", o.update_gap_ms, "gap between two updates")
      ->check(CLI::Range(Millis{1}, Millis{3'600'000}));
  cmd->add_option("--max-events", o.max_events, "bound on simulated events per seed");
  cmd->add_flag("--count-false-positives", o.count_false_positives,
                "count unexplained deaths as the false-positive figure instead of failing");
  // The core's tuning (membership::Config).
  cmd->add_flag("--no-lifeguard", args->no_lifeguard,
                "plain SWIM: local health, dogpile and buddy off");
  cmd->add_flag("--no-stall-handling", args->no_stall_handling,
                "the core's own stall handling off (stall_threshold 1 h, stall_grace 0, "
                "refute_after_stall off, refutation_retransmit_factor 1); with --no-lifeguard: "
                "plain SWIM");
  cmd->add_option("--probe-interval-ms", c.probe_interval, "Config::probe_interval");
  cmd->add_option("--probe-timeout-ms", c.probe_timeout, "Config::probe_timeout");
  cmd->add_option("--indirect-checks", c.indirect_checks, "Config::indirect_checks");
  cmd->add_option("--refutation-retransmit-factor", c.refutation_retransmit_factor,
                  "Config::refutation_retransmit_factor");
  cmd->add_option("--suspicion-mult", c.suspicion_multiplier, "Config::suspicion_multiplier");
  cmd->add_option("--suspicion-max-mult", c.suspicion_max_multiplier,
                  "Config::suspicion_max_multiplier");
  cmd->add_option("--suspicion-unit-ms", c.suspicion_unit, "Config::suspicion_unit");
  cmd->add_option("--suspicion-confirmations", c.suspicion_confirmations,
                  "Config::suspicion_confirmations");
  cmd->add_option("--confirmation-probes", c.confirmation_probes, "Config::confirmation_probes");
  cmd->add_option("--stall-threshold-ms", c.stall_threshold, "Config::stall_threshold");
  cmd->add_option("--stall-grace-ms", c.stall_grace, "Config::stall_grace");
  cmd->add_option("--retransmit-mult", c.retransmit_multiplier, "Config::retransmit_multiplier");
  cmd->add_option("--gossip-interval-ms", c.gossip_interval, "Config::gossip_interval");
  cmd->add_option("--gossip-fanout", c.gossip_fanout, "Config::gossip_fanout");
  cmd->add_option("--push-pull-interval-ms", c.push_pull_interval, "Config::push_pull_interval");
  // Checkers.
  cmd->add_option("--inject-bug", args->bug_text,
                  "a deliberate driver bug: mute-after-stall (a member's socket stays deaf and "
                  "mute long after a stall) | zombie-crash (a planned crash leaves the member "
                  "running) | none");
  cmd->add_option("--expect-violation", args->expect_violation,
                  "succeed iff some seed fails this check (e.g. 'no false positive', 'crash "
                  "detected by every member'); stops at the first such seed");
  cmd->add_flag("--quiet", args->quiet, "with --seeds: print only failures and the summary");
  // Goals.
  cmd->add_flag("--goals", args->goals,
                "run the issue's goal scenarios over --seeds and print the goal table");
  cmd->add_option("--goals-only", args->goals_only,
                  "detect,fp,dissemination | all (detect100 or detect1000: one size)");
  cmd->add_option("--fp-nodes", args->fp_nodes, "members in the false-positive scenario")
      ->check(CLI::Range(2, 100000));
  cmd->add_option("--fp-duration-ms", args->fp_duration_ms,
                  "simulated ms per seed of the false-positive scenario")
      ->check(CLI::Range(Millis{1000}, Millis{864'000'000}));
  return cmd;
}

int RunSwimSimCommand(SwimSimCommandLine& args) {
  SwimSimOptions& options = args.options;
  if (args.no_lifeguard) {
    options.config.lifeguard_local_health = false;
    options.config.lifeguard_dogpile = false;
    options.config.lifeguard_buddy = false;
  }
  options.stall_resume_timers_first = args.stall_resume == "timers-first";
  if (args.no_stall_handling) DisableStallHandling(options.config);
  if (Status st = options.config.Validate(); !st.ok()) {
    fmt::print(stderr, "tri-sim swim: {}\n", st.message());
    return 2;
  }
  if (options.delay_min_ms > options.delay_max_ms ||
      options.faults.stall_min_ms > options.faults.stall_max_ms) {
    fmt::print(stderr, "tri-sim swim: a --*-min-ms exceeds its --*-max-ms\n");
    return 2;
  }
  auto bug = ParseSwimBug(args.bug_text);
  if (!bug.ok()) {
    fmt::print(stderr, "tri-sim swim: {}\n", bug.status().message());
    return 2;
  }
  options.bug = *bug;
  std::uint64_t first = options.seed;
  std::uint64_t last = options.seed;
  if (!args.seeds_text.empty() && !ParseSeedRange(args.seeds_text, &first, &last)) {
    fmt::print(stderr, "tri-sim swim: --seeds wants A..B with A <= B, got '{}'\n", args.seeds_text);
    return 2;
  }
  if (args.goals) {
    SwimGoalOptions g;
    g.first_seed = first;
    g.last_seed = last;
    g.jobs = args.jobs;
    g.config = options.config;
    g.fp_nodes = args.fp_nodes;
    g.fp_duration_ms = args.fp_duration_ms;
    g.only = args.goals_only;
    return RunSwimGoals(g);
  }
  if (args.jobs > 1) {
    // Side by side: every seed runs, then the lines and the pooled figures.
    const auto start = std::chrono::steady_clock::now();
    const std::vector<SwimSimResult> results = RunSwimSeeds(options, first, last, args.jobs);
    int failed = 0;
    bool caught = false;
    for (std::size_t i = 0; i < results.size(); ++i) {
      SwimSimOptions shown = options;
      shown.seed = first + i;
      if (!results[i].ok) ++failed;
      if (!results[i].ok && !args.expect_violation.empty() &&
          ExpectedViolation(args.expect_violation, results[i].violated)) {
        caught = true;
      }
      if (!results[i].ok || !args.quiet) fmt::print("{}\n", FormatSwimSimResult(shown, results[i]));
    }
    SwimSimOptions shown = options;
    shown.seed = first;
    fmt::print("tri-sim swim: {} seed(s) {}..{}, {} failed, {:.1f}s; pooled:\n  {}\n",
               results.size(), first, last, failed,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               FormatSwimSimResult(shown, PoolSwimResults(results)));
    if (!args.expect_violation.empty()) {
      fmt::print("tri-sim swim: '{}' {}\n", args.expect_violation,
                 caught ? "caught" : "expected, but no seed produced it");
      return caught ? 0 : 1;
    }
    return failed == 0 ? 0 : 1;
  }
  const SeedBatch batch{.name = "swim",
                        .seed = options.seed,
                        .seeds_text = args.seeds_text,
                        .expect_violation = args.expect_violation,
                        .stop_at_expected = true};
  return RunSeedBatch(batch, [&](std::uint64_t seed) {
    options.seed = seed;
    const SwimSimResult result = RunSwimSim(options);
    if (!result.ok || !args.quiet) fmt::print("{}\n", FormatSwimSimResult(options, result));
    return result.ok ? std::string() : result.violated;
  });
}

}  // namespace tri::sim
