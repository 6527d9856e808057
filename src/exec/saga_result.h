#pragma once

// What a finished saga run reports: its outcome, statistics and, read on
// demand from the final orchestrator state, one report per step.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "saga/definition.h"
#include "saga/orchestrator.h"

namespace tri::exec {

using SagaDefinition = saga::SagaDefinition;

// Wall-clock times of one step (unix milliseconds; 0 = did not happen, or
// not recorded: see SubmitOptions::record_step_times).
struct StepTimes {
  std::int64_t started_unix_ms = 0;  // first forward attempt started
  std::int64_t ended_unix_ms = 0;  // forward phase ended (succeeded, failed, timed out, cancelled)
  std::int64_t compensation_started_unix_ms = 0;
  std::int64_t compensation_ended_unix_ms = 0;
};

struct StepReport {
  std::string_view id;                                        // points into SagaResult::definition
  saga::StepState state = saga::StepState::kPending;          // final state
  saga::StepState forward_state = saga::StepState::kPending;  // how its forward phase ended
  std::uint32_t attempts = 0;
  std::uint32_t compensation_attempts = 0;
  // Last failure code and message; 0 and empty when there was none or when
  // the step ended well (succeeded, or succeeded and then compensated), even
  // after failed attempts before the one that succeeded.
  int code = 0;
  std::string_view message;
  std::string_view output;  // output of a succeeded step
  StepTimes times;
};

struct SagaResult {
  std::shared_ptr<const SagaDefinition> definition;
  std::string saga_id;
  std::string name;
  saga::SagaOutcome outcome = saga::SagaOutcome::kRunning;
  saga::StopCause stop_cause = saga::StopCause::kNone;
  saga::SagaStats stats;
  std::vector<std::string> compensation_failed_steps;
  // The finished orchestrator itself: per-step reports are read from it on
  // demand, so finishing a saga of many steps copies nothing per step.
  std::shared_ptr<const saga::Orchestrator> final_state;
  // By step index; empty unless the run recorded them.
  std::vector<StepTimes> step_times;
  std::int64_t started_unix_ms = 0;  // when the saga started

  std::size_t step_count() const { return definition->spec.steps.size(); }
  StepReport step(saga::StepIndex s) const;
  std::vector<StepReport> steps() const;  // in document order
};

}  // namespace tri::exec
