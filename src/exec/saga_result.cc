#include "exec/saga_result.h"

#include "base/assert.h"

namespace tri::exec {

using saga::StepIndex;

StepReport SagaResult::step(StepIndex s) const {
  TRI_ASSERT(s < step_count() && final_state != nullptr);
  const saga::Orchestrator& orch = *final_state;
  return StepReport{.id = definition->step_ids[s],
                    .state = orch.step_state(s),
                    .forward_state = orch.forward_state(s),
                    .attempts = orch.attempts(s),
                    .compensation_attempts = orch.compensation_attempts(s),
                    .code = orch.last_code(s),
                    .message = orch.last_message(s),
                    .output = orch.output(s)};
}

std::vector<StepReport> SagaResult::steps() const {
  std::vector<StepReport> reports;
  reports.reserve(step_count());
  for (StepIndex s = 0; s < step_count(); ++s)
    reports.push_back(step(s));
  return reports;
}

}  // namespace tri::exec
