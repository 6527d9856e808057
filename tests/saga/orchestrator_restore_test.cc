// Restore's validation: states the orchestrator cannot reach are refused with
// an error naming what disagrees, and leave the orchestrator unchanged.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/rng.h"
#include "saga/orchestrator.h"

namespace tri::saga {
namespace {

using std::chrono::seconds;

constexpr auto kFwd = AttemptPhase::kForward;

// Byte offsets of the version 2 format (orchestrator_serialize.cc): the fixed
// header, then one fixed-size record per step.
constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 4 + 3 + 3 * 8 + 4 * 4 + 4 + 8 + 3 * 8 + 6 * 4;
constexpr std::size_t kStepBytes = 4 * 4 + 6 + 6 * 8;
constexpr std::size_t kCountSucceededOffset = kHeaderBytes - 6 * 4;
constexpr std::size_t kForwardUnfinishedOffset = 4 + 4 + 8 + 4 + 3 + 3 * 8;
constexpr std::size_t kStateInStep = 16;
constexpr std::size_t kForwardStateInStep = 17;
constexpr std::size_t kAttemptRunningInStep = 19;

std::size_t StepField(StepIndex s, std::size_t field) {
  return kHeaderBytes + s * kStepBytes + field;
}

void PutU32(std::string& bytes, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::shared_ptr<const SagaPlan> DiamondPlan() {
  auto graph = SagaGraph::FromNeeds({{}, {0}, {0}, {0}, {1, 2, 3}});
  TRI_ASSERT(graph.ok());
  StepPolicy policy{.has_compensate = true};
  policy.retry.max_attempts = 2;
  auto plan = SagaPlan::Uniform(std::move(*graph), policy);
  TRI_ASSERT(plan.ok());
  return *plan;
}

// Step 0 succeeded; 1, 2 and 3 are running (1 and 2 really started).
std::string MidRunState(const std::shared_ptr<const SagaPlan>& plan) {
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  std::vector<Command> out;
  o.Start(TimePoint{seconds(0)}, out);
  o.OnAttemptStarted(kFwd, 0, 1, TimePoint{seconds(0)}, out);
  o.OnAttemptSucceeded(kFwd, 0, 1, TimePoint{seconds(1)}, out);
  o.OnAttemptStarted(kFwd, 1, 1, TimePoint{seconds(1)}, out);
  o.OnAttemptStarted(kFwd, 2, 1, TimePoint{seconds(1)}, out);
  return o.Serialize();
}

TEST(OrchestratorRestore, LayoutOffsetsMatchTheFormat) {
  const auto plan = DiamondPlan();
  const std::string bytes = MidRunState(plan);
  ASSERT_EQ(bytes.size(), kHeaderBytes + 5 * kStepBytes + 4 + 4 + 4 + 4);
  EXPECT_EQ(bytes[StepField(0, kStateInStep)], static_cast<char>(StepState::kSucceeded));
  EXPECT_EQ(bytes[StepField(1, kStateInStep)], static_cast<char>(StepState::kRunning));
  EXPECT_EQ(bytes[StepField(1, kAttemptRunningInStep)], 1);
  EXPECT_EQ(bytes[kCountSucceededOffset], 1);
  EXPECT_EQ(bytes[kForwardUnfinishedOffset], 4);
}

// Regression: this state passed Restore and then died on an assertion in
// Abort (a succeeded step with an attempt still in flight).
TEST(OrchestratorRestore, RefusesASucceededStepWithAnAttemptInFlight) {
  const auto plan = DiamondPlan();
  std::string bytes = MidRunState(plan);
  bytes[StepField(1, kStateInStep)] = static_cast<char>(StepState::kSucceeded);
  bytes[StepField(1, kForwardStateInStep)] = static_cast<char>(StepState::kSucceeded);
  // Make the counters agree, so that only the per-step state is wrong.
  PutU32(bytes, kCountSucceededOffset, 2);
  PutU32(bytes, kForwardUnfinishedOffset, 3);
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  const Status status = o.Restore(bytes);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("step 1"), std::string::npos) << status.ToString();
  EXPECT_FALSE(o.started()) << "a refused state leaves the orchestrator as it was";
}

TEST(OrchestratorRestore, RefusesCountersThatDisagreeWithTheSteps) {
  const auto plan = DiamondPlan();
  std::string bytes = MidRunState(plan);
  PutU32(bytes, kCountSucceededOffset, 2);
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  const Status status = o.Restore(bytes);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("statistics"), std::string::npos) << status.ToString();
}

TEST(OrchestratorRestore, RefusesARunningStepWhoseNeedsDidNotSucceed) {
  const auto plan = DiamondPlan();
  std::string bytes = MidRunState(plan);
  // Step 0 back to running: steps 1-3 now run before their need succeeded.
  bytes[StepField(0, kStateInStep)] = static_cast<char>(StepState::kRunning);
  bytes[StepField(0, kForwardStateInStep)] = static_cast<char>(StepState::kRunning);
  bytes[StepField(0, kAttemptRunningInStep)] = 1;
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  EXPECT_EQ(o.Restore(bytes).code(), StatusCode::kCorruption);
}

TEST(OrchestratorRestore, RefusesAttemptNumbersAboveMaxAttempts) {
  const auto plan = DiamondPlan();
  std::string bytes = MidRunState(plan);
  PutU32(bytes, StepField(1, 4), 3);  // attempt 3 of at most 2
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  EXPECT_EQ(o.Restore(bytes).code(), StatusCode::kCorruption);
}

TEST(OrchestratorRestore, RefusesACompensatingStepOutsideTheCompensationSet) {
  auto graph = SagaGraph::FromNeeds({{}, {}});
  ASSERT_TRUE(graph.ok());
  // Step 0 has a compensation, step 1 none.
  auto plan = SagaPlan::Make(std::move(*graph), {StepPolicy{.has_compensate = true}, StepPolicy{}});
  ASSERT_TRUE(plan.ok());
  SeededRng rng(1);
  Orchestrator o(*plan, rng);
  std::vector<Command> out;
  o.Start(TimePoint{seconds(0)}, out);
  o.OnAttemptSucceeded(kFwd, 0, 1, TimePoint{seconds(1)}, out);
  o.Abort(TimePoint{seconds(2)}, out);  // 1 cancelled; 0 compensating
  ASSERT_TRUE(o.compensating());
  std::string bytes = o.Serialize();
  Orchestrator good(*plan, rng);
  ASSERT_TRUE(good.Restore(bytes).ok());
  // Mark step 1 as compensating too.
  bytes[StepField(1, kStateInStep)] = static_cast<char>(StepState::kCompensating);
  Orchestrator bad(*plan, rng);
  const Status status = bad.Restore(bytes);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("step 1"), std::string::npos) << status.ToString();
}

