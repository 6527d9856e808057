#include "sim/steal_sim_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <vector>

#include "sim/cli_args.h"

namespace tri::sim {

namespace {

Result<std::vector<StealWorkload>> ParseWorkloads(const std::string& text) {
  if (text == "skewed") {
    return std::vector<StealWorkload>{StealWorkload::kPareto, StealWorkload::kHuge,
                                      StealWorkload::kHotspot};
  }
  if (text == "all") {
    return std::vector<StealWorkload>{StealWorkload::kUniform, StealWorkload::kPareto,
                                      StealWorkload::kHuge, StealWorkload::kHotspot};
  }
  std::vector<StealWorkload> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string word =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    TRI_ASSIGN_OR_RETURN(StealWorkload w, ParseStealWorkload(word));
    out.push_back(w);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// What the goal table summarizes, per workload, over the seeds run.
struct WorkloadTally {
  std::uint64_t runs = 0;
  double worst_stealing = 0;
  double sum_stealing = 0;
  double worst_static = 0;
  double sum_static = 0;
  std::uint64_t tasks_run = 0;
  std::uint64_t tasks_moved = 0;
  std::uint64_t tasks_shared = 0;
  std::uint64_t shares_declined = 0;
  std::uint64_t messages = 0;
  std::uint64_t requests = 0;
  std::uint64_t same_zone_requests = 0;
  // The run of the worst stealing ratio: where its longest task ran.
  double worst_longest_speed = 0;
  std::int64_t worst_longest_start_ms = 0;
  double worst_fastest_speed = 0;
};

void PrintGoalTable(const StealSimCommandLine& args, const std::vector<StealWorkload>& workloads,
                    const std::map<StealWorkload, WorkloadTally>& tallies,
                    std::uint64_t violations) {
  fmt::print(
      "\ngoal table (tri-sim steal, {} nodes, {} tasks, {} zones, loss {}, cost "
      "estimates {}):\n",
      args.options.shape.nodes, args.options.shape.tasks, args.options.shape.zones,
      args.options.loss, args.estimates_text);
  fmt::print("| goal | target | measured | verdict |\n|---|---|---|---|\n");
  for (StealWorkload w : workloads) {
    const auto it = tallies.find(w);
    if (it == tallies.end() || it->second.runs == 0) continue;
    const WorkloadTally& t = it->second;
    const char* name = StealWorkloadName(w);
    fmt::print(
        "| makespan / lower bound, stealing, {} | <= {:.2f} | worst {:.3f}, mean {:.3f} "
        "over {} seed(s) | {} |\n",
        name, args.goal_ratio, t.worst_stealing, t.sum_stealing / t.runs, t.runs,
        t.worst_stealing <= args.goal_ratio ? "met" : "missed");
    fmt::print(
        "| longest task in the worst stealing run, {} | reported | started at {} ms on a "
        "node of speed {:.2f} (fastest {:.2f}) | - |\n",
        name, t.worst_longest_start_ms, t.worst_longest_speed, t.worst_fastest_speed);
    fmt::print(
        "| makespan / lower bound, static hashing, {} | reference | worst {:.3f}, mean "
        "{:.3f} | stealing {:.1f}x faster (mean) |\n",
        name, t.worst_static, t.sum_static / t.runs, t.sum_static / t.sum_stealing);
    fmt::print(
        "| steal traffic, {} | reported | {:.0f} messages, {:.0f} tasks moved, {:.0f} "
        "offered to faster nodes ({:.0f} declined) per run, {:.0f}% of requests in the "
        "thief's zone | - |\n",
        name, static_cast<double>(t.messages) / t.runs, static_cast<double>(t.tasks_moved) / t.runs,
        static_cast<double>(t.tasks_shared) / t.runs,
        static_cast<double>(t.shares_declined) / t.runs,
        t.requests == 0 ? 0.0 : 100.0 * t.same_zone_requests / t.requests);
  }
  std::uint64_t tasks_run = 0;
  for (const auto& [w, t] : tallies)
    tasks_run += t.tasks_run;
  fmt::print(
      "| every task runs exactly once; pinned tasks stay; grant, share and in-flight bounds | "
      "0 violations | {} violation(s), {} tasks run | {} |\n",
      violations, tasks_run, violations == 0 ? "met" : "missed");
}

}  // namespace

CLI::App* AddStealSimCommand(CLI::App& app, StealSimCommandLine* args) {
  CLI::App* cmd = app.add_subcommand(
      "steal",
      "run skewed task workloads over nodes of random speeds with static hashing and with work "
      "stealing; report makespans against the lower bound, with checkers");
  StealSimOptions& o = args->options;
  cmd->add_option("--seed", o.seed, "seed of the run (replays exactly)");
  cmd->add_option("--seeds", args->seeds_text, "run many seeds: A..B (inclusive)");
  cmd->add_option("--nodes", o.shape.nodes,
                  "nodes (at most 5,000: every simulated node keeps state per peer, N^2 in all)")
      ->check(CLI::Range(2u, 5'000u));
  cmd->add_option("--tasks", o.shape.tasks, "tasks")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
  cmd->add_option("--zones", o.shape.zones, "zones (node i is in zone i mod zones)")
      ->check(CLI::Range(1u, 1000u));
  cmd->add_option("--workload", args->workloads_text,
                  "uniform | pareto | huge | hotspot, a comma-separated list, skewed (pareto, "
                  "huge, hotspot) or all");
  cmd->add_option("--pinned", o.shape.pinned_fraction, "fraction of tasks pinned to their home")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--estimates", args->estimates_text,
                  "cost estimates the policy sees: exact | noisy (x0.5..x2) | none (FIFO queues)");
  cmd->add_option("--loss", o.loss,
                  "probability that a message is lost (a lost grant returns to its sender)")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--max-inflight-steals", o.policy.max_inflight_steals,
                  "steal requests a node keeps in flight")
      ->check(CLI::Range(1u, 64u));
  cmd->add_option("--max-tasks-per-steal", o.policy.max_tasks_per_steal, "tasks one grant carries")
      ->check(CLI::Range(1u, 100'000u));
  cmd->add_option("--request-timeout-ms", o.policy.request_timeout_ms,
                  "a steal request unanswered this long stops counting as in flight")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));
  cmd->add_option("--steal-below-or-at", o.policy.steal_below_or_at,
                  "a node steals when its queue holds at most this many tasks")
      ->check(CLI::Range(0u, 1000u));
  cmd->add_option("--share-min-run-ms", o.policy.share_min_run_ms,
                  "offer a task to a faster node when its run here is at least this long "
                  "(0: never)")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--share-speedup", o.policy.share_speedup,
                  "offer only to a node this many times faster, and it accepts only if it "
                  "finishes the task this many times sooner")
      ->check(CLI::Range(1.0, 1000.0));
  cmd->add_option("--share-max-wait", o.policy.share_max_wait,
                  "a node accepts an offered task only if the work ahead of it is at most this "
                  "multiple of its cost")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--share-fanout", o.policy.share_fanout,
                  "offer to one of this many fastest eligible peers, at random")
      ->check(CLI::Range(1u, 100'000u));
  cmd->add_option("--max-share-offers", o.policy.max_share_offers,
                  "times a task may be offered at most")
      ->check(CLI::Range(0u, 7u));
  cmd->add_option("--inject-bug", args->bug_text,
                  "a deliberate bug: keep-granted-tasks (the victim keeps what it grants) | "
                  "grant-pinned-tasks | grant-everything (not half) | keep-offered-tasks (the "
                  "sender of an offer keeps the task) | none");
  cmd->add_option("--expect-violation", args->expect_violation,
                  "succeed iff some seed fails with this rule (a comma-separated list accepts "
                  "any of them); stops at the first such seed");
  cmd->add_option("--goal-ratio", args->goal_ratio,
                  "the goal: stealing's makespan within this multiple of the lower bound");
  cmd->add_flag("--require-goal", args->require_goal, "fail when a workload misses the goal");
  cmd->add_flag("--quiet", args->quiet, "print only failures, the summary and the goal table");
  return cmd;
}

int RunStealSimCommand(StealSimCommandLine& args) {
  auto workloads = ParseWorkloads(args.workloads_text);
  if (!workloads.ok()) {
    fmt::print(stderr, "tri-sim steal: --workload: {}\n", workloads.status().message());
    return 2;
  }
  auto bug = ParseStealInjectedBug(args.bug_text);
  if (!bug.ok()) {
    fmt::print(stderr, "tri-sim steal: {}\n", bug.status().message());
    return 2;
  }
  auto estimates = ParseCostEstimates(args.estimates_text);
  if (!estimates.ok()) {
    fmt::print(stderr, "tri-sim steal: {}\n", estimates.status().message());
    return 2;
  }
  StealSimOptions& options = args.options;
  options.bug = *bug;
  options.estimates = *estimates;
  std::map<StealWorkload, WorkloadTally> tallies;
  std::uint64_t violations = 0;
  const SeedBatch batch{.name = "steal",
                        .seed = options.seed,
                        .seeds_text = args.seeds_text,
                        .expect_violation = args.expect_violation,
                        .stop_at_expected = true};
  const int code = RunSeedBatch(batch, [&](std::uint64_t seed) {
    options.seed = seed;
    std::string first_violation;
    for (StealWorkload w : *workloads) {
      options.workload = w;
      const StealSimResult r = RunStealSim(options);
      if (!r.ok || !args.quiet) fmt::print("{}\n", FormatStealSimResult(options, r));
      if (!r.ok) {
        ++violations;
        fmt::print(
            "  replay: tri-sim steal --seed {} --workload {} --nodes {} --tasks {} "
            "--zones {} --pinned {} --loss {} --estimates {} --inject-bug {}\n",
            seed, StealWorkloadName(w), options.shape.nodes, options.shape.tasks,
            options.shape.zones, options.shape.pinned_fraction, options.loss, args.estimates_text,
            args.bug_text);
        if (first_violation.empty()) first_violation = r.violated;
        if (!args.expect_violation.empty()) break;
        continue;
      }
      WorkloadTally& t = tallies[w];
      const double stealing = r.stealing_run.makespan_ms / r.lower_bound_ms;
      const double fixed = r.static_run.makespan_ms / r.lower_bound_ms;
      ++t.runs;
      if (stealing > t.worst_stealing) {
        t.worst_stealing = stealing;
        t.worst_longest_speed = r.stealing_run.longest_task_speed;
        t.worst_longest_start_ms = r.stealing_run.longest_task_start_ms;
        t.worst_fastest_speed = r.fastest_speed;
      }
      t.sum_stealing += stealing;
      t.worst_static = std::max(t.worst_static, fixed);
      t.sum_static += fixed;
      t.tasks_run += r.stealing_run.tasks_run;
      t.tasks_moved += r.stealing_run.tasks_moved;
      t.tasks_shared += r.stealing_run.tasks_shared;
      t.shares_declined += r.stealing_run.shares_declined;
      t.messages += r.stealing_run.messages;
      t.requests += r.stealing_run.requests;
      t.same_zone_requests += r.stealing_run.same_zone_requests;
    }
    return first_violation;
  });
  if (code == 2 || !args.expect_violation.empty()) return code;
  PrintGoalTable(args, *workloads, tallies, violations);
  if (code == 0 && args.require_goal) {
    for (const auto& [w, t] : tallies) {
      if (t.runs > 0 && t.worst_stealing > args.goal_ratio) {
        fmt::print("tri-sim steal: goal missed on {}: {:.3f} > {:.2f}\n", StealWorkloadName(w),
                   t.worst_stealing, args.goal_ratio);
        return 1;
      }
    }
  }
  return code;
}

}  // namespace tri::sim
