#include "saga/orchestrator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "base/rng.h"
#include "saga/orchestrator_sim.h"

namespace tri::saga {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::shared_ptr<const SagaPlan> MakePlan(std::vector<std::vector<StepIndex>> needs,
                                         std::vector<StepPolicy> policies,
                                         Duration deadline = Duration{0}) {
  auto graph = SagaGraph::FromNeeds(std::move(needs));
  TRI_ASSERT(graph.ok());
  auto plan = SagaPlan::Make(std::move(*graph), std::move(policies), deadline);
  TRI_ASSERT(plan.ok());
  return *plan;
}

std::shared_ptr<const SagaPlan> UniformPlan(std::vector<std::vector<StepIndex>> needs,
                                            StepPolicy policy = {},
                                            Duration deadline = Duration{0}) {
  std::vector<StepPolicy> policies(needs.size(), policy);
  return MakePlan(std::move(needs), std::move(policies), deadline);
}

StepPolicy Compensable(CompensateWhen when = CompensateWhen::kSucceeded) {
  return StepPolicy{.compensate_when = when, .has_compensate = true};
}

TimePoint At(Duration d) {
  return TimePoint{d};
}

std::vector<StepIndex> Starts(const std::vector<Command>& out, AttemptPhase phase) {
  std::vector<StepIndex> steps;
  for (const Command& c : out) {
    if (c.kind == CommandKind::kStartAttempt && c.phase == phase) steps.push_back(c.step);
  }
  return steps;
}
std::vector<StepIndex> Cancels(const std::vector<Command>& out) {
  std::vector<StepIndex> steps;
  for (const Command& c : out) {
    if (c.kind == CommandKind::kCancelAttempt) steps.push_back(c.step);
  }
  return steps;
}
// Reports every attempt scheduled in `scheduled` as really started at `now`.
void ReportStarted(Orchestrator& o, const std::vector<Command>& scheduled, TimePoint now,
                   std::vector<Command>& out) {
  const std::vector<Command> copy = scheduled;  // `out` may be `scheduled`
  for (const Command& c : copy) {
    if (c.kind == CommandKind::kStartAttempt)
      o.OnAttemptStarted(c.phase, c.step, c.attempt, now, out);
  }
}

const Command* Find(const std::vector<Command>& out, CommandKind kind) {
  for (const Command& c : out) {
    if (c.kind == kind) return &c;
  }
  return nullptr;
}

using V = std::vector<StepIndex>;
constexpr auto kFwd = AttemptPhase::kForward;
constexpr auto kComp = AttemptPhase::kCompensate;

// 0 -> {1,2,3} -> 4
std::vector<std::vector<StepIndex>> Diamond() {
  return {{}, {0}, {0}, {0}, {1, 2, 3}};
}

TEST(Orchestrator, StartsEachStepAsSoonAsAllItsNeedsSucceeded) {
  SeededRng rng(1);
  Orchestrator o(UniformPlan(Diamond()), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  EXPECT_EQ(Starts(out, kFwd), V{0});
  ReportStarted(o, out, At(seconds(0)), out);
  out.clear();
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  EXPECT_EQ(Starts(out, kFwd), (V{1, 2, 3}));
  EXPECT_EQ(o.running(), 0u) << "scheduled, not yet started";
  EXPECT_EQ(o.first_started_at(1), std::nullopt);
  EXPECT_EQ(o.forward_ended_at(1), std::nullopt);
  EXPECT_EQ(o.in_flight(), 3u);
  ReportStarted(o, out, At(seconds(1)), out);
  EXPECT_EQ(o.running(), 3u);
  out.clear();
  o.OnAttemptSucceeded(kFwd, 1, 1, At(seconds(2)), out);
  o.OnAttemptSucceeded(kFwd, 3, 1, At(seconds(2)), out);
  EXPECT_TRUE(out.empty()) << "step 4 must wait for step 2";
  o.OnAttemptSucceeded(kFwd, 2, 1, At(seconds(3)), out);
  EXPECT_EQ(Starts(out, kFwd), V{4});
  ReportStarted(o, out, At(seconds(3)), out);
  out.clear();
  o.OnAttemptSucceeded(kFwd, 4, 1, At(seconds(4)), out, "{\"ok\":true}");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, CommandKind::kSagaFinished);
  EXPECT_EQ(out[0].outcome, SagaOutcome::kCompleted);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompleted);
  EXPECT_EQ(o.output(4), "{\"ok\":true}");
  EXPECT_EQ(o.first_started_at(2), At(seconds(1)));
  EXPECT_EQ(o.forward_ended_at(2), At(seconds(3)));
  EXPECT_EQ(o.first_started_at(4), At(seconds(3)));
  const SagaStats stats = o.stats();
  EXPECT_EQ(stats.levels, 3u);
  EXPECT_EQ(stats.max_parallelism, 3u);
  EXPECT_EQ(stats.steps_succeeded, 5u);
  EXPECT_EQ(stats.wall, seconds(4));
  EXPECT_EQ(stats.critical_path, seconds(4));
  // Busy: 1 + (1 + 2 + 1) + 1 = 6 s over 4 s of wall time.
  EXPECT_EQ(stats.busy, seconds(6));
  EXPECT_DOUBLE_EQ(stats.avg_parallelism, 1.5);
}

