#include "report.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

namespace tri::txn::bench {

namespace {

constexpr std::uint32_t kLargeAccounts = 10'000;
constexpr std::uint32_t kSmallAccounts = 2;
constexpr double kTwoThreadGoal = 1.8;
constexpr double kContendedGoal = 0.9;
constexpr double kSixteenThreadGoal = 8.0;
constexpr std::size_t kSixteen = 16;

const char* StatusName(GoalStatus status) {
  switch (status) {
    case GoalStatus::kMet:
      return "met";
    case GoalStatus::kMissed:
      return "MISSED";
    case GoalStatus::kNotMeasured:
      return "not measured";
  }
  return "unknown";
}

double SerialMicrosPerTxn(const WorkloadResult& result) {
  return result.serial_median_seconds * 1e6 / result.spec.txns;
}

const WorkloadResult* FindP2P(const std::vector<WorkloadResult>& results, std::uint32_t accounts,
                              bool compute) {
  for (const WorkloadResult& result : results) {
    if (result.spec.kind == WorkloadKind::kP2P && result.spec.accounts == accounts &&
        (result.spec.compute_rounds > 0) == compute) {
      return &result;
    }
  }
  return nullptr;
}

const ConfigResult* FindConfig(const WorkloadResult& result, Scheduler scheduler,
                               std::size_t threads) {
  for (const ConfigResult& config : result.configs) {
    if (config.scheduler == scheduler && config.threads == threads) return &config;
  }
  return nullptr;
}

std::string ModeDetail(const WorkloadResult& result) {
  if (result.spec.compute_rounds == 0) return "bare";
  return fmt::format("compute {} rounds, {:.1f} us/txn serial", result.spec.compute_rounds,
                     SerialMicrosPerTxn(result));
}

// One goal: `speedup` of the configuration against `target`.
Goal SpeedupGoal(std::string name, std::string mode, Scheduler scheduler,
                 const WorkloadResult* workload, std::size_t threads, double target) {
  Goal goal{std::move(name), std::move(mode), std::string(SchedulerName(scheduler)),
            GoalStatus::kNotMeasured, ""};
  if (workload == nullptr) {
    goal.detail = "workload not run";
    return goal;
  }
  const ConfigResult* config = FindConfig(*workload, scheduler, threads);
  if (config == nullptr) {
    goal.detail = fmt::format("{} threads not in --threads", threads);
  } else if (!config->unavailable.empty()) {
    goal.detail = config->unavailable;
  } else {
    goal.status = config->speedup >= target ? GoalStatus::kMet : GoalStatus::kMissed;
    goal.detail = fmt::format("{:.2f}x, the run got {:.2f} cores ({})", config->speedup,
                              config->median_cores_used, ModeDetail(*workload));
  }
  return goal;
}

}  // namespace

double ReadLoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (!(in >> load)) return -1;
  return load;
}

Machine ReadMachine() {
  Machine machine;
  machine.hardware_threads = std::max(1u, std::thread::hardware_concurrency());
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) machine.cpu_model = line.substr(colon + 2);
      break;
    }
  }
  machine.load_start = ReadLoadAverage();
  return machine;
}

double ProbeCores(std::size_t threads, double seconds) {
  std::atomic<bool> stop{false};
  // Each spinner adds its result here, so the work cannot be optimized away.
  std::atomic<std::uint64_t> sink{0};
  auto spin = [&stop, &sink] {
    std::uint64_t x = 1;
    while (!stop.load(std::memory_order_relaxed))
      x = ComputeMix(x, 64);
    sink.fetch_add(x, std::memory_order_relaxed);
  };
  const double cpu_start = ProcessCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> spinners;
  for (std::size_t i = 1; i < threads; ++i)
    spinners.emplace_back(spin);
  std::thread stopper([&stop, seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop.store(true);
  });
  spin();
  stopper.join();
  for (std::thread& spinner : spinners)
    spinner.join();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return (ProcessCpuSeconds() - cpu_start) / wall;
}

