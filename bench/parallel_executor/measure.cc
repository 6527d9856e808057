#include "measure.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "txn/conflict_graph.h"
#include "txn/executor.h"

namespace tri::txn::bench {

namespace {

using Clock = std::chrono::steady_clock;

std::string Describe(const TxnResult& txn) {
  std::string out =
      fmt::format("{} gas={} writes={}", OutcomeName(txn.outcome), txn.gas_used, txn.writes.size());
  if (!txn.reason.empty()) out += fmt::format(" reason='{}'", txn.reason);
  return out;
}

// OK when `got` has the serial result's outcomes, reasons, writes and gas.
Status Compare(const BatchResult& serial, const BatchResult& got, std::string_view config) {
  if (SameOutcomes(serial, got)) return Status::Ok();
  if (serial.txns.size() != got.txns.size()) {
    return Internal(fmt::format("{}: {} transaction results, serial has {}", config,
                                got.txns.size(), serial.txns.size()));
  }
  for (std::size_t i = 0; i < serial.txns.size(); ++i) {
    if (serial.txns[i] == got.txns[i]) continue;
    std::string detail =
        fmt::format("{}: transaction {} differs from the serial run: serial {}; got {}", config, i,
                    Describe(serial.txns[i]), Describe(got.txns[i]));
    return Internal(std::move(detail));
  }
  return Internal(fmt::format("{}: results differ from the serial run", config));
}

// The workload is what it claims: every transaction commits, and the declared
// sets are exact (the serial run that enforces them gives the same result).
Status CheckWorkload(const Workload& workload, const BatchResult& reference) {
  for (std::size_t i = 0; i < reference.txns.size(); ++i) {
    if (reference.txns[i].outcome != Outcome::kCommitted) {
      return Internal(fmt::format("{} accounts={}: transaction {} did not commit: {}",
                                  workload.name, workload.spec.accounts, i,
                                  Describe(reference.txns[i])));
    }
  }
  ExecuteOptions enforcing;
  enforcing.scheduler = Scheduler::kSerial;
  enforcing.enforce_declared = true;
  Result<BatchResult> declared = ExecuteSerial(workload.base, workload.batch, enforcing);
  if (!declared.ok()) return declared.status();
  return Compare(reference, *declared,
                 fmt::format("{} accounts={} serial with declared sets enforced", workload.name,
                             workload.spec.accounts));
}

struct Timed {
  double seconds = 0;
  double cpu_seconds = 0;
  Result<BatchResult> result;
};

template <typename Run>
Timed Time(Run run) {
  const double cpu_start = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  Result<BatchResult> result = run();
  const Clock::time_point end = Clock::now();
  const double cpu_end = ProcessCpuSeconds();
  return Timed{std::chrono::duration<double>(end - start).count(), cpu_end - cpu_start,
               std::move(result)};
}

std::string ConfigName(const Workload& workload, Scheduler scheduler, std::size_t threads) {
  return fmt::format("{} accounts={} compute={} scheduler={} threads={}", workload.name,
                     workload.spec.accounts, workload.spec.compute_rounds, SchedulerName(scheduler),
                     threads);
}

}  // namespace

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

Result<ExecutorSet> ExecutorSet::Create(std::span<const std::size_t> threads) {
  ExecutorSet set;
  for (std::size_t count : threads) {
    if (set.executors_.contains(count)) continue;
    Result<std::unique_ptr<ParallelExecutor>> executor = ParallelExecutor::Create(count);
    if (!executor.ok()) return executor.status();
    set.executors_.emplace(count, std::move(executor).value());
  }
  return set;
}

Result<WorkloadResult> Measure(const Workload& workload, ExecutorSet& executors,
                               const MeasureOptions& options) {
  WorkloadResult out;
  out.spec = workload.spec;
  out.name = workload.name;
  ExecuteOptions serial_options;
  serial_options.scheduler = Scheduler::kSerial;
  Result<BatchResult> reference = ExecuteSerial(workload.base, workload.batch, serial_options);
  if (!reference.ok()) return reference.status();
  TRI_RETURN_IF_ERROR(CheckWorkload(workload, *reference));
  out.critical_path =
      ConflictGraph::Build(workload.batch, serial_options.limits.max_keys_per_txn).critical_path();

  for (Scheduler scheduler : options.schedulers) {
    for (std::size_t threads : options.threads) {
      ConfigResult config;
      config.scheduler = scheduler;
      config.threads = threads;
      out.configs.push_back(std::move(config));
    }
  }

  for (std::size_t rep = 0; rep < options.repetitions; ++rep) {
    Timed serial =
        Time([&] { return ExecuteSerial(workload.base, workload.batch, serial_options); });
    if (!serial.result.ok()) return serial.result.status();
    TRI_RETURN_IF_ERROR(Compare(*reference, *serial.result, "serial rerun"));
    out.serial_seconds.push_back(serial.seconds);
    out.serial_cpu_seconds.push_back(serial.cpu_seconds);

    for (ConfigResult& config : out.configs) {
      if (!config.unavailable.empty()) continue;
      ExecuteOptions execute_options;
      execute_options.scheduler = config.scheduler;
      ParallelExecutor& executor = executors.at(config.threads);
      Timed run =
          Time([&] { return executor.Execute(workload.base, workload.batch, execute_options); });
      const std::string name = ConfigName(workload, config.scheduler, config.threads);
      if (!run.result.ok()) {
        if (run.result.status().code() != StatusCode::kUnimplemented) {
          return Internal(fmt::format("{}: {}", name, run.result.status().ToString()));
        }
        config.unavailable = run.result.status().message();
        continue;
      }
      TRI_RETURN_IF_ERROR(Compare(*reference, *run.result, name));
      config.seconds.push_back(run.seconds);
      config.cores_used.push_back(run.cpu_seconds / run.seconds);
      config.cpu_seconds.push_back(run.cpu_seconds);
    }
  }

  out.serial_median_seconds = Median(out.serial_seconds);
  out.serial_txns_per_second = workload.batch.size() / out.serial_median_seconds;
  for (ConfigResult& config : out.configs) {
    if (!config.unavailable.empty()) continue;
    config.median_seconds = Median(config.seconds);
    config.txns_per_second = workload.batch.size() / config.median_seconds;
    config.speedup = out.serial_median_seconds / config.median_seconds;
    config.median_cores_used = Median(config.cores_used);
    const double serial_cpu = Median(out.serial_cpu_seconds);
    config.cpu_ratio = serial_cpu > 0 ? Median(config.cpu_seconds) / serial_cpu : 0;
    if (!options.trace_stats) continue;
    ExecuteOptions traced;
    traced.scheduler = config.scheduler;
    traced.trace = true;
    Result<BatchResult> run =
        executors.at(config.threads).Execute(workload.base, workload.batch, traced);
    const std::string name = ConfigName(workload, config.scheduler, config.threads) + " traced";
    if (!run.ok()) return Internal(fmt::format("{}: {}", name, run.status().ToString()));
    TRI_RETURN_IF_ERROR(Compare(*reference, *run, name));
    const auto starts =
        std::count_if(run->trace.begin(), run->trace.end(),
                      [](const TraceEvent& e) { return e.kind == TraceKind::kStart; });
    // A scheduler that records no events leaves the figure unknown.
    if (starts > 0) config.executions_per_txn = static_cast<double>(starts) / workload.batch.size();
  }
  return out;
}

}  // namespace tri::txn::bench