TEST(Orchestrator, DoesNotWaitForAWholeLevel) {
  // 0 and 1 are roots; 2 needs only 0. 2 starts while 1 is still running.
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}, {}, {0}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  out.clear();
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  EXPECT_EQ(Starts(out, kFwd), V{2});
  EXPECT_EQ(o.step_state(1), StepState::kRunning);
}

TEST(Orchestrator, RetriesWithExponentialBackoffThenFails) {
  StepPolicy policy;
  policy.retry =
      RetryPolicy{.max_attempts = 3,
                  .backoff = {.initial = milliseconds(100), .multiplier = 2.0, .max = seconds(10)}};
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}}, policy), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 0, 1, 503, true, "unavailable", At(seconds(1)), out);
  const Command* timer = Find(out, CommandKind::kArmTimer);
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(timer->fire_at, At(seconds(1) + milliseconds(100)));
  EXPECT_EQ(o.step_state(0), StepState::kBackoff);
  const TimerId first_backoff = timer->timer;
  out.clear();
  o.OnTimerFired(first_backoff, timer->fire_at, out);
  ASSERT_EQ(Starts(out, kFwd), V{0});
  EXPECT_EQ(out[0].attempt, 2u);
  out.clear();
  o.OnAttemptFailed(kFwd, 0, 2, 503, true, "unavailable", At(seconds(2)), out);
  timer = Find(out, CommandKind::kArmTimer);
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(timer->fire_at, At(seconds(2) + milliseconds(200)));
  EXPECT_NE(timer->timer, first_backoff);
  const TimerId second_backoff = timer->timer;
  out.clear();
  o.OnTimerFired(second_backoff, At(seconds(3)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 0, 3, 503, true, "unavailable", At(seconds(4)), out);
  EXPECT_EQ(o.step_state(0), StepState::kFailed);
  EXPECT_EQ(o.last_code(0), 503);
  EXPECT_EQ(o.last_message(0), "unavailable");
  EXPECT_EQ(o.outcome(), SagaOutcome::kFailed);
  EXPECT_EQ(o.stats().attempts, 3u);
  EXPECT_EQ(o.stats().retries, 2u);
}

TEST(Orchestrator, BackoffIsCappedAtMax) {
  RetryPolicy policy{.max_attempts = 10,
                     .backoff = {.initial = seconds(1), .multiplier = 3.0, .max = seconds(5)}};
  SeededRng rng(1);
  EXPECT_EQ(BackoffDelay(policy, 1, rng), seconds(1));
  EXPECT_EQ(BackoffDelay(policy, 2, rng), seconds(3));
  EXPECT_EQ(BackoffDelay(policy, 3, rng), seconds(5));
  EXPECT_EQ(BackoffDelay(policy, 9, rng), seconds(5));
}

TEST(Orchestrator, JitterComesFromTheInjectedRngAndStaysInBounds) {
  RetryPolicy policy{.max_attempts = 10,
                     .backoff = {.initial = seconds(1), .multiplier = 2.0, .max = seconds(60)},
                     .jitter = 0.5};
  SeededRng a(42), b(42), c(43);
  bool differs = false;
  for (std::uint32_t n = 1; n <= 5; ++n) {
    const Duration da = BackoffDelay(policy, n, a);
    EXPECT_EQ(da, BackoffDelay(policy, n, b)) << "same seed, same delay";
    differs |= da != BackoffDelay(policy, n, c);
    const Duration base = seconds(1 << (n - 1));
    EXPECT_GE(da, base / 2);
    EXPECT_LE(da, base * 3 / 2);
  }
  EXPECT_TRUE(differs);
}

TEST(Orchestrator, NonRetryableFailureSkipsRetries) {
  StepPolicy policy;
  policy.retry.max_attempts = 5;
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}}, policy), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 0, 1, 400, /*retryable=*/false, "bad request", At(seconds(1)), out);
  EXPECT_EQ(Find(out, CommandKind::kArmTimer), nullptr);
  EXPECT_EQ(o.step_state(0), StepState::kFailed);
  EXPECT_EQ(o.outcome(), SagaOutcome::kFailed);
  EXPECT_EQ(o.attempts(0), 1u);
}

