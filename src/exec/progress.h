#pragma once

// What `tri run` shows while a saga runs: one line per event, and a live
// line counting the steps by state. Both are built from SagaEvents, so they
// work for any consumer of the runtime's events.

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "exec/runtime.h"

namespace tri::exec {

// "[    0.020s] step b: step_failed (attempt 1) code 503, will retry";
// saga-level events name the saga: "[    0.031s] saga ID: saga_compensated".
std::string EventLine(const SagaEvent& event);

// Each step's current state, kept from the events of one saga. Observe runs on
// the runtime's loop thread, Line on any other: both lock.
class StepStateCounter {
 public:
  explicit StepStateCounter(std::size_t steps);

  void Observe(const SagaEvent& event);

  // Steps in `state` now.
  std::uint32_t count(saga::StepState state) const;

  // "3/5 succeeded, 1 running, 1 retrying, compensating 1, 2 compensated, 1.2s":
  // succeeded and running always, the other states only when some step is in
  // them. "retrying" is a step waiting to retry after a failed attempt (not a
  // failed step); "compensating N" shows compensation in progress.
  std::string Line(double elapsed_seconds) const;

 private:
  static constexpr std::size_t kStates = 10;  // StepState values

  mutable std::mutex mutex_;
  std::vector<saga::StepState> states_;
  std::array<std::uint32_t, kStates> counts_{};
};

}  // namespace tri::exec
