#pragma once

// A validated saga definition, ready to run any number of times (by the
// in-process runtime or the replicated state machine), and the check of a
// run's inputs against it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "saga/plan.h"
#include "saga/spec.h"

namespace tri::saga {

// A validated saga, ready to run any number of times.
struct SagaDefinition {
  SagaDefinition() = default;
  // step_index and step_ids view into spec: a copy would point at the original.
  SagaDefinition(const SagaDefinition&) = delete;
  SagaDefinition& operator=(const SagaDefinition&) = delete;

  SagaSpec spec;
  std::shared_ptr<const SagaPlan> plan;
  std::map<std::string_view, StepIndex> step_index;  // id -> index, views into spec
  std::vector<std::string_view> step_ids;            // by index, into spec (compact, for reports)
  // By index: is the step's run (bit 0) / compensate (bit 1) action a noop?
  // Lets the loop finish empty steps without touching the (large) StepSpecs.
  std::vector<std::uint8_t> noop_actions;

  static Result<std::shared_ptr<const SagaDefinition>> Make(SagaSpec spec);
};

using SagaInputs = std::map<std::string, std::string, std::less<>>;

// Checks `given` against the saga's declared inputs and fills defaults.
// Errors name the unknown or missing input.
Result<SagaInputs> ResolveInputs(const SagaSpec& spec, const SagaInputs& given);

}  // namespace tri::saga