TEST(Orchestrator, TimedOutAttemptIsCancelledRetriedAndFinallyTimedOut) {
  StepPolicy policy;
  policy.timeout = seconds(1);
  policy.retry = RetryPolicy{.max_attempts = 2, .backoff = {.initial = Duration{0}}};
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}}, policy), rng, {.trace = true});
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  EXPECT_EQ(Find(out, CommandKind::kArmTimer), nullptr) << "start_to_close is armed at the start";
  out.clear();
  o.OnAttemptStarted(kFwd, 0, 1, At(seconds(0)), out);
  const Command* timer = Find(out, CommandKind::kArmTimer);
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(timer->fire_at, At(seconds(1)));
  const TimerId first = timer->timer;
  out.clear();
  o.OnTimerFired(first, At(seconds(1)), out);
  EXPECT_EQ(Cancels(out), V{0});
  EXPECT_EQ(Starts(out, kFwd), V{0}) << "zero backoff retries at once";
  EXPECT_EQ(o.attempts(0), 2u);
  out.clear();
  o.OnAttemptStarted(kFwd, 0, 2, At(seconds(1)), out);
  timer = Find(out, CommandKind::kArmTimer);
  ASSERT_NE(timer, nullptr);
  const TimerId second = timer->timer;
  out.clear();
  // The first attempt's late result is stale.
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(o.step_state(0), StepState::kRunning);
  o.OnTimerFired(second, At(seconds(2)), out);
  EXPECT_EQ(o.step_state(0), StepState::kTimedOut);
  EXPECT_EQ(o.last_code(0), kCodeTimedOut);
  EXPECT_EQ(o.outcome(), SagaOutcome::kFailed);
  const SagaStats stats = o.stats();
  EXPECT_EQ(stats.steps_timed_out, 1u);
  EXPECT_EQ(stats.stale_results_ignored, 1u);
  std::vector<std::string> events;
  for (const TraceRecord& r : o.trace())
    events.push_back(TraceEventName(r.event));
  EXPECT_EQ(events, (std::vector<std::string>{"saga_started", "step_scheduled", "step_started",
                                              "step_timed_out", "step_scheduled", "step_started",
                                              "step_timed_out", "saga_failed"}));
}

TEST(Orchestrator, StepFailureCancelsRunningStepsAndCompensatesSucceededOnes) {
  // 0 (compensable) succeeds; 1 (compensable) is running when 2 fails.
  SeededRng rng(1);
  Orchestrator o(MakePlan({{}, {}, {}}, {Compensable(), Compensable(), StepPolicy{}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 2, 1, 500, true, "boom", At(seconds(2)), out);
  EXPECT_EQ(Cancels(out), V{1});
  EXPECT_EQ(Starts(out, kComp), V{0});
  EXPECT_EQ(Starts(out, kFwd), V{});
  EXPECT_EQ(o.step_state(1), StepState::kCancelled);
  EXPECT_EQ(o.last_code(1), kCodeCancelled);
  EXPECT_FALSE(o.in_compensation_set(1)) << "compensate_when: succeeded";
  EXPECT_EQ(o.stop_cause(), StopCause::kStepFailed);
  out.clear();
  o.OnAttemptSucceeded(kComp, 0, 1, At(seconds(3)), out);
  ASSERT_NE(Find(out, CommandKind::kSagaFinished), nullptr);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompensated);
  EXPECT_EQ(o.step_state(0), StepState::kCompensated);
  EXPECT_EQ(o.forward_state(0), StepState::kSucceeded);
  EXPECT_EQ(o.stats().steps_cancelled, 1u);
  EXPECT_EQ(o.stats().steps_compensated, 1u);
}

TEST(Orchestrator, NoForwardStepStartsAfterAFailure) {
  // 1 needs 0; 2 fails while 0 runs; 0's late success must not start 1.
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}, {0}, {}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptFailed(kFwd, 2, 1, 500, true, "boom", At(seconds(1)), out);
  out.clear();
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(2)), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(o.step_state(1), StepState::kPending);
  EXPECT_EQ(o.outcome(), SagaOutcome::kFailed);
  EXPECT_EQ(o.stats().steps_not_started, 1u);
}

TEST(Orchestrator, AttemptedStepsAreCompensatedWhenCompensateWhenIsAttempted) {
  SeededRng rng(1);
  Orchestrator o(MakePlan({{}, {}, {}},
                          {Compensable(), Compensable(CompensateWhen::kAttempted), StepPolicy{}}),
                 rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 2, 1, 500, true, "boom", At(seconds(2)), out);
  EXPECT_EQ(Cancels(out), V{1});
  EXPECT_EQ(Starts(out, kComp), (V{0, 1}));
  // The cancel of step 1 precedes its compensation in the batch.
  const auto cancel = std::find_if(out.begin(), out.end(), [](const Command& c) {
    return c.kind == CommandKind::kCancelAttempt;
  });
  const auto comp = std::find_if(out.begin(), out.end(), [](const Command& c) {
    return c.kind == CommandKind::kStartAttempt && c.step == 1;
  });
  EXPECT_LT(cancel - out.begin(), comp - out.begin());
}