std::optional<std::string> BusyMachineWarning(const Machine& machine) {
  // Below this share of a core per spinning thread the machine was busy.
  constexpr double kBusyShare = 0.75;
  if (machine.probe_threads == 0) return std::nullopt;
  const double cores = std::min(machine.cores_start, machine.cores_end);
  if (cores >= kBusyShare * static_cast<double>(machine.probe_threads)) return std::nullopt;
  return fmt::format(
      "WARNING: {} spinning threads got only {:.2f} cores before and {:.2f} after the "
      "measurements (other processes held the rest): multi-threaded speedups measure the "
      "machine's load, not the schedulers; see 'cores used' and 'CPU / serial CPU'",
      machine.probe_threads, machine.cores_start, machine.cores_end);
}

std::string ModeName(const WorkloadSpec& spec) {
  return spec.compute_rounds == 0 ? "bare" : "compute";
}

std::vector<Goal> EvaluateGoals(const std::vector<WorkloadResult>& results,
                                const std::vector<Scheduler>& schedulers, const Machine& machine) {
  std::vector<Goal> goals;
  for (bool compute : {false, true}) {
    const WorkloadResult* large = FindP2P(results, kLargeAccounts, compute);
    const WorkloadResult* small = FindP2P(results, kSmallAccounts, compute);
    if (large == nullptr && small == nullptr) continue;
    const std::string mode = compute ? "compute" : "bare";
    for (Scheduler scheduler : schedulers) {
      Goal two = SpeedupGoal("p2p 10000 accounts, 2 threads: >= 1.8x serial", mode, scheduler,
                             large, 2, kTwoThreadGoal);
      if (machine.hardware_threads < 2) {
        two.status = GoalStatus::kNotMeasured;
        two.detail = "not measured here (1 core)";
      }
      goals.push_back(std::move(two));

      // Every measured thread count above one must hold 0.9x serial.
      Goal contended{"p2p 2 accounts, every thread count > 1: >= 0.9x serial", mode,
                     std::string(SchedulerName(scheduler)), GoalStatus::kNotMeasured, ""};
      if (small == nullptr) {
        contended.detail = "workload not run";
      } else {
        std::vector<std::string> figures;
        bool any = false;
        bool all_met = true;
        for (const ConfigResult& config : small->configs) {
          if (config.scheduler != scheduler || config.threads < 2) continue;
          if (!config.unavailable.empty()) {
            contended.detail = config.unavailable;
            any = false;
            break;
          }
          any = true;
          all_met = all_met && config.speedup >= kContendedGoal;
          figures.push_back(fmt::format("{} threads {:.2f}x (got {:.2f} cores)", config.threads,
                                        config.speedup, config.median_cores_used));
        }
        if (any) {
          contended.status = all_met ? GoalStatus::kMet : GoalStatus::kMissed;
          contended.detail = fmt::format("{} ({})", fmt::join(figures, ", "), ModeDetail(*small));
        } else if (contended.detail.empty()) {
          contended.detail = "no thread count above 1 in --threads";
        }
      }
      goals.push_back(std::move(contended));

      Goal sixteen = SpeedupGoal("p2p 10000 accounts, 16 threads: >= 8x serial", mode, scheduler,
                                 large, kSixteen, kSixteenThreadGoal);
      if (machine.hardware_threads < kSixteen) {
        sixteen.status = GoalStatus::kNotMeasured;
        sixteen.detail = fmt::format("not measured here ({} cores)", machine.hardware_threads);
      }
      goals.push_back(std::move(sixteen));
    }
  }
  return goals;
}

std::string FormatTable(const std::vector<WorkloadResult>& results) {
  std::string out =
      "| workload | accounts | mode | serial us/txn | serial txn/s | scheduler | threads | "
      "txn/s (median) | speedup | cores used | CPU / serial CPU | executions/txn |\n"
      "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (const WorkloadResult& result : results) {
    for (const ConfigResult& config : result.configs) {
      std::string figures;
      if (!config.unavailable.empty()) {
        figures = fmt::format("{} | - | - | - | - |", config.unavailable);
      } else {
        figures = fmt::format("{:.0f} | {:.2f}x | {:.2f} | {:.2f} | {} |", config.txns_per_second,
                              config.speedup, config.median_cores_used, config.cpu_ratio,
                              config.executions_per_txn
                                  ? fmt::format("{:.3f}", *config.executions_per_txn)
                                  : std::string("-"));
      }
      out += fmt::format("| {} | {} | {} | {:.2f} | {:.0f} | {} | {} | {}\n", result.name,
                         result.spec.accounts, ModeName(result.spec), SerialMicrosPerTxn(result),
                         result.serial_txns_per_second, SchedulerName(config.scheduler),
                         config.threads, figures);
    }
  }
  return out;
}

