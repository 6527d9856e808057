#include "demo/scenarios.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <tuple>

#include "saga/dsl/parser.h"

namespace tri::demo {
namespace {

// Step 3 of a failing diamond fails well after steps 1 and 2 (30 ms sleeps)
// have succeeded, so the failure always finds them done.
constexpr const char* kDiamondTemplate = R"(name: NAME
deadline: 10s
steps:
  - id: reserve
    run: {sleep: {duration: 20ms}}
    compensate: noop
  - id: charge
    needs: [reserve]
    run: {sleep: {duration: 30ms}}
    compensate: noop
  - id: pack
    needs: [reserve]
    run: {sleep: {duration: 30ms}}
    compensate: noop
  - id: label
    needs: [reserve]
    run: LABEL
    compensate: noop
  - id: ship
    needs: [charge, pack, label]
    run: {sleep: {duration: 10ms}}
    compensate: noop
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string DiamondDocument(bool failing) {
  std::string doc = Replace(kDiamondTemplate, "NAME", failing ? "diamond-failing" : "diamond");
  return Replace(doc, "LABEL",
                 failing ? "{fail: {code: 502, message: \"label printer offline\", after: 150ms, "
                           "retryable: false}}"
                         : "{sleep: {duration: 30ms}}");
}

std::string ChainDocument(std::uint32_t steps) {
  std::string doc = "name: chain\ndeadline: 10s\nsteps:\n";
  for (std::uint32_t i = 0; i < steps; ++i) {
    doc += "  - id: s" + std::to_string(i) + "\n";
    if (i > 0) doc += "    needs: [s" + std::to_string(i - 1) + "]\n";
    doc += "    run: {sleep: {duration: 10ms}}\n    compensate: noop\n";
  }
  return doc;
}

// `fast` steps that sleep 20 ms and `slow` ones that sleep 10 s, all
// independent, each with a compensation.
std::string IndependentDocument(const std::string& name, const std::string& deadline,
                                std::uint32_t fast, std::uint32_t slow) {
  std::string doc = "name: " + name + "\ndeadline: " + deadline + "\nsteps:\n";
  for (std::uint32_t i = 1; i <= fast; ++i) {
    doc += "  - id: fast-" + std::to_string(i) +
           "\n    run: {sleep: {duration: 20ms}}\n    compensate: noop\n";
  }
  for (std::uint32_t i = 1; i <= slow; ++i) {
    doc += "  - id: slow-" + std::to_string(i) +
           "\n    run: {sleep: {duration: 10s}}\n    compensate: noop\n";
  }
  return doc;
}

double Millis(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  std::size_t rank =
      static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

bool SameSummary(const SagaSummary& a, const SagaSummary& b) {
  return a.name == b.name && a.outcome == b.outcome && a.steps_succeeded == b.steps_succeeded &&
         a.compensations == b.compensations && a.timed_out == b.timed_out &&
         a.cancelled == b.cancelled && a.max_parallelism == b.max_parallelism;
}

}  // namespace

SagaSummary Summarize(std::string name, std::string outcome, std::uint32_t max_parallelism,
                      const std::vector<StepOutcome>& steps) {
  SagaSummary summary;
  summary.name = std::move(name);
  summary.outcome = std::move(outcome);
  summary.max_parallelism = max_parallelism;
  // Counted from the steps' final states and codes, so a 408 or 499 is what the step saw.
  for (const StepOutcome& step : steps) {
    if (step.forward_state == "succeeded") ++summary.steps_succeeded;
    if (step.state == "compensated") ++summary.compensations;
    if (step.forward_state == "timed_out" && step.code == saga::kCodeTimedOut) ++summary.timed_out;
    if (step.forward_state == "cancelled" && step.code == saga::kCodeCancelled) ++summary.cancelled;
  }
  return summary;
}

Status ReportBuilder::Add(const SagaSummary& summary, double wall_ms, double avg_parallelism) {
  ScenarioReport& r = report_;
  if (summary.outcome == "completed") {
    ++r.completed;
  } else if (summary.outcome == "compensated") {
    ++r.compensated;
  } else if (summary.outcome == "compensation_failed") {
    ++r.compensation_failed;
  } else if (summary.outcome == "failed") {
    ++r.failed;
  } else {
    return Internal("a finished saga reported '" + summary.outcome + "'");
  }
  ++r.sagas;
  r.steps_succeeded += summary.steps_succeeded;
  r.compensations += summary.compensations;
  r.timed_out += summary.timed_out;
  r.cancelled += summary.cancelled;
  r.max_parallelism = std::max(r.max_parallelism, summary.max_parallelism);
  parallelism_sum_ += avg_parallelism;
  walls_.push_back(wall_ms);
  auto same = std::find_if(r.details.begin(), r.details.end(),
                           [&](const auto& entry) { return SameSummary(entry.first, summary); });
  if (same == r.details.end()) {
    r.details.emplace_back(summary, 1);
  } else {
    ++same->second;
  }
  return Status::Ok();
}

ScenarioReport ReportBuilder::Finish(double wall_ms) {
  ScenarioReport r = std::move(report_);
  r.wall_ms = wall_ms;
  std::sort(walls_.begin(), walls_.end());
  r.avg_parallelism = r.sagas == 0 ? 0.0 : parallelism_sum_ / r.sagas;
  r.saga_p50_ms = Percentile(walls_, 50);
  r.saga_p99_ms = Percentile(walls_, 99);
  std::sort(r.details.begin(), r.details.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.name, a.first.outcome) < std::tie(b.first.name, b.first.outcome);
  });
  return r;
}

