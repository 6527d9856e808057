#include "sim/placement_sim_cli.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>

#include "sim/cli_args.h"

namespace tri::sim {

CLI::App* AddPlacementSimCommand(CLI::App& app, PlacementSimCommandLine* args) {
  CLI::App* cmd = app.add_subcommand(
      "placement",
      "measure ring, bounded-load and rendezvous placement: load balance, keys moved on a join "
      "and a leave, with checkers and the goal table");
  PlacementSimOptions& o = args->options;
  cmd->add_option("--seed", o.seed, "seed of the run (replays exactly)");
  cmd->add_option("--seeds", args->seeds_text, "run many seeds: A..B (inclusive)");
  cmd->add_option("--nodes", o.nodes, "nodes")
      ->check(CLI::Range(std::size_t{2}, std::size_t{65'000}));
  cmd->add_option("--keys", o.keys, "keys placed")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  cmd->add_option("--zones", o.zones, "zones the nodes are spread over")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000}));
  cmd->add_option("--max-capacity", o.max_capacity, "capacities are uniform in 1..this")
      ->check(CLI::Range(1u, 64u));
  cmd->add_option("--vnodes", o.vnodes_per_capacity, "ring points per unit of capacity")
      ->check(CLI::Range(1u, 4'096u));
  cmd->add_option("--epsilon-permille", o.epsilon_permille,
                  "the bounded-load cap is (1 + this/1000) times a node's fair share")
      ->check(CLI::Range(1u, 1'000'000u));
  cmd->add_option("--shard-bits", o.shard_bits, "the shard table has 2^this shards")
      ->check(CLI::Range(1u, 24u));
  cmd->add_option("--replicas", o.replicas, "replicas per key (rendezvous and ring)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{16}));
  cmd->add_option("--rendezvous-keys", o.rendezvous_keys,
                  "keys whose replicas are chosen (each costs O(nodes))")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100'000'000}));
  cmd->add_option("--trials", o.trials, "joins and leaves measured (each)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100}));
  cmd->add_flag("--require-goals", o.require_goals, "a missed goal fails the run");
  cmd->add_option("--inject-bug", args->bug_text,
                  "a deliberate bug: ignore-cap (keys stay on their ring owner) | "
                  "zone-blind-replicas (rendezvous ignores zones) | none");
  cmd->add_option("--expect-violation", args->expect_violation,
                  "succeed iff some seed fails with this check (bounded-load-cap, replica-zones, "
                  "replica-count, goal; a comma-separated list accepts any)");
  return cmd;
}

int RunPlacementSimCommand(PlacementSimCommandLine& args) {
  PlacementSimOptions& options = args.options;
  if (args.bug_text == "ignore-cap") {
    options.bug_ignore_cap = true;
  } else if (args.bug_text == "zone-blind-replicas") {
    options.bug_zone_blind_replicas = true;
  } else if (args.bug_text != "none") {
    fmt::print(stderr,
               "tri-sim placement: unknown --inject-bug '{}' (ignore-cap, zone-blind-replicas, "
               "none)\n",
               args.bug_text);
    return 2;
  }
  SeedBatch batch{.name = "placement",
                  .seed = options.seed,
                  .seeds_text = args.seeds_text,
                  .expect_violation = args.expect_violation,
                  .stop_at_expected = true};
  return RunSeedBatch(batch, [&](std::uint64_t seed) {
    options.seed = seed;
    const PlacementSimResult result = RunPlacementSim(options);
    fmt::print("{}", result.report);
    if (!result.violated.empty()) {
      fmt::print("  FAILED {}: {}\n", result.violated, result.detail);
    } else {
      fmt::print("  checks passed (bounded-load cap, replica zones and counts)\n");
    }
    return result.violated;
  });
}

}  // namespace tri::sim
