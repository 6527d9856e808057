#pragma once

// The saga workload of `tri-sim saga` (saga_sim.h): random saga documents and
// the plan of client requests that start and abort them.
//
// A document is YAML text (definitions go through the DSL like a client's): a
// random DAG of 1..max_steps steps whose actions are noop, sleep (random
// durations) and fail (random codes, retryable or not, after a random delay),
// with per-step timeouts, retries with backoff and jitter, compensations (noop,
// sleep, sometimes fail) with compensate_when and compensate_retry, and
// sometimes a saga deadline. Everything comes from the given Rng, so a seed
// gives the same documents and plan every time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.h"
#include "sim/network.h"

namespace tri::sim {

struct SagaWorkloadOptions {
  std::uint32_t sagas = 50;
  std::uint32_t max_steps = 50;
  // Starts are spread uniformly over this window of simulated time.
  SimTimeUs start_window_us = 3'000'000;
  // The share of sagas a client also aborts, at a random time after its start.
  double abort_probability = 0.2;
  SimTimeUs max_abort_delay_us = 1'500'000;
};

struct PlannedSaga {
  std::string id;    // chosen by the workload: "saga-<index>"
  std::string name;  // the document's name: "sim<index>"
  std::string document;
  // Registered first (kDefine) and started by name, or started inline.
  bool registered = false;
  std::uint32_t steps = 0;
  SimTimeUs start_at_us = 0;
  std::optional<SimTimeUs> abort_at_us;
};

// One random saga document named `name` with 1..max_steps steps.
std::string GenerateSagaDocument(Rng& rng, std::string_view name, std::uint32_t max_steps,
                                 std::uint32_t* steps_out = nullptr);

// The whole plan, ordered by start time. Half of the sagas are registered as
// definitions before their start, the others start from an inline document.
std::vector<PlannedSaga> PlanSagaWorkload(const SagaWorkloadOptions& options, Rng& rng);

}  // namespace tri::sim
