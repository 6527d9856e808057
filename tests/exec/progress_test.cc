// What `tri run` shows: event lines and the live count of steps by state,
// fed with events as the runtime reports them.

#include "exec/progress.h"

#include <gtest/gtest.h>

#include <string>

#include "saga/dsl/parser.h"

namespace tri::exec {
namespace {

using saga::StepState;
using saga::TraceEvent;

class Progress : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spec = saga::ParseSaga(R"(name: p
steps:
  - {id: a, run: noop, compensate: noop}
  - {id: b, run: noop, compensate: noop}
  - {id: c, needs: [a, b], run: noop}
)",
                                "p.yaml");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto definition = SagaDefinition::Make(std::move(*spec));
    ASSERT_TRUE(definition.ok());
    definition_ = *definition;
  }

  // Feeds one event to the counter and returns its line.
  std::string Observe(saga::StepIndex step, TraceEvent event, StepState after, int code = 0,
                      std::uint32_t attempt = 1) {
    const saga::TraceRecord record{
        .time = TimePoint{0}, .step = step, .event = event, .attempt = attempt, .code = code};
    const SagaEvent saga_event{.saga_id = id_,
                               .definition = *definition_,
                               .record = record,
                               .since_start = Duration{0},
                               .unix_ms = 0,
                               .step_state = after};
    counter_.Observe(saga_event);
    return EventLine(saga_event);
  }

  std::string id_ = "s-1";
  std::shared_ptr<const SagaDefinition> definition_;
  StepStateCounter counter_{3};
};

TEST_F(Progress, AFailedAttemptThatWillBeRetriedCountsAsRetryingNotFailed) {
  Observe(0, TraceEvent::kStepStarted, StepState::kRunning);
  EXPECT_EQ(counter_.Line(0.5), "0/3 succeeded, 1 running, 0.5s");
  const std::string line = Observe(0, TraceEvent::kStepFailed, StepState::kBackoff, 503);
  EXPECT_EQ(line, "[    0.000s] step a: step_failed (attempt 1) code 503, will retry");
  EXPECT_EQ(counter_.count(StepState::kFailed), 0u);
  EXPECT_EQ(counter_.Line(1.0), "0/3 succeeded, 0 running, 1 retrying, 1.0s");
  Observe(0, TraceEvent::kStepStarted, StepState::kRunning, 0, 2);
  const std::string final_failure = Observe(0, TraceEvent::kStepFailed, StepState::kFailed, 503, 2);
  EXPECT_EQ(final_failure, "[    0.000s] step a: step_failed (attempt 2) code 503");
  EXPECT_EQ(counter_.Line(2.0), "0/3 succeeded, 0 running, 1 failed, 2.0s");
}

TEST_F(Progress, CompensationInProgressIsShown) {
  Observe(1, TraceEvent::kStepStarted, StepState::kRunning);
  Observe(1, TraceEvent::kStepSucceeded, StepState::kSucceeded);
  Observe(0, TraceEvent::kStepStarted, StepState::kRunning);
  Observe(0, TraceEvent::kStepFailed, StepState::kFailed, 409);
  Observe(1, TraceEvent::kCompensationStarted, StepState::kCompensating);
  EXPECT_EQ(counter_.Line(0.1), "0/3 succeeded, 0 running, 1 failed, compensating 1, 0.1s");
  Observe(1, TraceEvent::kCompensationSucceeded, StepState::kCompensated);
  EXPECT_EQ(counter_.Line(0.2), "0/3 succeeded, 0 running, 1 failed, 1 compensated, 0.2s");
  EXPECT_EQ(counter_.count(StepState::kPending), 1u);
}

TEST_F(Progress, SagaLevelEventsNameTheSagaAndCountNoStep) {
  const saga::TraceRecord record{.event = TraceEvent::kSagaStarted};
  const SagaEvent event{.saga_id = id_,
                        .definition = *definition_,
                        .record = record,
                        .since_start = std::chrono::milliseconds(1500),
                        .unix_ms = 0,
                        .step_state = StepState::kPending};
  counter_.Observe(event);
  EXPECT_EQ(EventLine(event), "[    1.500s] saga s-1: saga_started");
  EXPECT_EQ(counter_.count(StepState::kPending), 3u);
}

}  // namespace
}  // namespace tri::exec
