// The runtime starts a step's next attempt, or its compensation, only after
// the previous attempt's process group has been reaped; a finished saga is
// reported only after every process it started is gone. The steps here trap
// SIGTERM and write to a journal file after they were cancelled, as a
// program that commits on its way out would.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "exec/report_json.h"
#include "exec/runtime.h"
#include "saga/dsl/parser.h"

namespace tri::exec {
namespace {

std::shared_ptr<const SagaDefinition> Define(const std::string& yaml) {
  auto spec = saga::ParseSaga(yaml, "test.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  auto definition = SagaDefinition::Make(std::move(*spec));
  EXPECT_TRUE(definition.ok()) << definition.status().ToString();
  return *definition;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

class Journal : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "tri_reaping_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt";
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // A forward action that writes "start-N", then on SIGTERM takes a while
  // before it writes "end-N" and exits 0 (the SIGKILL grace is longer).
  std::string StubbornStep() const {
    return "[sh, -c, 'echo start-$1 >> \"$0\"; trap \"sleep 0.3; echo end-$1 >> \\\"$0\\\"; exit "
           "0\" TERM; while :; do sleep 0.05; done', '" +
           path_ + "', '${attempt}']";
  }

  std::string path_;
};

RuntimeOptions LongGrace() {
  RuntimeOptions options;
  options.process.kill_grace = std::chrono::seconds(10);
  return options;
}

TEST_F(Journal, CompensationStartsOnlyAfterTheTimedOutAttemptWasReaped) {
  Runtime runtime(LongGrace());
  auto result = runtime.Run(Define(R"(name: stubborn
steps:
  - id: a
    timeout: 100ms
    compensate_when: attempted
    run: {exec: {argv: )" + StubbornStep() +
                                   R"(}}
    compensate: {exec: {argv: [sh, -c, 'echo compensated >> "$0"', ')" +
                                   path_ + R"(']}}
)"),
                            {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kCompensated) << SagaResultToJson(*result).dump(2);
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{"start-1", "end-1", "compensated"}));
}

TEST_F(Journal, RetryStartsOnlyAfterTheTimedOutAttemptWasReaped) {
  Runtime runtime(LongGrace());
  auto result = runtime.Run(Define(R"(name: stubborn
steps:
  - id: a
    timeout: 400ms
    retry: {max_attempts: 2, backoff: {initial: 1ms}}
    run: {exec: {argv: )" + StubbornStep() +
                                   R"(}}
)"),
                            {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->outcome, saga::SagaOutcome::kFailed) << SagaResultToJson(*result).dump(2);
  // Attempt 2's timeout runs from when the orchestrator started it, so on a
  // very slow machine it may end before its process started; either way it
  // never starts before attempt 1 ended.
  const std::vector<std::string> lines = Lines(path_);
  const std::vector<std::string> both{"start-1", "end-1", "start-2", "end-2"};
  const std::vector<std::string> first{"start-1", "end-1"};
  EXPECT_TRUE(lines == both || lines == first) << ::testing::PrintToString(lines);
}

TEST_F(Journal, AbortedSagaIsReportedOnlyOnceItsProcessesAreReaped) {
  Runtime runtime(LongGrace());
  std::promise<SagaResult> done;
  auto definition = Define(R"(name: stubborn
steps:
  - id: a
    run: {exec: {argv: )" + StubbornStep() +
                           R"(}}
)");
  auto id = runtime.Submit(definition, SubmitOptions{.on_finished = [&](SagaResult r) {
                             done.set_value(std::move(r));
                           }});
  ASSERT_TRUE(id.ok());
  // Abort once the step is surely running (bounded wait for its first line).
  for (int i = 0; i < 1000 && Lines(path_).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(Lines(path_).empty()) << "the step never started";
  ASSERT_TRUE(runtime.Abort(*id).ok());
  const SagaResult result = done.get_future().get();
  EXPECT_EQ(result.outcome, saga::SagaOutcome::kFailed);
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{"start-1", "end-1"}));
  EXPECT_EQ(runtime.running_sagas(), 0u);
}

}  // namespace
}  // namespace tri::exec