TEST(Orchestrator, CompensatesInReverseDependencyOrder) {
  // 0 -> 1 -> 2 (all compensable); 3 needs 2 and fails.
  SeededRng rng(1);
  Orchestrator o(
      MakePlan({{}, {0}, {1}, {2}}, {Compensable(), Compensable(), Compensable(), StepPolicy{}}),
      rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  for (StepIndex s = 0; s < 3; ++s)
    o.OnAttemptSucceeded(kFwd, s, 1, At(seconds(s + 1)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 3, 1, 500, true, "boom", At(seconds(5)), out);
  EXPECT_EQ(Starts(out, kComp), V{2});
  out.clear();
  o.OnAttemptSucceeded(kComp, 2, 1, At(seconds(6)), out);
  EXPECT_EQ(Starts(out, kComp), V{1});
  out.clear();
  o.OnAttemptSucceeded(kComp, 1, 1, At(seconds(7)), out);
  EXPECT_EQ(Starts(out, kComp), V{0});
  out.clear();
  o.OnAttemptSucceeded(kComp, 0, 1, At(seconds(8)), out);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompensated);
  EXPECT_EQ(o.stats().steps_compensated, 3u);
}

TEST(Orchestrator, CompensationOrderHoldsThroughStepsWithoutCompensation) {
  // 0 (compensable) -> 1 (no compensate) -> 2 (compensable); 3 needs 2, fails.
  SeededRng rng(1);
  Orchestrator o(
      MakePlan({{}, {0}, {1}, {2}}, {Compensable(), StepPolicy{}, Compensable(), StepPolicy{}}),
      rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  for (StepIndex s = 0; s < 3; ++s)
    o.OnAttemptSucceeded(kFwd, s, 1, At(seconds(s + 1)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 3, 1, 500, true, "boom", At(seconds(5)), out);
  EXPECT_EQ(Starts(out, kComp), V{2}) << "0 waits for 2 even though 1 is not in the set";
  out.clear();
  o.OnAttemptSucceeded(kComp, 2, 1, At(seconds(6)), out);
  EXPECT_EQ(Starts(out, kComp), V{0});
  EXPECT_EQ(o.step_state(1), StepState::kSucceeded) << "steps without compensate are skipped";
}

TEST(Orchestrator, IndependentBranchesCompensateInParallel) {
  // 0 and 1 compensable roots; 2 needs both and fails.
  SeededRng rng(1);
  Orchestrator o(MakePlan({{}, {}, {0, 1}}, {Compensable(), Compensable(), StepPolicy{}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  o.OnAttemptSucceeded(kFwd, 1, 1, At(seconds(1)), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 2, 1, 500, true, "boom", At(seconds(2)), out);
  EXPECT_EQ(Starts(out, kComp), (V{0, 1}));
}

TEST(Orchestrator, DeadlineTimesOutRunningStepsThenCompensates) {
  SeededRng rng(1);
  Orchestrator o(MakePlan({{}, {}, {0}}, {Compensable(), Compensable(), Compensable()},
                          /*deadline=*/seconds(10)),
                 rng, {.trace = true});
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  const Command* deadline = Find(out, CommandKind::kArmTimer);
  ASSERT_NE(deadline, nullptr);
  EXPECT_EQ(deadline->fire_at, At(seconds(10)));
  const TimerId deadline_timer = deadline->timer;
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  out.clear();
  o.OnTimerFired(deadline_timer, At(seconds(10)), out);
  EXPECT_EQ(Cancels(out), (V{1, 2}));
  EXPECT_EQ(o.step_state(1), StepState::kTimedOut);
  EXPECT_EQ(o.step_state(2), StepState::kTimedOut);
  EXPECT_EQ(o.last_code(2), kCodeTimedOut);
  EXPECT_EQ(Starts(out, kComp), V{0});
  EXPECT_EQ(o.stop_cause(), StopCause::kDeadline);
  EXPECT_EQ(o.stats().steps_timed_out, 2u);
  out.clear();
  o.OnAttemptSucceeded(kComp, 0, 1, At(seconds(11)), out);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompensated);
  EXPECT_EQ(o.trace().back().event, TraceEvent::kSagaCompensated);
}

TEST(Orchestrator, DeadlineAlsoTimesOutStepsWaitingToRetry) {
  StepPolicy policy;
  policy.retry = RetryPolicy{.max_attempts = 3, .backoff = {.initial = seconds(5)}};
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}}, policy, seconds(3)), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  const TimerId deadline_timer = Find(out, CommandKind::kArmTimer)->timer;
  o.OnAttemptFailed(kFwd, 0, 1, 500, true, "boom", At(seconds(1)), out);
  EXPECT_EQ(o.step_state(0), StepState::kBackoff);
  out.clear();
  o.OnTimerFired(deadline_timer, At(seconds(3)), out);
  EXPECT_EQ(Cancels(out), V{}) << "nothing is running";
  EXPECT_EQ(o.step_state(0), StepState::kTimedOut);
  EXPECT_EQ(o.outcome(), SagaOutcome::kFailed);
}

TEST(Orchestrator, AbortCancelsRunningStepsThenCompensates) {
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}, {}, {}}, Compensable()), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  o.OnAttemptSucceeded(kFwd, 1, 1, At(seconds(1)), out);
  out.clear();
  o.Abort(At(seconds(2)), out);
  EXPECT_EQ(Cancels(out), V{2});
  EXPECT_EQ(o.step_state(2), StepState::kCancelled);
  EXPECT_EQ(o.last_code(2), kCodeCancelled);
  EXPECT_EQ(Starts(out, kComp), (V{0, 1}));
  EXPECT_EQ(o.stop_cause(), StopCause::kAbort);
  out.clear();
  o.Abort(At(seconds(3)), out);
  EXPECT_TRUE(out.empty()) << "a second abort is ignored";
}

