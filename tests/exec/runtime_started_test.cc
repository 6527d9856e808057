// The runtime reports when an attempt really starts: time an exec attempt
// spends waiting for a free executor thread counts against schedule_to_start,
// not against the attempt's timeout (start_to_close). The margins are wide
// (a 1 s blocker against 100-500 ms limits), so outcomes do not depend on
// the machine's speed.

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "exec/runtime.h"

namespace tri::exec {
namespace {

using std::chrono::milliseconds;

saga::StepSpec ExecStep(const std::string& id, std::vector<std::string> argv) {
  return saga::StepSpec{.id = id, .run = saga::ExecAction{.argv = std::move(argv)}};
}

std::shared_ptr<const SagaDefinition> Define(std::vector<saga::StepSpec> steps) {
  saga::SagaSpec spec;
  spec.name = "started";
  spec.steps = std::move(steps);
  auto definition = SagaDefinition::Make(std::move(spec));
  EXPECT_TRUE(definition.ok()) << definition.status().ToString();
  return *definition;
}

// "event step" per trace record, in order.
struct Events {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(const SagaEvent&)> Observer(const SagaDefinition& def) {
    return [this, &def](const SagaEvent& event) {
      std::lock_guard lock(mutex);
      const auto step = event.record.step;
      lines.push_back(std::string(saga::TraceEventName(event.record.event)) +
                      (step == saga::kNoStep ? "" : " " + std::string(def.step_ids[step])));
    };
  }
  bool Has(const std::string& line) {
    std::lock_guard lock(mutex);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
};

TEST(RuntimeStarted, WaitingForAThreadTimesOutOnScheduleToStart) {
  RuntimeOptions options;
  options.blocking_threads = 1;
  Runtime runtime(options);
  saga::StepSpec blocker = ExecStep("blocker", {"sleep", "1"});
  saga::StepSpec waiting = ExecStep("waiting", {"true"});
  waiting.schedule_to_start = milliseconds(100);
  auto def = Define({blocker, waiting});
  Events events;
  auto result = runtime.Run(def, SubmitOptions{.on_event = events.Observer(*def)});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kFailed);
  EXPECT_TRUE(events.Has("step_scheduled waiting"));
  EXPECT_FALSE(events.Has("step_started waiting")) << "it never got a thread";
  EXPECT_TRUE(events.Has("step_timed_out waiting"));
  EXPECT_TRUE(events.Has("step_started blocker"));
  EXPECT_EQ(result->final_state->last_code(1), saga::kCodeTimedOut);
}

TEST(RuntimeStarted, WaitingForAThreadDoesNotCountAgainstTheAttemptTimeout) {
  RuntimeOptions options;
  options.blocking_threads = 1;
  Runtime runtime(options);
  saga::StepSpec blocker = ExecStep("blocker", {"sleep", "1"});
  saga::StepSpec quick = ExecStep("quick", {"true"});
  quick.timeout = milliseconds(500);  // shorter than its wait for the thread
  auto def = Define({blocker, quick});
  Events events;
  auto result = runtime.Run(def, SubmitOptions{.on_event = events.Observer(*def)});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kCompleted);
  EXPECT_TRUE(events.Has("step_started quick"));
}

TEST(RuntimeStarted, SleepAndFailStartOnTheLoop) {
  Runtime runtime;
  saga::StepSpec sleep{.id = "sleep", .run = saga::SleepAction{.duration = milliseconds(10)}};
  saga::StepSpec fail{.id = "fail",
                      .needs = {"sleep"},
                      .run = saga::FailAction{.code = 503, .after = milliseconds(10)}};
  auto def = Define({sleep, fail});
  Events events;
  auto result = runtime.Run(def, SubmitOptions{.on_event = events.Observer(*def)});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kFailed);
  std::lock_guard lock(events.mutex);
  EXPECT_EQ(events.lines,
            (std::vector<std::string>{"saga_started", "step_scheduled sleep", "step_started sleep",
                                      "step_succeeded sleep", "step_scheduled fail",
                                      "step_started fail", "step_failed fail", "saga_failed"}));
}

}  // namespace
}  // namespace tri::exec
