#pragma once

// Times one workload: the serial reference and every (scheduler, threads)
// configuration, repetitions interleaved so that a drift in machine load hits
// every configuration alike. Every parallel result is compared with the serial
// one; a difference is an error, never a figure.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "txn/options.h"
#include "txn/parallel/parallel_executor.h"
#include "workload.h"

namespace tri::txn::bench {

struct ConfigResult {
  Scheduler scheduler = Scheduler::kDeclared;
  std::size_t threads = 1;
  // Why the executor refused the batch (a scheduler not built); empty when it
  // ran. A refused configuration has no figures.
  std::string unavailable;
  std::vector<double> seconds;  // one per repetition
  double median_seconds = 0;
  double txns_per_second = 0;
  // Serial median time over this median time (same batch, same process).
  double speedup = 0;
  // Process CPU time over wall time of each repetition, and their median: how
  // many cores the run actually got (well below `threads` on a loaded
  // machine; waiting workers that spin count as used).
  std::vector<double> cores_used;
  double median_cores_used = 0;
  // Process CPU time per repetition, and the median's ratio to the serial
  // run's median CPU time: the work the scheduler spends for the same batch
  // (its bookkeeping, re-executions, spinning), which machine load changes
  // far less than wall time.
  std::vector<double> cpu_seconds;
  double cpu_ratio = 0;
  // From one extra traced run: body executions (START events) per transaction,
  // 1.0 when nothing was re-executed; unknown when the trace has no START.
  std::optional<double> executions_per_txn;
};

struct WorkloadResult {
  WorkloadSpec spec;
  std::string name;
  // Transactions on the longest chain of the declared conflict graph: no
  // schedule beats serial by more than txns / critical_path.
  std::uint32_t critical_path = 0;
  std::vector<double> serial_seconds;
  std::vector<double> serial_cpu_seconds;
  double serial_median_seconds = 0;
  double serial_txns_per_second = 0;
  std::vector<ConfigResult> configs;
};

struct MeasureOptions {
  std::vector<Scheduler> schedulers;
  std::vector<std::size_t> threads;
  std::size_t repetitions = 5;
  // One extra traced run per configuration for executions_per_txn.
  bool trace_stats = true;
};

// One ParallelExecutor (worker pool) per thread count, made once and reused.
class ExecutorSet {
 public:
  static Result<ExecutorSet> Create(std::span<const std::size_t> threads);
  ParallelExecutor& at(std::size_t threads) { return *executors_.at(threads); }

 private:
  std::map<std::size_t, std::unique_ptr<ParallelExecutor>> executors_;
};

// Internal naming the configuration and the first differing transaction when a
// parallel result differs from the serial one; the executor's error when it
// fails for any reason other than Unimplemented.
Result<WorkloadResult> Measure(const Workload& workload, ExecutorSet& executors,
                               const MeasureOptions& options);

double Median(std::vector<double> values);

// CPU time of every thread of the process, in seconds.
double ProcessCpuSeconds();

}  // namespace tri::txn::bench