TEST(Orchestrator, AbortWithNothingToCompensateEndsFailed) {
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}, {}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  out.clear();
  o.Abort(At(seconds(1)), out);
  EXPECT_EQ(Cancels(out), (V{0, 1}));
  EXPECT_EQ(o.outcome(), SagaOutcome::kFailed);
}

TEST(Orchestrator, ExhaustedCompensationEndsCompensationFailedNamingTheSteps) {
  // 0 and 1 compensable roots, 2 fails. 1's compensation fails 3 times (the
  // default compensate_retry); 0's succeeds: best effort continues.
  StepPolicy compensable = Compensable();
  compensable.compensate_retry.backoff.initial = Duration{0};
  SeededRng rng(1);
  Orchestrator o(MakePlan({{}, {}, {}}, {compensable, compensable, StepPolicy{}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  o.OnAttemptSucceeded(kFwd, 1, 1, At(seconds(1)), out);
  o.OnAttemptFailed(kFwd, 2, 1, 500, true, "boom", At(seconds(2)), out);
  out.clear();
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    o.OnAttemptFailed(kComp, 1, attempt, 500, true, "undo failed", At(seconds(2 + attempt)), out);
  }
  EXPECT_EQ(o.compensation_attempts(1), 3u);
  EXPECT_EQ(o.step_state(1), StepState::kCompensationFailed);
  EXPECT_FALSE(o.finished());
  o.OnAttemptSucceeded(kComp, 0, 1, At(seconds(6)), out);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompensationFailed);
  EXPECT_EQ(o.compensation_failed_steps(), V{1});
  EXPECT_EQ(o.stats().steps_compensation_failed, 1u);
  EXPECT_EQ(o.stats().compensation_attempts, 4u);
}

TEST(Orchestrator, CompensationAttemptTimesOutAndRetries) {
  StepPolicy compensable = Compensable();
  compensable.timeout = seconds(1);
  compensable.compensate_retry.backoff.initial = Duration{0};
  SeededRng rng(1);
  Orchestrator o(MakePlan({{}, {}}, {compensable, StepPolicy{}}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(Duration{milliseconds(500)}), out);
  out.clear();
  o.OnAttemptFailed(kFwd, 1, 1, 500, true, "boom", At(seconds(2)), out);
  EXPECT_EQ(Starts(out, kComp), V{0});
  out.clear();
  o.OnAttemptStarted(kComp, 0, 1, At(seconds(2)), out);
  TimerId comp_timer = 0;
  for (const Command& c : out) {
    if (c.kind == CommandKind::kArmTimer) comp_timer = c.timer;
  }
  ASSERT_NE(comp_timer, 0u);
  out.clear();
  o.OnTimerFired(comp_timer, At(seconds(3)), out);
  EXPECT_EQ(Cancels(out), V{0});
  EXPECT_EQ(Starts(out, kComp), V{0});
  EXPECT_EQ(o.compensation_attempts(0), 2u);
  out.clear();
  o.OnAttemptSucceeded(kComp, 0, 2, At(seconds(3)), out);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompensated);
}

TEST(Orchestrator, StaleTimersAndResultsAreIgnored) {
  StepPolicy policy;
  policy.timeout = seconds(5);
  SeededRng rng(1);
  Orchestrator o(UniformPlan({{}, {0}}, policy), rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  out.clear();
  o.OnAttemptStarted(kFwd, 0, 1, At(seconds(0)), out);
  const TimerId timeout0 = Find(out, CommandKind::kArmTimer)->timer;
  out.clear();
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  out.clear();
  o.OnTimerFired(timeout0, At(seconds(5)), out);
  EXPECT_TRUE(out.empty());
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(5)), out);  // duplicate delivery
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(o.step_state(1), StepState::kRunning);
  EXPECT_EQ(o.stats().stale_results_ignored, 2u);
}

