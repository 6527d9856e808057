#pragma once

// What bench_parallel_executor prints: a markdown table of every
// configuration, the goals with met/missed, and the same as one JSON
// document.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "measure.h"

namespace tri::txn::bench {

struct Machine {
  std::size_t hardware_threads = 0;
  std::string cpu_model;
  // /proc/loadavg's 1-minute figure when the run started and ended (-1: unknown).
  double load_start = -1;
  double load_end = -1;
};

Machine ReadMachine();
double ReadLoadAverage();

enum class GoalStatus : std::uint8_t { kMet, kMissed, kNotMeasured };

struct Goal {
  std::string name;  // e.g. "p2p 10000 accounts, 2 threads >= 1.8x serial"
  std::string mode;  // "bare" or "compute"
  std::string scheduler;
  GoalStatus status = GoalStatus::kNotMeasured;
  std::string detail;  // the figures, or why not measured
};

// The three goals for every mode and scheduler measured.
std::vector<Goal> EvaluateGoals(const std::vector<WorkloadResult>& results,
                                const std::vector<Scheduler>& schedulers, const Machine& machine);

// A warning when multi-threaded runs got clearly fewer cores than threads
// (other processes held them): their speedups then measure the machine's
// load, not the scheduler.
std::optional<std::string> BusyMachineWarning(const std::vector<WorkloadResult>& results);

std::string ModeName(const WorkloadSpec& spec);
std::string FormatTable(const std::vector<WorkloadResult>& results);
std::string FormatGoals(const std::vector<Goal>& goals);
nlohmann::json ToJson(const std::vector<WorkloadResult>& results, const std::vector<Goal>& goals,
                      const Machine& machine, const MeasureOptions& options);

}  // namespace tri::txn::bench
