// The in-process runtime driving real orchestrators with the real clock:
// each test runs small sagas end to end and checks what the runtime reports.

#include "exec/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exec/report_json.h"
#include "saga/dsl/parser.h"
#include "saga/saga_id.h"

namespace tri::exec {
namespace {

std::shared_ptr<const SagaDefinition> Define(const std::string& yaml) {
  auto spec = saga::ParseSaga(yaml, "test.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  auto definition = SagaDefinition::Make(std::move(*spec));
  EXPECT_TRUE(definition.ok()) << definition.status().ToString();
  return *definition;
}

StepReport Step(const SagaResult& result, const std::string& id) {
  for (const auto& step : result.steps()) {
    if (step.id == id) return step;
  }
  ADD_FAILURE() << "no step " << id;
  return result.steps().front();
}

// Collects trace lines (as JSON) of one saga.
struct TraceLog {
  std::mutex mutex;
  std::vector<nlohmann::json> lines;
  std::function<void(const SagaEvent&)> Observer() {
    return [this](const SagaEvent& event) {
      std::lock_guard lock(mutex);
      lines.push_back(nlohmann::json::parse(TraceLineJson(event)));
    };
  }
  // Index of the first line with `event` (and `step`, when given); -1 if none.
  int Find(const std::string& event, const std::string& step = "") {
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i]["event"] != event) continue;
      if (!step.empty() && (!lines[i].contains("step") || lines[i]["step"] != step)) continue;
      return static_cast<int>(i);
    }
    return -1;
  }
};

constexpr const char* kNoopDiamond = R"(name: diamond
steps:
  - {id: a, run: noop}
  - {id: b, needs: [a], run: noop}
  - {id: c, needs: [a], run: noop}
  - {id: d, needs: [a], run: noop}
  - {id: e, needs: [b, c, d], run: noop}
)";

TEST(Runtime, DiamondOfNoopsCompletesWithItsThreeMiddleStepsInParallel) {
  Runtime runtime;
  TraceLog trace;
  auto result = runtime.Run(Define(kNoopDiamond), SubmitOptions{.on_event = trace.Observer()});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kCompleted);
  EXPECT_EQ(result->stats.steps_succeeded, 5u);
  EXPECT_EQ(result->stats.max_parallelism, 3u);
  EXPECT_EQ(result->stats.levels, 3u);
  EXPECT_EQ(trace.Find("saga_started"), 0);
  EXPECT_GT(trace.Find("saga_completed"), trace.Find("step_succeeded", "e"));
  EXPECT_LT(trace.Find("step_succeeded", "a"), trace.Find("step_started", "b"));
  EXPECT_EQ(runtime.running_sagas(), 0u);
}

TEST(Runtime, FailureCompensatesSucceededStepsChildrenFirst) {
  Runtime runtime;
  TraceLog trace;
  auto result = runtime.Run(Define(R"(name: order
steps:
  - {id: reserve, run: noop, compensate: noop}
  - {id: charge, needs: [reserve], run: {sleep: {duration: 5ms}}, compensate: noop}
  - id: ship
    needs: [reserve]
    run: {fail: {code: 503, message: "no trucks", after: 50ms, retryable: false}}
    compensate: noop
  - {id: notify, needs: [charge, ship], run: noop, compensate: noop}
)"),
                            SubmitOptions{.on_event = trace.Observer()});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kCompensated);
  EXPECT_EQ(Step(*result, "ship").forward_state, saga::StepState::kFailed);
  EXPECT_EQ(Step(*result, "ship").code, 503);
  EXPECT_EQ(Step(*result, "ship").message, "no trucks");
  EXPECT_EQ(Step(*result, "notify").state, saga::StepState::kPending);
  EXPECT_EQ(Step(*result, "charge").state, saga::StepState::kCompensated);
  EXPECT_EQ(Step(*result, "reserve").state, saga::StepState::kCompensated);
  EXPECT_EQ(result->stats.steps_compensated, 2u);
  EXPECT_LT(trace.Find("compensation_succeeded", "charge"),
            trace.Find("compensation_started", "reserve"));
  EXPECT_GE(trace.Find("saga_compensated"), 0);
}