TEST(Orchestrator, EmptySagaCompletesAtOnce) {
  SeededRng rng(1);
  Orchestrator o(UniformPlan({}), rng);
  std::vector<Command> out;
  o.Start(At(seconds(1)), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].outcome, SagaOutcome::kCompleted);
}

TEST(Orchestrator, NamesAreTheDocumentedStrings) {
  const std::vector<std::string> expected = {
      "saga_started",        "step_started",   "step_succeeded",        "step_failed",
      "step_timed_out",      "step_cancelled", "compensation_started",  "compensation_succeeded",
      "compensation_failed", "saga_completed", "saga_compensated",      "saga_compensation_failed",
      "saga_failed",         "step_scheduled", "compensation_scheduled"};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(TraceEventName(static_cast<TraceEvent>(i)), expected[i]);
  }
  EXPECT_STREQ(StepStateName(StepState::kTimedOut), "timed_out");
  EXPECT_STREQ(StepStateName(StepState::kCompensationFailed), "compensation_failed");
  EXPECT_STREQ(SagaOutcomeName(SagaOutcome::kCompensationFailed), "compensation_failed");
}

TEST(Orchestrator, RestoredStateContinuesIdentically) {
  StepPolicy policy = Compensable(CompensateWhen::kAttempted);
  policy.timeout = seconds(2);
  policy.retry =
      RetryPolicy{.max_attempts = 3, .backoff = {.initial = milliseconds(10)}, .jitter = 0.3};
  auto plan = UniformPlan(Diamond(), policy, seconds(30));
  auto script = [](AttemptPhase phase, StepIndex s, std::uint32_t attempt) {
    testing::AttemptScript a;
    a.duration = milliseconds(100 * (s + 1) + attempt);
    if (phase == kFwd && s == 2 && attempt < 3) a.result = testing::AttemptScript::Result::kHang;
    if (phase == kFwd && s == 4) a.result = testing::AttemptScript::Result::kFail;
    return a;
  };
  testing::SimDriver original(plan, 7, script);
  original.Start();
  original.Run(6);
  auto forked = original.Fork();
  EXPECT_EQ(forked->orch().Serialize(), original.orch().Serialize());
  original.Run();
  forked->Run();
  EXPECT_EQ(forked->commands(), original.commands());
  EXPECT_EQ(forked->orch().Serialize(), original.orch().Serialize());
  EXPECT_EQ(original.orch().outcome(), SagaOutcome::kCompensated);
}

