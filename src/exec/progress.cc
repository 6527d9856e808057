#include "exec/progress.h"

#include <cstdio>

#include "base/assert.h"

namespace tri::exec {
namespace {

std::size_t Index(saga::StepState state) {
  return static_cast<std::size_t>(state);
}

}  // namespace

std::string EventLine(const SagaEvent& event) {
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "[%9.3fs] ",
                static_cast<double>(event.since_start.count()) / 1e9);
  std::string line = prefix;
  if (event.record.step != saga::kNoStep) {
    line += "step " + event.definition.spec.steps[event.record.step].id + ": ";
  } else {
    line += "saga " + event.saga_id + ": ";
  }
  line += saga::TraceEventName(event.record.event);
  if (event.record.attempt > 0) line += " (attempt " + std::to_string(event.record.attempt) + ")";
  if (event.record.code != 0) line += " code " + std::to_string(event.record.code);
  if (WillRetry(event)) line += ", will retry";
  return line;
}

StepStateCounter::StepStateCounter(std::size_t steps) : states_(steps, saga::StepState::kPending) {
  static_assert(static_cast<std::size_t>(saga::StepState::kCompensationFailed) + 1 == kStates);
  counts_[Index(saga::StepState::kPending)] = static_cast<std::uint32_t>(steps);
}

void StepStateCounter::Observe(const SagaEvent& event) {
  if (event.record.step == saga::kNoStep) return;
  std::lock_guard lock(mutex_);
  TRI_ASSERT(event.record.step < states_.size());
  saga::StepState& state = states_[event.record.step];
  --counts_[Index(state)];
  state = event.step_state;
  ++counts_[Index(state)];
}

std::uint32_t StepStateCounter::count(saga::StepState state) const {
  std::lock_guard lock(mutex_);
  return counts_[Index(state)];
}

std::string StepStateCounter::Line(double elapsed_seconds) const {
  using saga::StepState;
  std::lock_guard lock(mutex_);
  auto n = [this](StepState state) { return counts_[Index(state)]; };
  std::string line = std::to_string(n(StepState::kSucceeded)) + "/" +
                     std::to_string(states_.size()) + " succeeded, " +
                     std::to_string(n(StepState::kRunning)) + " running";
  auto add = [&line](std::uint32_t count, const char* what, bool count_first = true) {
    if (count == 0) return;
    line += ", ";
    line += count_first ? std::to_string(count) + " " + what
                        : std::string(what) + " " + std::to_string(count);
  };
  add(n(StepState::kBackoff), "retrying");
  add(n(StepState::kFailed), "failed");
  add(n(StepState::kTimedOut), "timed out");
  add(n(StepState::kCancelled), "cancelled");
  add(n(StepState::kCompensating), "compensating", /*count_first=*/false);
  add(n(StepState::kCompensated), "compensated");
  add(n(StepState::kCompensationFailed), "compensation failed");
  char elapsed[32];
  std::snprintf(elapsed, sizeof(elapsed), ", %.1fs", elapsed_seconds);
  return line + elapsed;
}

}  // namespace tri::exec