TEST(Runtime, RetryableFailuresAreRetriedUntilAttemptsRunOut) {
  Runtime runtime;
  auto result = runtime.Run(Define(R"(name: flaky
defaults:
  retry: {max_attempts: 3, backoff: {initial: 1ms, multiplier: 2, max: 5ms}, jitter: 0.5}
steps:
  - {id: a, run: {fail: {code: 500, message: boom}}}
)"),
                            {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kFailed);
  EXPECT_EQ(Step(*result, "a").attempts, 3u);
  EXPECT_EQ(result->stats.retries, 2u);
}

TEST(Runtime, DeadlineTimesOutRunningStepsWith408) {
  Runtime runtime;
  const auto started = std::chrono::steady_clock::now();
  auto result = runtime.Run(Define(R"(name: slow
deadline: 100ms
steps:
  - {id: quick, run: noop, compensate: noop}
  - {id: long1, run: {sleep: {duration: 30s}}, compensate: noop}
  - {id: long2, run: {sleep: {duration: 30s}}, compensate: noop}
)"),
                            {});
  ASSERT_TRUE(result.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20))
      << "the deadline did not stop the sleeps";
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kCompensated);
  EXPECT_EQ(result->stop_cause, saga::StopCause::kDeadline);
  EXPECT_EQ(Step(*result, "long1").forward_state, saga::StepState::kTimedOut);
  EXPECT_EQ(Step(*result, "long1").code, 408);
  EXPECT_EQ(Step(*result, "quick").state, saga::StepState::kCompensated);
  EXPECT_EQ(result->stats.steps_timed_out, 2u);
}

TEST(Runtime, AbortCancelsRunningStepsWith499ThenCompensates) {
  Runtime runtime;
  std::promise<SagaResult> done;
  auto id = runtime.Submit(Define(R"(name: abortable
steps:
  - {id: quick, run: noop, compensate: noop}
  - {id: long, run: {sleep: {duration: 30s}}, compensate: noop}
)"),
                           SubmitOptions{.saga_id = "abort-me", .on_finished = [&](SagaResult r) {
                                           done.set_value(std::move(r));
                                         }});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "abort-me");
  ASSERT_TRUE(runtime.Abort("abort-me").ok());
  const SagaResult result = done.get_future().get();
  EXPECT_EQ(result.stop_cause, saga::StopCause::kAbort);
  EXPECT_EQ(Step(result, "long").forward_state, saga::StepState::kCancelled);
  EXPECT_EQ(Step(result, "long").code, 499);
  EXPECT_EQ(runtime.Abort("abort-me").code(), StatusCode::kNotFound);
}

TEST(Runtime, AdmissionControlRefusesSagasBeyondTheLimitWithAClearError) {
  Runtime runtime(RuntimeOptions{.max_running_sagas = 2});
  auto definition = Define("name: long\nsteps:\n  - {id: a, run: {sleep: {duration: 30s}}}\n");
  std::atomic<int> finished{0};
  SubmitOptions submit{.on_finished = [&](SagaResult) { ++finished; }};
  auto first = runtime.Submit(definition, submit);
  auto second = runtime.Submit(definition, submit);
  ASSERT_TRUE(first.ok() && second.ok());
  auto third = runtime.Submit(definition, submit);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("too many running sagas"), std::string::npos)
      << third.status().message();
  ASSERT_TRUE(runtime.Abort(*first).ok());
  while (runtime.running_sagas() > 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(runtime.Submit(definition, submit).ok());
}

TEST(Runtime, RunningSagaIdIsRefusedWithoutTheAlreadyRunningFlag) {
  Runtime runtime;
  auto definition = Define("name: long\nsteps:\n  - {id: a, run: {sleep: {duration: 30s}}}\n");
  ASSERT_TRUE(runtime.Submit(definition, SubmitOptions{.saga_id = "x"}).ok());
  auto again = runtime.Submit(definition, SubmitOptions{.saga_id = "x"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("already running"), std::string::npos);
}

TEST(Runtime, SubmittingARunningIdReturnsThatSagaInsteadOfStartingAnother) {
  Runtime runtime;
  auto definition = Define("name: long\nsteps:\n  - {id: a, run: {sleep: {duration: 30s}}}\n");
  bool first_running = true;
  auto first = runtime.Submit(
      definition, SubmitOptions{.saga_id = "order-7", .already_running = &first_running});
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first_running);
  std::atomic<int> second_finished{0};
  bool second_running = false;
  auto second = runtime.Submit(definition,
                               SubmitOptions{.saga_id = "order-7",
                                             .on_finished = [&](SagaResult) { ++second_finished; },
                                             .already_running = &second_running});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, "order-7");
  EXPECT_TRUE(second_running);
  EXPECT_EQ(runtime.running_sagas(), 1u);
  ASSERT_TRUE(runtime.Abort("order-7").ok());
  while (runtime.running_sagas() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(second_finished, 0) << "the refused submission's callback ran";
}

