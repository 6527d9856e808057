// Orchestrator::Restore decodes bytes that a replicated node reads back from
// disk: arbitrary input must give an error or a state that serializes back to
// the same bytes; never a crash, a hang or an assertion. On every state it
// accepts, the orchestrator must then take any input a driver may give it
// without an assertion: Abort, every timer the state still waits for
// (PendingTimers), and started reports and results (success, retryable and
// final failures) for each step's current attempts, each from the restored
// state, then all the timers in sequence.
//
// The plan is fixed (a diamond with retries, the three timeouts, retry codes,
// compensations and a deadline) so the fingerprint check passes and the
// fuzzer reaches the per-step decoding; the seed corpus holds states of that
// plan taken after inputs of a few scripted runs (fuzz/seeds/fuzz_orchestrator_restore).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "saga/orchestrator.h"

namespace {

using tri::TimePoint;
using tri::saga::AttemptPhase;
using tri::saga::Command;
using tri::saga::CommandKind;
using tri::saga::Orchestrator;
using tri::saga::StepIndex;

std::shared_ptr<const tri::saga::SagaPlan> DiamondPlan() {
  auto graph = tri::saga::SagaGraph::FromNeeds({{}, {0}, {0}, {0}, {1, 2, 3}});
  TRI_ASSERT(graph.ok());
  std::vector<tri::saga::StepPolicy> policies(5);
  for (StepIndex s = 0; s < 5; ++s) {
    tri::saga::StepPolicy& policy = policies[s];
    policy.timeout = std::chrono::milliseconds(100);
    policy.schedule_to_start = s % 2 == 0 ? std::chrono::milliseconds(50) : tri::Duration{0};
    policy.schedule_to_close = s == 3 ? std::chrono::milliseconds(400) : tri::Duration{0};
    policy.retry.max_attempts = 3;
    policy.retry.backoff.initial = std::chrono::milliseconds(10);
    policy.retry.jitter = 0.5;
    if (s == 2) policy.retry.non_retryable = {404};
    if (s == 4) policy.retry.retry_on = {408, 503};
    policy.compensate_retry.max_attempts = 2;
    policy.has_compensate = s != 3;
    policy.compensate_when =
        s % 2 == 0 ? tri::saga::CompensateWhen::kAttempted : tri::saga::CompensateWhen::kSucceeded;
  }
  auto plan =
      tri::saga::SagaPlan::Make(std::move(*graph), std::move(policies), std::chrono::seconds(1));
  TRI_ASSERT(plan.ok());
  return *plan;
}

const std::shared_ptr<const tri::saga::SagaPlan>& Plan() {
  static const auto plan = DiamondPlan();
  return plan;
}

// A fresh orchestrator holding `bytes` (already accepted once).
std::unique_ptr<Orchestrator> Restored(const std::string& bytes, tri::Rng& rng) {
  auto o = std::make_unique<Orchestrator>(Plan(), rng);
  TRI_ASSERT_MSG(o->Restore(bytes).ok(), "an accepted state does not restore again");
  return o;
}

// Inputs never go back in time (asserted): no earlier than the last input.
TimePoint Later(const Orchestrator& o, TimePoint at) {
  return std::max(at, o.last_input_time());
}

// Every input a driver may give the state in `bytes`, each from that state.
void DriveInputs(const std::string& bytes) {
  tri::SeededRng rng(7);
  std::vector<Command> out;
  const auto now_of = [&](const Orchestrator& o) { return Later(o, TimePoint{0}); };
  {
    auto o = Restored(bytes, rng);
    if (o->started()) o->Abort(now_of(*o) + std::chrono::milliseconds(1), out);
  }
  const std::vector<Command> timers = Restored(bytes, rng)->PendingTimers();
  for (const Command& timer : timers) {
    TRI_ASSERT(timer.kind == CommandKind::kArmTimer);
    auto o = Restored(bytes, rng);
    o->OnTimerFired(timer.timer, Later(*o, timer.fire_at), out);
  }
  const StepIndex n = Plan()->size();
  for (StepIndex s = 0; s < n; ++s) {
    for (AttemptPhase phase : {AttemptPhase::kForward, AttemptPhase::kCompensate}) {
      std::uint32_t current = 0;
      {
        auto o = Restored(bytes, rng);
        if (!o->started()) break;
        current = phase == AttemptPhase::kForward ? o->attempts(s) : o->compensation_attempts(s);
      }
      // Started reports for any attempt number are ignored or taken.
      for (std::uint32_t attempt : {current, current + 1, 0u}) {
        auto o = Restored(bytes, rng);
        o->OnAttemptStarted(phase, s, attempt, now_of(*o), out);
        o->OnAttemptStarted(phase, s, attempt, now_of(*o), out);
      }
      // Results only for attempts that were scheduled (the contract).
      // The current attempt and the one before it (stale).
      for (std::uint32_t attempt = current > 1 ? current - 1 : 1; attempt <= current; ++attempt) {
        {
          auto o = Restored(bytes, rng);
          o->OnAttemptSucceeded(phase, s, attempt, now_of(*o), out, "out");
        }
        {
          auto o = Restored(bytes, rng);
          o->OnAttemptFailed(phase, s, attempt, 503, true, "retry", now_of(*o), out);
        }
        {
          auto o = Restored(bytes, rng);
          o->OnAttemptFailed(phase, s, attempt, 404, false, "final", now_of(*o), out);
        }
      }
    }
  }
  // All the pending timers in time order on one orchestrator, then abort.
  auto o = Restored(bytes, rng);
  std::vector<Command> sorted = timers;
  std::sort(sorted.begin(), sorted.end(),
            [](const Command& a, const Command& b) { return a.fire_at < b.fire_at; });
  for (const Command& timer : sorted)
    o->OnTimerFired(timer.timer, Later(*o, timer.fire_at), out);
  if (o->started()) o->Abort(now_of(*o) + std::chrono::milliseconds(1), out);
  (void)o->stats();
  (void)o->Serialize();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tri::SeededRng rng(1);
  Orchestrator orchestrator(Plan(), rng);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string before = orchestrator.Serialize();
  if (!orchestrator.Restore(bytes).ok()) {
    TRI_ASSERT_MSG(orchestrator.Serialize() == before, "a failed Restore changed the state");
    return 0;
  }
  const std::string encoded = orchestrator.Serialize();
  Orchestrator again(Plan(), rng);
  TRI_ASSERT_MSG(again.Restore(encoded).ok(), "a restored state does not restore");
  TRI_ASSERT_MSG(again.Serialize() == encoded, "restore/serialize is not a fixed point");
  (void)orchestrator.stats();
  DriveInputs(encoded);
  return 0;
}