Scenario DiamondScenario(std::uint32_t sagas) {
  return Scenario{.name = "diamond",
                  .description = "sagas of shape 0 -> {1,2,3} -> 4, run concurrently",
                  .batches = {SagaBatch{.document = DiamondDocument(false), .count = sagas}}};
}

Scenario FailureScenario(std::uint32_t succeeding, std::uint32_t failing) {
  return Scenario{.name = "failure",
                  .description = "diamonds; in some, step 3 fails after 0, 1 and 2 succeeded",
                  .batches = {SagaBatch{.document = DiamondDocument(false), .count = succeeding},
                              SagaBatch{.document = DiamondDocument(true), .count = failing}}};
}

Scenario ParallelScenario() {
  return Scenario{
      .name = "parallel",
      .description = "independent steps: a deadline times out 4 of 8; an abort cancels 4 of 6",
      .batches = {SagaBatch{.document = IndependentDocument("parallel-deadline", "300ms", 4, 4)},
                  SagaBatch{.document = IndependentDocument("parallel-abort", "10s", 2, 4),
                            .abort_after_succeeded = 2}}};
}

Scenario PipelineScenario(std::uint32_t succeeding, std::uint32_t failing, std::uint32_t chains,
                          std::uint32_t chain_steps) {
  return Scenario{.name = "pipeline",
                  .description = "diamonds alongside sequential chains",
                  .batches = {SagaBatch{.document = DiamondDocument(false), .count = succeeding},
                              SagaBatch{.document = DiamondDocument(true), .count = failing},
                              SagaBatch{.document = ChainDocument(chain_steps), .count = chains}}};
}

std::vector<Scenario> DefaultScenarios() {
  return {DiamondScenario(30), FailureScenario(10, 10), ParallelScenario(),
          PipelineScenario(10, 5, 5)};
}

Result<ScenarioReport> RunScenario(const Scenario& scenario, exec::Runtime& runtime) {
  std::vector<std::shared_ptr<const exec::SagaDefinition>> definitions;
  std::uint32_t total = 0;
  for (const SagaBatch& batch : scenario.batches) {
    auto spec = saga::ParseSaga(batch.document, scenario.name + ".yaml");
    if (!spec.ok()) return spec.status().WithContext("scenario " + scenario.name);
    TRI_ASSIGN_OR_RETURN(auto definition, exec::SagaDefinition::Make(std::move(*spec)));
    definitions.push_back(std::move(definition));
    total += batch.count;
  }

  struct Shared {
    std::mutex mutex;
    std::condition_variable done;
    std::vector<exec::SagaResult> results;
    std::chrono::steady_clock::time_point last_finish;
  };
  auto shared = std::make_shared<Shared>();
  shared->results.reserve(total);

  const auto started = std::chrono::steady_clock::now();
  for (std::size_t b = 0; b < scenario.batches.size(); ++b) {
    const SagaBatch& batch = scenario.batches[b];
    for (std::uint32_t i = 0; i < batch.count; ++i) {
      exec::SubmitOptions submit;
      submit.on_finished = [shared](exec::SagaResult result) {
        std::lock_guard lock(shared->mutex);
        shared->results.push_back(std::move(result));
        shared->last_finish = std::chrono::steady_clock::now();
        shared->done.notify_all();
      };
      if (batch.abort_after_succeeded > 0) {
        auto succeeded = std::make_shared<std::uint32_t>(0);
        const std::uint32_t threshold = batch.abort_after_succeeded;
        submit.on_event = [&runtime, succeeded, threshold](const exec::SagaEvent& event) {
          if (event.record.event != saga::TraceEvent::kStepSucceeded) return;
          if (++*succeeded == threshold) (void)runtime.Abort(event.saga_id);
        };
      }
      auto id = runtime.Submit(definitions[b], std::move(submit));
      if (!id.ok()) return id.status().WithContext("scenario " + scenario.name);
    }
  }
  std::unique_lock lock(shared->mutex);
  shared->done.wait(lock, [&] { return shared->results.size() == total; });

  ReportBuilder builder(scenario.name);
  for (const exec::SagaResult& result : shared->results) {
    std::vector<StepOutcome> steps;
    for (const exec::StepReport& step : result.steps()) {
      steps.push_back(StepOutcome{saga::StepStateName(step.forward_state),
                                  saga::StepStateName(step.state), step.code});
    }
    const SagaSummary summary = Summarize(result.name, saga::SagaOutcomeName(result.outcome),
                                          result.stats.max_parallelism, steps);
    TRI_RETURN_IF_ERROR(
        builder.Add(summary, Millis(result.stats.wall), result.stats.avg_parallelism));
  }
  return builder.Finish(
      std::chrono::duration<double, std::milli>(shared->last_finish - started).count());
}

}  // namespace tri::demo
