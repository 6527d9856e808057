#include "exec/saga_result.h"

#include "base/assert.h"

namespace tri::exec {

using saga::StepIndex;

StepReport SagaResult::step(StepIndex s) const {
  TRI_ASSERT(s < step_count() && final_state != nullptr);
  const saga::Orchestrator& orch = *final_state;
  const saga::StepState state = orch.step_state(s);
  const saga::StepState forward = orch.forward_state(s);
  // The orchestrator keeps the code of the last FAILED attempt; a step whose
  // last phase then succeeded (a retry succeeded, or it succeeded and was
  // compensated) reports none.
  const bool ended_well =
      state == saga::StepState::kSucceeded ||
      (state == saga::StepState::kCompensated && forward == saga::StepState::kSucceeded);
  return StepReport{.id = definition->step_ids[s],
                    .state = state,
                    .forward_state = forward,
                    .attempts = orch.attempts(s),
                    .compensation_attempts = orch.compensation_attempts(s),
                    .code = ended_well ? 0 : orch.last_code(s),
                    .message = ended_well ? std::string_view() : orch.last_message(s),
                    .output = orch.output(s),
                    .times = s < step_times.size() ? step_times[s] : StepTimes{}};
}

std::vector<StepReport> SagaResult::steps() const {
  std::vector<StepReport> reports;
  reports.reserve(step_count());
  for (StepIndex s = 0; s < step_count(); ++s)
    reports.push_back(step(s));
  return reports;
}

}  // namespace tri::exec
