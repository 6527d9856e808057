#include "saga/definition.h"

#include <algorithm>
#include <variant>

namespace tri::saga {

Result<std::shared_ptr<const SagaDefinition>> SagaDefinition::Make(SagaSpec spec) {
  TRI_ASSIGN_OR_RETURN(auto plan, SagaPlan::FromSpec(spec));
  auto definition = std::make_shared<SagaDefinition>();
  for (StepIndex s = 0; s < spec.steps.size(); ++s) {
    if (spec.steps[s].compensate.has_value() != plan->has_compensate(s)) {
      return Internal("plan and spec disagree on the compensation of step '" + spec.steps[s].id +
                      "'");
    }
  }
  definition->spec = std::move(spec);
  definition->plan = std::move(plan);
  // After the move: short ids live inside the StepSpecs, and the views below
  // point at them.
  for (StepIndex s = 0; s < definition->spec.steps.size(); ++s) {
    const StepSpec& step = definition->spec.steps[s];
    definition->step_ids.push_back(step.id);
    definition->step_index.emplace(step.id, s);
    const bool noop_run = std::holds_alternative<NoopAction>(step.run);
    const bool noop_compensate =
        step.compensate.has_value() && std::holds_alternative<NoopAction>(*step.compensate);
    definition->noop_actions.push_back(
        static_cast<std::uint8_t>((noop_run ? 1 : 0) | (noop_compensate ? 2 : 0)));
  }
  return std::shared_ptr<const SagaDefinition>(std::move(definition));
}

Result<SagaInputs> ResolveInputs(const SagaSpec& spec, const SagaInputs& given) {
  SagaInputs resolved;
  for (const auto& [given_name, value] : given) {
    const std::string& name = given_name;  // lambdas cannot capture bindings in C++20
    const bool declared = std::any_of(spec.inputs.begin(), spec.inputs.end(),
                                      [&](const InputSpec& in) { return in.name == name; });
    if (!declared) {
      std::string known;
      for (const auto& in : spec.inputs)
        known += (known.empty() ? "" : ", ") + in.name;
      return InvalidArgument("unknown input '" + name + "': saga '" + spec.name + "' declares " +
                             (known.empty() ? std::string("no inputs") : known));
    }
    resolved.emplace(name, value);
  }
  std::string missing;
  for (const auto& in : spec.inputs) {
    if (resolved.count(in.name) != 0) continue;
    if (in.default_value.has_value()) {
      resolved.emplace(in.name, *in.default_value);
    } else {
      missing += (missing.empty() ? "" : ", ") + in.name;
    }
  }
  if (!missing.empty()) {
    return InvalidArgument("missing required input" +
                           std::string(missing.find(',') == std::string::npos ? " " : "s ") +
                           missing + " of saga '" + spec.name + "' (pass --input NAME=VALUE)");
  }
  return resolved;
}

}  // namespace tri::saga