TEST(Runtime, InvalidClientIdIsRefused) {
  Runtime runtime;
  auto definition = Define("name: n\nsteps:\n  - {id: a, run: noop}\n");
  for (const char* bad : {"has space", "..", "a/b", "ünïcode"}) {
    auto submitted = runtime.Submit(definition, SubmitOptions{.saga_id = bad});
    EXPECT_EQ(submitted.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Runtime, EveryRunGetsItsOwnIdAndIdempotencyKeys) {
  Runtime runtime;
  auto definition = Define(R"(name: keys
steps:
  - id: a
    retry: {max_attempts: 2, backoff: {initial: 1ms}}
    run: {exec: {argv: [sh, -c, 'echo "{\"id\": \"$0\", \"key\": \"$1\"}"; test "$2" = 2', "${saga.id}", "${idempotency_key}", "${attempt}"]}}
)");
  std::vector<nlohmann::json> outputs;
  std::vector<std::string> ids;
  for (int run = 0; run < 2; ++run) {
    auto result = runtime.Run(definition, {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->outcome, saga::SagaOutcome::kCompleted) << SagaResultToJson(*result).dump(2);
    EXPECT_EQ(result->saga_id.size(), saga::kUlidLength) << result->saga_id;
    EXPECT_TRUE(saga::ValidateSagaId(result->saga_id).ok()) << result->saga_id;
    ids.push_back(result->saga_id);
    outputs.push_back(nlohmann::json::parse(std::string(Step(*result, "a").output)));
  }
  EXPECT_NE(ids[0], ids[1]);
  for (int run = 0; run < 2; ++run) {
    EXPECT_EQ(outputs[run]["id"], ids[run]);
    // The output is attempt 2's: keys are per attempt.
    EXPECT_EQ(outputs[run]["key"], ids[run] + "/a/2");
  }
}

TEST(Runtime, InputsAreCheckedAndDefaultsFilled) {
  auto definition = Define(R"(name: inputs
inputs:
  region: {}
  size: {default: "3"}
steps:
  - {id: a, run: noop}
)");
  auto missing = ResolveInputs(definition->spec, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing required input region"), std::string::npos)
      << missing.status().message();
  auto unknown = ResolveInputs(definition->spec, {{"regoin", "eu"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown input 'regoin'"), std::string::npos);
  auto resolved = ResolveInputs(definition->spec, {{"region", "eu"}});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->at("size"), "3");
  Runtime runtime;
  EXPECT_EQ(runtime.Submit(definition, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Runtime, ExecStepSeesInputsAndTheOutputOfAStepItNeeds) {
  Runtime runtime;
  auto result = runtime.Run(Define(R"(name: templated
inputs:
  want: {default: "7"}
steps:
  - id: produce
    run: {exec: {argv: [sh, -c, 'echo "{\"id\": $0}"', "${input.want}"]}}
  - id: consume
    needs: [produce]
    run: {exec: {argv: [sh, -c, 'test "$0" = "$1"', "${steps.produce.output.id}", "${input.want}"]}}
)"),
                            {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kCompleted) << SagaResultToJson(*result).dump(2);
  EXPECT_EQ(nlohmann::json::parse(std::string(Step(*result, "produce").output))["id"], 7);
}

TEST(Runtime, OutputBeyondTheStepOutputLimitFailsTheStep) {
  RuntimeOptions options;
  options.limits.max_step_output_bytes = 16;
  Runtime runtime(options);
  auto result = runtime.Run(
      Define("name: big\nsteps:\n  - {id: a, run: {exec: {argv: [head, -c, '100', /dev/zero]}}}\n"),
      {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kFailed);
  EXPECT_NE(Step(*result, "a").message.find("16"), std::string::npos) << Step(*result, "a").message;
}

TEST(Runtime, StepTimeoutStopsAChildProcess) {
  Runtime runtime(
      RuntimeOptions{.process = ProcessOptions{.kill_grace = std::chrono::milliseconds(200)}});
  const auto started = std::chrono::steady_clock::now();
  auto result = runtime.Run(Define(R"(name: hang
steps:
  - {id: a, timeout: 100ms, run: {exec: {argv: [sleep, "30"]}}}
)"),
                            {});
  ASSERT_TRUE(result.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_EQ(Step(*result, "a").forward_state, saga::StepState::kTimedOut);
  EXPECT_EQ(Step(*result, "a").code, 408);
}

TEST(Runtime, DestroyingTheRuntimeStopsRunningProcesses) {
  const auto started = std::chrono::steady_clock::now();
  {
    Runtime runtime;
    ASSERT_TRUE(
        runtime
            .Submit(Define("name: p\nsteps:\n  - {id: a, run: {exec: {argv: [sleep, '30']}}}\n"),
                    {})
            .ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

TEST(Runtime, TraceLinesCarryTheDocumentedFields) {
  Runtime runtime;
  TraceLog trace;
  ASSERT_TRUE(runtime.Run(Define(kNoopDiamond), SubmitOptions{.on_event = trace.Observer()}).ok());
  ASSERT_FALSE(trace.lines.empty());
  std::int64_t last_ts = 0;
  for (const auto& line : trace.lines) {
    for (const char* field : {"ts_ns", "saga", "event", "attempt", "code"}) {
      EXPECT_TRUE(line.contains(field)) << line.dump();
    }
    EXPECT_GE(line["ts_ns"].get<std::int64_t>(), last_ts);
    last_ts = line["ts_ns"];
    const bool saga_level = line["event"].get<std::string>().rfind("saga_", 0) == 0;
    EXPECT_EQ(line.contains("step"), !saga_level) << line.dump();
  }
}

TEST(Runtime, StepThatSucceededAfterAFailedAttemptReportsNoFailureCode) {
  Runtime runtime;
  auto result = runtime.Run(Define(R"(name: flaky
steps:
  - id: a
    retry: {max_attempts: 2, backoff: {initial: 1ms}}
    run: {exec: {argv: [sh, -c, 'test "$0" = 2 || { echo boom >&2; exit 3; }', "${attempt}"]}}
    compensate: noop
  - {id: b, needs: [a], run: {fail: {code: 409, message: conflict, retryable: false}}}
)"),
                            {});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->outcome, saga::SagaOutcome::kCompensated);
  const StepReport a = Step(*result, "a");
  EXPECT_EQ(a.attempts, 2u);
  EXPECT_EQ(a.forward_state, saga::StepState::kSucceeded);
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.message, "");
  EXPECT_EQ(SagaResultToJson(*result)["steps"][0]["code"], 0);
  EXPECT_EQ(Step(*result, "b").code, 409);
}

TEST(Runtime, StepTimesAreRecordedOnRequest) {
  Runtime runtime;
  auto definition = Define(R"(name: timed
steps:
  - {id: a, run: {sleep: {duration: 20ms}}, compensate: noop}
  - {id: b, needs: [a], run: {fail: {code: 409, retryable: false}}}
  - {id: c, needs: [b], run: noop}
)");
  auto plain = runtime.Run(definition, {});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->step_times.empty());
  EXPECT_EQ(Step(*plain, "a").times.started_unix_ms, 0);

  auto timed = runtime.Run(definition, SubmitOptions{.record_step_times = true});
  ASSERT_TRUE(timed.ok());
  const StepTimes a = Step(*timed, "a").times;
  EXPECT_GE(a.started_unix_ms, timed->started_unix_ms);
  EXPECT_GE(a.ended_unix_ms, a.started_unix_ms);
  EXPECT_GE(a.compensation_started_unix_ms, a.ended_unix_ms);
  EXPECT_GE(a.compensation_ended_unix_ms, a.compensation_started_unix_ms);
  EXPECT_GT(Step(*timed, "b").times.ended_unix_ms, 0);
  EXPECT_EQ(Step(*timed, "b").times.compensation_started_unix_ms, 0);
  EXPECT_EQ(Step(*timed, "c").times.started_unix_ms, 0);  // never started
  const auto json = SagaResultToJson(*timed);
  EXPECT_EQ(json["steps"][0]["started_unix_ms"], a.started_unix_ms);
  EXPECT_TRUE(json["steps"][2]["started_unix_ms"].is_null());
}

TEST(Runtime, EventsTellARetriedAttemptFromAFailedStep) {
  Runtime runtime;
  std::vector<bool> will_retry;
  auto result = runtime.Run(Define(R"(name: flaky
steps:
  - id: a
    retry: {max_attempts: 2, backoff: {initial: 1ms}}
    run: {fail: {code: 503}}
)"),
                            SubmitOptions{.on_event = [&](const SagaEvent& event) {
                              if (event.record.event == saga::TraceEvent::kStepFailed) {
                                will_retry.push_back(WillRetry(event));
                              }
                            }});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(will_retry, (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace tri::exec