std::string FormatGoals(const std::vector<Goal>& goals) {
  std::string out;
  for (const Goal& goal : goals) {
    out += fmt::format("{:<12} {:<7} {:<10} {}: {}\n", StatusName(goal.status), goal.mode,
                       goal.scheduler, goal.name, goal.detail);
  }
  return out;
}

nlohmann::json ToJson(const std::vector<WorkloadResult>& results, const std::vector<Goal>& goals,
                      const Machine& machine, const MeasureOptions& options) {
  nlohmann::json doc;
  doc["machine"] = {{"hardware_threads", machine.hardware_threads},
                    {"cpu_model", machine.cpu_model},
                    {"load_average_start", machine.load_start},
                    {"load_average_end", machine.load_end},
                    {"probe_threads", machine.probe_threads},
                    {"cores_available_start", machine.cores_start},
                    {"cores_available_end", machine.cores_end}};
  doc["repetitions"] = options.repetitions;
  doc["threads"] = options.threads;
  nlohmann::json& workloads = doc["workloads"] = nlohmann::json::array();
  for (const WorkloadResult& result : results) {
    nlohmann::json w = {{"workload", result.name},
                        {"accounts", result.spec.accounts},
                        {"txns", result.spec.txns},
                        {"mode", ModeName(result.spec)},
                        {"compute_rounds", result.spec.compute_rounds},
                        {"seed", result.spec.seed},
                        {"serial_seconds", result.serial_seconds},
                        {"serial_cpu_seconds", result.serial_cpu_seconds},
                        {"critical_path", result.critical_path},
                        {"serial_median_seconds", result.serial_median_seconds},
                        {"serial_us_per_txn", SerialMicrosPerTxn(result)},
                        {"serial_txns_per_second", result.serial_txns_per_second}};
    if (result.spec.kind == WorkloadKind::kReadHeavy) {
      w["check_percent"] = result.spec.check_percent;
      w["reads_per_check"] = result.spec.reads_per_txn;
    }
    nlohmann::json& runs = w["runs"] = nlohmann::json::array();
    for (const ConfigResult& config : result.configs) {
      nlohmann::json run = {{"scheduler", SchedulerName(config.scheduler)},
                            {"threads", config.threads}};
      if (!config.unavailable.empty()) {
        run["unavailable"] = config.unavailable;
      } else {
        run["seconds"] = config.seconds;
        run["median_seconds"] = config.median_seconds;
        run["txns_per_second"] = config.txns_per_second;
        run["speedup"] = config.speedup;
        run["cores_used"] = config.cores_used;
        run["median_cores_used"] = config.median_cores_used;
        run["cpu_seconds"] = config.cpu_seconds;
        run["cpu_ratio_to_serial"] = config.cpu_ratio;
        if (config.executions_per_txn) run["executions_per_txn"] = *config.executions_per_txn;
      }
      runs.push_back(std::move(run));
    }
    workloads.push_back(std::move(w));
  }
  nlohmann::json& goal_list = doc["goals"] = nlohmann::json::array();
  for (const Goal& goal : goals) {
    goal_list.push_back({{"goal", goal.name},
                         {"mode", goal.mode},
                         {"scheduler", goal.scheduler},
                         {"status", goal.status == GoalStatus::kMet      ? "met"
                                    : goal.status == GoalStatus::kMissed ? "missed"
                                                                         : "not_measured"},
                         {"detail", goal.detail}});
  }
  return doc;
}

}  // namespace tri::txn::bench
