// bench_parallel_executor: the parallel transaction executor on the Block-STM
// paper's peer-to-peer workload (10,000 transfers per batch over 2, 10, 100,
// 1,000 and 10,000 accounts) and a read-heavy mix, bare and with a
// per-transaction compute knob that stands for VM execution. For every
// workload, scheduler and thread count: the median transactions/s of
// --reps runs and the speedup over the serial reference on the same batch in
// the same process; every parallel result must equal the serial one (exit 1
// otherwise). Then the goals, met or missed. bench/README.md.
//
//   bench_parallel_executor [--threads 1,2,16] [--reps 5] [--txns 10000]
//       [--accounts 2,10,100,1000,10000] [--read-heavy-accounts 100,10000|none]
//       [--modes bare,compute] [--compute ROUNDS] [--schedulers declared,optimistic]
//       [--seed N] [--no-trace-stats] [--json PATH]

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "measure.h"
#include "report.h"
#include "workload.h"

namespace tri::txn::bench {
namespace {

// How long each machine probe spins (before and after the measurements).
constexpr double kProbeSeconds = 0.3;

// Bounds on the flags: generous, enforced.
constexpr std::size_t kMaxRepetitions = 1000;
constexpr std::uint32_t kMaxAccounts = 10'000'000;
// A transaction's gas is its reads and writes (at most 6 here) plus the
// compute, and must stay within the default budget.
constexpr std::uint64_t kMaxComputeRounds = TxnLimits{}.default_gas_budget - 16;
// About 10 us per transaction serially on a 2020s x86 core: the order of a
// Move VM peer-to-peer transfer in the Block-STM paper.
constexpr std::uint64_t kDefaultComputeRounds = 5000;

struct Flags {
  std::vector<std::size_t> threads;
  std::size_t repetitions = 5;
  std::uint32_t txns = 10'000;
  std::vector<std::uint32_t> accounts = {2, 10, 100, 1'000, 10'000};
  // A comma-separated list, or "none".
  std::string read_heavy_accounts_list = "100,10000";
  std::vector<std::uint32_t> read_heavy_accounts;
  std::vector<std::string> modes = {"bare", "compute"};
  std::uint64_t compute_rounds = kDefaultComputeRounds;
  std::vector<std::string> schedulers = {"declared", "optimistic"};
  std::uint64_t seed = 1;
  bool no_trace_stats = false;
  std::string json_path;
};

// Sorted, duplicates removed.
template <typename T>
void Normalize(std::vector<T>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

// The usage error, or empty.
std::string Check(Flags& flags, std::vector<Scheduler>& schedulers,
                  std::vector<std::uint64_t>& rounds) {
  if (flags.read_heavy_accounts_list != "none") {
    std::size_t start = 0;
    while (start <= flags.read_heavy_accounts_list.size()) {
      std::size_t end = flags.read_heavy_accounts_list.find(',', start);
      if (end == std::string::npos) end = flags.read_heavy_accounts_list.size();
      const std::string item = flags.read_heavy_accounts_list.substr(start, end - start);
      std::uint32_t accounts = 0;
      const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), accounts);
      if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
        return fmt::format("--read-heavy-accounts: '{}' is not an account count (a list, or none)",
                           item);
      }
      flags.read_heavy_accounts.push_back(accounts);
      start = end + 1;
    }
  }
  Normalize(flags.threads);
  Normalize(flags.accounts);
  Normalize(flags.read_heavy_accounts);
  for (std::size_t threads : flags.threads) {
    if (threads < 1 || threads > kMaxThreads) {
      return fmt::format("--threads {} must be in 1..{}", threads, kMaxThreads);
    }
  }
  if (flags.repetitions < 1 || flags.repetitions > kMaxRepetitions) {
    return fmt::format("--reps {} must be in 1..{}", flags.repetitions, kMaxRepetitions);
  }
  const std::size_t max_batch = TxnLimits{}.max_batch_size;
  if (flags.txns < 1 || flags.txns > max_batch) {
    return fmt::format("--txns {} must be in 1..{} (TxnLimits::max_batch_size)", flags.txns,
                       max_batch);
  }
  for (const auto* list : {&flags.accounts, &flags.read_heavy_accounts}) {
    for (std::uint32_t accounts : *list) {
      if (accounts < 2 || accounts > kMaxAccounts) {
        return fmt::format("{} accounts must be in 2..{}", accounts, kMaxAccounts);
      }
    }
  }
  if (flags.compute_rounds < 1 || flags.compute_rounds > kMaxComputeRounds) {
    return fmt::format("--compute {} must be in 1..{}", flags.compute_rounds, kMaxComputeRounds);
  }
  for (const std::string& mode : flags.modes) {
    if (mode == "bare") {
      rounds.push_back(0);
    } else if (mode == "compute") {
      rounds.push_back(flags.compute_rounds);
    } else {
      return fmt::format("--modes: unknown mode '{}' (bare, compute)", mode);
    }
  }
  Normalize(rounds);
  for (const std::string& name : flags.schedulers) {
    if (name == "declared") {
      schedulers.push_back(Scheduler::kDeclared);
    } else if (name == "optimistic") {
      schedulers.push_back(Scheduler::kOptimistic);
    } else {
      return fmt::format("--schedulers: unknown scheduler '{}' (declared, optimistic)", name);
    }
  }
  Normalize(schedulers);
  if (schedulers.empty()) return "--schedulers names no scheduler";
  return "";
}