TEST(OrchestratorRestore, RefusesAnOutcomeThatDisagreesWithThePhase) {
  const auto plan = DiamondPlan();
  std::string bytes = MidRunState(plan);
  bytes[4 + 4 + 8 + 4 + 1] = static_cast<char>(SagaOutcome::kCompleted);
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  EXPECT_EQ(o.Restore(bytes).code(), StatusCode::kCorruption);
}

TEST(OrchestratorRestore, RefusesTheOldFormatVersion) {
  const auto plan = DiamondPlan();
  std::string bytes = MidRunState(plan);
  PutU32(bytes, 4, 1);
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  EXPECT_EQ(o.Restore(bytes).code(), StatusCode::kFailedPrecondition);
}

TEST(OrchestratorRestore, AcceptedStateSurvivesAbortTimersAndResults) {
  const auto plan = DiamondPlan();
  SeededRng rng(1);
  Orchestrator o(plan, rng);
  ASSERT_TRUE(o.Restore(MidRunState(plan)).ok());
  EXPECT_EQ(o.running(), 2u);
  EXPECT_EQ(o.in_flight(), 3u);
  std::vector<Command> out;
  o.Abort(TimePoint{seconds(2)}, out);
  EXPECT_TRUE(o.compensating());
  o.OnAttemptSucceeded(AttemptPhase::kCompensate, 0, 1, TimePoint{seconds(3)}, out);
  EXPECT_EQ(o.outcome(), SagaOutcome::kCompensated);
}

}  // namespace
}  // namespace tri::saga
