#pragma once

// The scenarios of `tri demo`: batches of sagas, declared in the DSL (parsed
// by the same code as user files), run concurrently on the in-process
// runtime with real timers. Every number in a ScenarioReport is counted from
// the results the runtime returned; nothing is filled in from the scenario's
// expectations.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "base/result.h"
#include "exec/runtime.h"

namespace tri::demo {

struct SagaBatch {
  std::string document;  // YAML saga
  std::uint32_t count = 1;
  // Abort each saga of the batch once this many of its steps succeeded (0 = never).
  std::uint32_t abort_after_succeeded = 0;
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<SagaBatch> batches;  // all run at the same time
};

// What one saga of a scenario did (the `details` of a report).
struct SagaSummary {
  std::string name;
  std::string outcome;
  std::uint32_t steps_succeeded = 0;
  std::uint32_t compensations = 0;
  std::uint32_t timed_out = 0;  // steps that ended timed_out (code 408)
  std::uint32_t cancelled = 0;  // steps that ended cancelled (code 499)
  std::uint32_t max_parallelism = 0;
};

struct ScenarioReport {
  std::string name;
  std::uint32_t sagas = 0;
  std::uint32_t completed = 0;
  std::uint32_t compensated = 0;
  std::uint32_t compensation_failed = 0;
  std::uint32_t failed = 0;
  std::uint32_t steps_succeeded = 0;
  std::uint32_t compensations = 0;  // compensations that succeeded
  std::uint32_t timed_out = 0;
  std::uint32_t cancelled = 0;
  std::uint32_t max_parallelism = 0;  // peak running steps of one saga
  double avg_parallelism = 0.0;       // mean over the sagas
  double wall_ms = 0.0;               // first submission to last result
  double saga_p50_ms = 0.0;           // saga wall times, nearest rank
  double saga_p99_ms = 0.0;
  // On the durable path: log entries applied and fdatasyncs (every member's)
  // during the scenario, per saga (0 on the in-process runtime).
  double entries_per_saga = 0.0;
  double fsyncs_per_saga = 0.0;
  std::string note;  // what else happened (the failover scenario names the leaders)
  // Distinct saga summaries, each with how many sagas ended that way.
  std::vector<std::pair<SagaSummary, std::uint32_t>> details;
};

// 0 -> {1, 2, 3} -> 4, all succeeding.
Scenario DiamondScenario(std::uint32_t sagas);
// `succeeding` diamonds plus `failing` ones whose step 3 fails (non-retryable)
// after steps 0, 1 and 2 succeeded.
Scenario FailureScenario(std::uint32_t succeeding, std::uint32_t failing);
// 8 independent steps, 4 of which outlive the saga deadline; and 6 independent
// steps, 4 of which are cancelled by an abort once 2 have succeeded.
Scenario ParallelScenario();
// Diamonds (succeeding and failing) alongside chains of `chain_steps` steps.
Scenario PipelineScenario(std::uint32_t succeeding, std::uint32_t failing, std::uint32_t chains,
                          std::uint32_t chain_steps = 5);

// The four scenarios of `tri demo`, in order: diamond, failure, parallel, pipeline.
std::vector<Scenario> DefaultScenarios();

// How one step of a finished saga ended (state names as saga::StepStateName).
struct StepOutcome {
  std::string forward_state;
  std::string state;
  int code = 0;
};

// One saga's summary from its final step states; the same counting serves the
// in-process runtime and the durable path.
SagaSummary Summarize(std::string name, std::string outcome, std::uint32_t max_parallelism,
                      const std::vector<StepOutcome>& steps);

// Adds up finished sagas into a ScenarioReport.
class ReportBuilder {
 public:
  explicit ReportBuilder(std::string scenario) { report_.name = std::move(scenario); }
  // Errors: an outcome that is not terminal.
  Status Add(const SagaSummary& summary, double wall_ms, double avg_parallelism);
  // `wall_ms`: first submission to last result.
  ScenarioReport Finish(double wall_ms);

 private:
  ScenarioReport report_;
  std::vector<double> walls_;
  double parallelism_sum_ = 0.0;
};

// Runs every saga of the scenario at once on `runtime` and waits for all.
// Errors: a document that does not parse, or a submission refused.
Result<ScenarioReport> RunScenario(const Scenario& scenario, exec::Runtime& runtime);

}  // namespace tri::demo
