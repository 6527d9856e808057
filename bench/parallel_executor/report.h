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
  // Cores `probe_threads` busy threads got for a moment (CPU time / wall
  // time) before and after the measurements: what the machine could give.
  std::size_t probe_threads = 0;
  double cores_start = 0;
  double cores_end = 0;
};

// Spins `threads` threads (the caller is one of them) for `seconds` and
// returns the cores they got.
double ProbeCores(std::size_t threads, double seconds);

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

// A warning when the probes got clearly fewer cores than threads (other
// processes held them): speedups then measure the machine's load, not the
// schedulers.
std::optional<std::string> BusyMachineWarning(const Machine& machine);

std::string ModeName(const WorkloadSpec& spec);
std::string FormatTable(const std::vector<WorkloadResult>& results);
std::string FormatGoals(const std::vector<Goal>& goals);
nlohmann::json ToJson(const std::vector<WorkloadResult>& results, const std::vector<Goal>& goals,
                      const Machine& machine, const MeasureOptions& options);

}  // namespace tri::txn::bench