TEST(Orchestrator, RestoreRejectsCorruptTruncatedAndForeignState) {
  SeededRng rng(1);
  auto plan = UniformPlan(Diamond(), Compensable());
  Orchestrator o(plan, rng);
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out, "output");
  const std::string bytes = o.Serialize();

  Orchestrator fresh(plan, rng);
  const std::string before = fresh.Serialize();
  EXPECT_FALSE(fresh.Restore(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(fresh.Restore(bytes + "x").ok());
  std::string bad_magic = bytes;
  bad_magic[0] ^= 1;
  EXPECT_FALSE(fresh.Restore(bad_magic).ok());
  EXPECT_EQ(fresh.Serialize(), before) << "a failed restore leaves the state unchanged";

  Orchestrator other(UniformPlan({{}, {0}}), rng);
  EXPECT_EQ(other.Restore(bytes).code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(fresh.Restore(bytes).ok());
  EXPECT_EQ(fresh.output(0), "output");
  EXPECT_EQ(fresh.step_state(1), StepState::kRunning);
  EXPECT_EQ(fresh.Serialize(), bytes);
}

TEST(Orchestrator, PlanRejectsBadPolicies) {
  auto graph = SagaGraph::FromNeeds({{}});
  ASSERT_TRUE(graph.ok());
  StepPolicy zero_attempts;
  zero_attempts.retry.max_attempts = 0;
  EXPECT_FALSE(SagaPlan::Uniform(*graph, zero_attempts).ok());
  StepPolicy bad_jitter;
  bad_jitter.retry.jitter = 1.5;
  EXPECT_FALSE(SagaPlan::Uniform(*graph, bad_jitter).ok());
  EXPECT_FALSE(SagaPlan::Make(*graph, {}).ok()) << "one policy per step";
  StepPolicy bad_code;
  bad_code.retry.retry_on = {1000};
  EXPECT_FALSE(SagaPlan::Uniform(*graph, bad_code).ok()) << "codes are in [0, 999]";
  StepPolicy negative_code;
  negative_code.compensate_retry.non_retryable = {-1};
  EXPECT_FALSE(SagaPlan::Uniform(*graph, negative_code).ok());
  StepPolicy unsorted;
  unsorted.retry.non_retryable = {503, 500};
  EXPECT_FALSE(SagaPlan::Uniform(*graph, unsorted).ok()) << "Make takes sorted lists";
  StepPolicy negative_timeout;
  negative_timeout.schedule_to_close = seconds(-1);
  EXPECT_FALSE(SagaPlan::Uniform(*graph, negative_timeout).ok());
}

TEST(Orchestrator, PlanFromSpecSortsRetryCodesAndCarriesTheThreeTimeouts) {
  SagaSpec spec;
  StepSpec step{.id = "a",
                .timeout = seconds(1),
                .schedule_to_start = seconds(2),
                .schedule_to_close = seconds(3)};
  step.retry.non_retryable = {503, 400, 503};
  step.retry.retry_on = {502, 408};
  spec.steps.push_back(step);
  auto plan = SagaPlan::FromSpec(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ((*plan)->retry(0).non_retryable, (std::vector<int>{400, 503}));
  EXPECT_EQ((*plan)->retry(0).retry_on, (std::vector<int>{408, 502}));
  EXPECT_EQ((*plan)->timeout(0), seconds(1));
  EXPECT_EQ((*plan)->schedule_to_start(0), seconds(2));
  EXPECT_EQ((*plan)->schedule_to_close(0), seconds(3));
  EXPECT_TRUE((*plan)->any_timeout());
  SagaSpec other = spec;
  other.steps[0].schedule_to_close = seconds(4);
  auto other_plan = SagaPlan::FromSpec(other);
  ASSERT_TRUE(other_plan.ok());
  EXPECT_NE((*plan)->fingerprint(), (*other_plan)->fingerprint())
      << "the fingerprint covers schedule_to_close";
}

TEST(Orchestrator, RetryAllowsCodeFollowsBothLists) {
  RetryPolicy policy;
  EXPECT_TRUE(RetryAllowsCode(policy, 503)) << "no lists: every code";
  policy.non_retryable = {400, 404};
  EXPECT_FALSE(RetryAllowsCode(policy, 404));
  EXPECT_TRUE(RetryAllowsCode(policy, 503));
  policy.retry_on = {408, 503};
  EXPECT_TRUE(RetryAllowsCode(policy, 408));
  EXPECT_FALSE(RetryAllowsCode(policy, 500)) << "retry_on lists the only retried codes";
  policy.non_retryable = {503};
  EXPECT_FALSE(RetryAllowsCode(policy, 503)) << "non_retryable wins";
}

TEST(Orchestrator, PlanFromSpecCarriesPolicies) {
  SagaSpec spec;
  spec.deadline = seconds(9);
  spec.steps.push_back(StepSpec{.id = "a", .compensate = Action{NoopAction{}}});
  spec.steps.push_back(StepSpec{.id = "b",
                                .needs = {"a"},
                                .timeout = seconds(2),
                                .compensate_when = CompensateWhen::kAttempted});
  auto plan = SagaPlan::FromSpec(spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ((*plan)->deadline(), seconds(9));
  EXPECT_TRUE((*plan)->has_compensate(0));
  EXPECT_FALSE((*plan)->has_compensate(1));
  EXPECT_EQ((*plan)->timeout(1), seconds(2));
  EXPECT_EQ((*plan)->compensate_when(1), CompensateWhen::kAttempted);
  EXPECT_EQ((*plan)->compensate_retry(0).max_attempts, 3u);
}

}  // namespace
}  // namespace tri::saga

namespace tri::saga {
namespace {

std::string Render(const std::vector<TraceRecord>& trace) {
  std::string text;
  for (const TraceRecord& r : trace) {
    text += std::to_string(std::chrono::duration_cast<std::chrono::seconds>(r.time).count()) + "s ";
    text += r.step == kNoStep ? std::string("-") : std::to_string(r.step);
    text += std::string(" ") + TraceEventName(r.event);
    if (r.attempt != 0) text += " #" + std::to_string(r.attempt);
    if (r.code != 0) text += " code=" + std::to_string(r.code);
    text += "\n";
  }
  return text;
}

// The demo's failure scenario: diamond 0 -> {1,2,3} -> 4, step 3 fails after
// 0, 1 and 2 succeeded; 0, 1, 2 are compensated, 1 and 2 before 0.
TEST(Orchestrator, DiamondWithAFailingBranchTraceReadsAsExpected) {
  SeededRng rng(1);
  Orchestrator o(UniformPlan(Diamond(), Compensable()), rng, {.trace = true});
  std::vector<Command> out;
  o.Start(At(seconds(0)), out);
  o.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out);
  o.OnAttemptSucceeded(kFwd, 1, 1, At(seconds(2)), out);
  o.OnAttemptSucceeded(kFwd, 2, 1, At(seconds(2)), out);
  o.OnAttemptFailed(kFwd, 3, 1, 503, false, "down", At(seconds(3)), out);
  o.OnAttemptSucceeded(kComp, 2, 1, At(seconds(4)), out);
  o.OnAttemptSucceeded(kComp, 1, 1, At(seconds(5)), out);
  o.OnAttemptSucceeded(kComp, 0, 1, At(seconds(6)), out);
  EXPECT_EQ(Render(o.TakeTrace()),
            "0s - saga_started\n"
            "0s 0 step_scheduled #1\n"
            // No started report: a result implies the start, at its own time.
            "1s 0 step_started #1\n"
            "1s 0 step_succeeded #1\n"
            "1s 1 step_scheduled #1\n"
            "1s 2 step_scheduled #1\n"
            "1s 3 step_scheduled #1\n"
            "2s 1 step_started #1\n"
            "2s 1 step_succeeded #1\n"
            "2s 2 step_started #1\n"
            "2s 2 step_succeeded #1\n"
            "3s 3 step_started #1\n"
            "3s 3 step_failed #1 code=503\n"
            "3s 1 compensation_scheduled #1\n"
            "3s 2 compensation_scheduled #1\n"
            "4s 2 compensation_started #1\n"
            "4s 2 compensation_succeeded #1\n"
            "5s 1 compensation_started #1\n"
            "5s 1 compensation_succeeded #1\n"
            "5s 0 compensation_scheduled #1\n"
            "6s 0 compensation_started #1\n"
            "6s 0 compensation_succeeded #1\n"
            "6s - saga_compensated\n");
  EXPECT_TRUE(o.trace().empty()) << "TakeTrace hands the records over";
  const SagaStats stats = o.stats();
  EXPECT_EQ(stats.steps_succeeded, 3u);
  EXPECT_EQ(stats.steps_failed, 1u);
  EXPECT_EQ(stats.steps_not_started, 1u);
  EXPECT_EQ(stats.steps_compensated, 3u);
  EXPECT_EQ(stats.stop_cause, StopCause::kStepFailed);
}

TEST(Orchestrator, ApplyingEventsEqualsCallingTheMethods) {
  StepPolicy policy = Compensable();
  policy.timeout = seconds(5);
  policy.retry.max_attempts = 2;
  auto plan = UniformPlan(Diamond(), policy, seconds(100));
  SeededRng rng_a(3), rng_b(3);
  Orchestrator a(plan, rng_a, {.trace = true});
  Orchestrator b(plan, rng_b, {.trace = true});
  std::vector<Command> out_a, out_b;
  a.Start(At(seconds(0)), out_a);
  b.Apply(Event{.kind = EventKind::kStart, .now = At(seconds(0))}, out_b);
  a.OnAttemptStarted(kFwd, 0, 1, At(seconds(0)), out_a);
  b.Apply(Event{.kind = EventKind::kAttemptStarted, .now = At(seconds(0)), .step = 0, .attempt = 1},
          out_b);
  a.OnAttemptSucceeded(kFwd, 0, 1, At(seconds(1)), out_a, "x");
  b.Apply(Event{.kind = EventKind::kAttemptSucceeded,
                .now = At(seconds(1)),
                .step = 0,
                .attempt = 1,
                .payload = "x"},
          out_b);
  a.OnAttemptFailed(kFwd, 2, 1, 502, true, "gw", At(seconds(2)), out_a);
  b.Apply(Event{.kind = EventKind::kAttemptFailed,
                .now = At(seconds(2)),
                .step = 2,
                .attempt = 1,
                .code = 502,
                .retryable = true,
                .payload = "gw"},
          out_b);
  const TimerId timer = Find(out_a, CommandKind::kArmTimer)->timer;
  a.OnTimerFired(timer, At(seconds(3)), out_a);
  b.Apply(Event{.kind = EventKind::kTimerFired, .now = At(seconds(3)), .timer = timer}, out_b);
  a.Abort(At(seconds(4)), out_a);
  b.Apply(Event{.kind = EventKind::kAbortRequested, .now = At(seconds(4))}, out_b);
  EXPECT_EQ(out_a, out_b);
  EXPECT_EQ(a.trace(), b.trace());
  EXPECT_EQ(a.Serialize(), b.Serialize());
  EXPECT_TRUE(a.compensating());
}

}  // namespace
}  // namespace tri::saga