int Main(int argc, char** argv) {
  Machine machine = ReadMachine();
  Flags flags;
  flags.threads = {1, 2, machine.hardware_threads};
  CLI::App app("The parallel transaction executor against the serial reference");
  app.add_option("--threads", flags.threads, "thread counts (default 1,2,all hardware threads)")
      ->delimiter(',');
  app.add_option("--reps", flags.repetitions, "timed repetitions per configuration");
  app.add_option("--txns", flags.txns, "transactions per batch");
  app.add_option("--accounts", flags.accounts, "p2p account counts")->delimiter(',');
  app.add_option("--read-heavy-accounts", flags.read_heavy_accounts_list,
                 "account counts of the read-heavy mix, or none");
  app.add_option("--modes", flags.modes, "bare, compute")->delimiter(',');
  app.add_option("--compute", flags.compute_rounds,
                 "mix rounds (gas) per transaction in compute mode");
  app.add_option("--schedulers", flags.schedulers, "declared, optimistic")->delimiter(',');
  app.add_option("--seed", flags.seed, "workload seed");
  app.add_flag("--no-trace-stats", flags.no_trace_stats,
               "skip the traced run that counts executions per transaction");
  app.add_option("--json", flags.json_path, "also write the results as JSON to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::vector<Scheduler> schedulers;
  std::vector<std::uint64_t> rounds;
  if (std::string error = Check(flags, schedulers, rounds); !error.empty()) {
    std::fprintf(stderr, "bench_parallel_executor: %s\n", error.c_str());
    return 2;
  }

  MeasureOptions options;
  options.schedulers = schedulers;
  options.threads = flags.threads;
  options.repetitions = flags.repetitions;
  options.trace_stats = !flags.no_trace_stats;
  Result<ExecutorSet> executors = ExecutorSet::Create(options.threads);
  if (!executors.ok()) {
    std::fprintf(stderr, "bench_parallel_executor: %s\n", executors.status().ToString().c_str());
    return 2;
  }

  std::vector<WorkloadSpec> specs;
  for (std::uint64_t compute : rounds) {
    for (std::uint32_t accounts : flags.accounts) {
      specs.push_back(WorkloadSpec{.kind = WorkloadKind::kP2P,
                                   .accounts = accounts,
                                   .txns = flags.txns,
                                   .compute_rounds = compute,
                                   .seed = flags.seed});
    }
    for (std::uint32_t accounts : flags.read_heavy_accounts) {
      specs.push_back(WorkloadSpec{.kind = WorkloadKind::kReadHeavy,
                                   .accounts = accounts,
                                   .txns = flags.txns,
                                   .compute_rounds = compute,
                                   .seed = flags.seed});
    }
  }

  machine.probe_threads = std::min(flags.threads.back(), machine.hardware_threads);
  machine.cores_start = ProbeCores(machine.probe_threads, kProbeSeconds);
  fmt::print(
      "bench_parallel_executor: {} hardware threads ({}), load average {:.2f}, {} "
      "spinning threads got {:.2f} cores; {} txns per batch, {} repetitions, threads {}\n",
      machine.hardware_threads, machine.cpu_model, machine.load_start, machine.probe_threads,
      machine.cores_start, flags.txns, flags.repetitions, fmt::join(flags.threads, ","));
  for (std::size_t threads : flags.threads) {
    if (threads > machine.hardware_threads) {
      fmt::print("note: {} threads oversubscribe {} hardware threads\n", threads,
                 machine.hardware_threads);
    }
  }
  std::fflush(stdout);

  std::vector<WorkloadResult> results;
  for (const WorkloadSpec& spec : specs) {
    const Workload workload = MakeWorkload(spec);
    Result<WorkloadResult> result = Measure(workload, *executors, options);
    if (!result.ok()) {
      std::fprintf(stderr, "bench_parallel_executor: RESULT MISMATCH OR FAILURE: %s\n",
                   result.status().ToString().c_str());
      return 1;
    }
    fmt::print(
        "{} {} accounts {}: serial {:.2f} us/txn, critical path {} txns (speedup bound {:.1f}x)\n",
        workload.name, spec.accounts, ModeName(spec),
        result->serial_median_seconds * 1e6 / spec.txns, result->critical_path,
        static_cast<double>(spec.txns) / std::max<std::uint32_t>(result->critical_path, 1));
    std::fflush(stdout);
    results.push_back(std::move(result).value());
  }
  machine.load_end = ReadLoadAverage();

  const std::vector<Goal> goals = EvaluateGoals(results, schedulers, machine);
  machine.cores_end = ProbeCores(machine.probe_threads, kProbeSeconds);
  if (const std::optional<std::string> warning = BusyMachineWarning(machine)) {
    fmt::print("\n{}\n", *warning);
  }
  fmt::print("\n{}\nGoals (load average {:.2f} at start, {:.2f} at end):\n{}", FormatTable(results),
             machine.load_start, machine.load_end, FormatGoals(goals));
  if (!flags.json_path.empty()) {
    std::ofstream out(flags.json_path);
    out << ToJson(results, goals, machine, options).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "bench_parallel_executor: cannot write %s\n", flags.json_path.c_str());
      return 2;
    }
    fmt::print("JSON written to {}\n", flags.json_path);
  }
  return 0;
}

}  // namespace
}  // namespace tri::txn::bench

int main(int argc, char** argv) {
  return tri::txn::bench::Main(argc, argv);
}
