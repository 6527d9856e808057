// `tri run` as a user drives it: exit codes per outcome, usage errors, ids,
// per-step times, the stop cause, per-run limits, and signals (a first
// Ctrl-C aborts, a second one or SIGTERM exits at once and leaves no child
// process behind). The binary runs as a child process.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/run_tri.h"

namespace {

using namespace std::chrono_literals;

// A generous bound for waits that normally take milliseconds.
constexpr auto kPromptBound = 20s;

using tri::cli::testing::Ran;
using tri::cli::testing::RunTri;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TriRun : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tri-run-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // Writes `yaml` to a file in the test directory; returns its path.
  std::string Saga(const std::string& name, const std::string& yaml) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << yaml;
    return path;
  }

  std::string dir_;
};

TEST_F(TriRun, ExitStatusTellsTheOutcome) {
  EXPECT_EQ(RunTri("run examples/diamond.yaml").exit_code, 0);
  EXPECT_EQ(RunTri("run examples/compensation.yaml").exit_code, 3);
  const std::string failed = Saga("failed.yaml", R"(name: f
steps:
  - {id: a, run: {fail: {code: 409, retryable: false}}}
)");
  EXPECT_EQ(RunTri("run " + failed).exit_code, 1);
  const std::string compensation_failed = Saga("cf.yaml", R"(name: cf
steps:
  - {id: a, run: noop, compensate: {fail: {code: 500}}, compensate_retry: {max_attempts: 1}}
  - {id: b, needs: [a], run: {fail: {code: 409, retryable: false}}}
)");
  const Ran ran = RunTri("run " + compensation_failed);
  EXPECT_EQ(ran.exit_code, 4) << ran.out;
  EXPECT_NE(ran.out.find("compensation failed for: a"), std::string::npos) << ran.out;
}

TEST_F(TriRun, UsageErrorsExit2) {
  EXPECT_EQ(RunTri("run examples/diamond.yaml --no-such-flag").exit_code, 2);
  EXPECT_EQ(RunTri("run").exit_code, 2);
  EXPECT_EQ(RunTri("run examples/diamond.yaml --input novalue").exit_code, 2);
  EXPECT_EQ(RunTri("run examples/diamond.yaml --blocking-threads 0").exit_code, 2);
  const Ran bad_id = RunTri("run examples/diamond.yaml --id 'no spaces'");
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_NE(bad_id.out.find("--id"), std::string::npos) << bad_id.out;
  EXPECT_EQ(RunTri("run examples/diamond.yaml --id ..").exit_code, 2);
}

TEST_F(TriRun, EachRunHasItsOwnIdUnlessGivenOne) {
  const auto first = nlohmann::json::parse(RunTri("run examples/diamond.yaml --json").out);
  const auto second = nlohmann::json::parse(RunTri("run examples/diamond.yaml --json").out);
  EXPECT_NE(first["saga"], second["saga"]);
  EXPECT_EQ(first["saga"].get<std::string>().size(), 26u);
  const auto chosen =
      nlohmann::json::parse(RunTri("run examples/diamond.yaml --json --id order-42").out);
  EXPECT_EQ(chosen["saga"], "order-42");
}

TEST_F(TriRun, JsonReportsEachStepsStartAndEndTimes) {
  const Ran ran = RunTri("run examples/compensation.yaml --json");
  const auto result = nlohmann::json::parse(ran.out, nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << ran.out;
  const std::int64_t saga_started = result["started_unix_ms"];
  EXPECT_GT(saga_started, 1'600'000'000'000);  // a unix time in ms, not a monotonic one
  for (const auto& step : result["steps"]) {
    if (step["attempts"] == 0) {
      EXPECT_TRUE(step["started_unix_ms"].is_null()) << step.dump();
      EXPECT_TRUE(step["ended_unix_ms"].is_null()) << step.dump();
      continue;
    }
    const std::int64_t started = step["started_unix_ms"];
    const std::int64_t ended = step["ended_unix_ms"];
    EXPECT_GE(started, saga_started) << step.dump();
    EXPECT_GE(ended, started) << step.dump();
    EXPECT_EQ(step["started_at"].get<std::string>().back(), 'Z') << step.dump();
    if (step["state"] == "compensated") {
      EXPECT_GE(step["compensation_started_unix_ms"].get<std::int64_t>(), ended) << step.dump();
      EXPECT_GE(step["compensation_ended_unix_ms"].get<std::int64_t>(),
                step["compensation_started_unix_ms"].get<std::int64_t>())
          << step.dump();
    }
  }
}

TEST_F(TriRun, SummaryNamesWhatStoppedTheSaga) {
  EXPECT_NE(RunTri("run examples/compensation.yaml")
                .out.find("stopped by: failure of step charge (code 402)"),
            std::string::npos);
  const std::string late = Saga("late.yaml", R"(name: late
deadline: 50ms
steps:
  - {id: a, run: {sleep: {duration: 30s}}, compensate: noop, compensate_when: attempted}
)");
  const Ran ran = RunTri("run " + late);
  EXPECT_EQ(ran.exit_code, 3) << ran.out;
  EXPECT_NE(ran.out.find("stopped by: deadline"), std::string::npos) << ran.out;
}

TEST_F(TriRun, ARetriedAttemptIsNotAFailedStep) {
  const std::string flaky = Saga("flaky.yaml", R"(name: flaky
steps:
  - id: a
    retry: {max_attempts: 2, backoff: {initial: 1ms}}
    run: {exec: {argv: [sh, -c, 'test "$0" = 2', "${attempt}"]}}
)");
  const Ran ran = RunTri("run " + flaky);
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("step a: step_failed (attempt 1) code 1, will retry"), std::string::npos)
      << ran.out;
  const auto result = nlohmann::json::parse(RunTri("run " + flaky + " --json").out);
  EXPECT_EQ(result["steps"][0]["code"], 0);
  EXPECT_EQ(result["steps"][0]["attempts"], 2);
}

TEST_F(TriRun, LimitsCanBeRaisedOrLoweredPerRun) {
  const std::string chatty = Saga("chatty.yaml", R"(name: chatty
steps:
  - {id: a, run: {exec: {argv: [printf, '0123456789']}}}
)");
  EXPECT_EQ(RunTri("run " + chatty).exit_code, 0);
  const Ran small = RunTri("run " + chatty + " --max-output-bytes 4");
  EXPECT_EQ(small.exit_code, 1) << small.out;
  EXPECT_EQ(RunTri("run " + chatty + " --max-document-bytes 10").exit_code, 2);
  EXPECT_EQ(RunTri("run examples/diamond.yaml --max-steps 2").exit_code, 2);
  EXPECT_EQ(RunTri("run examples/diamond.yaml --max-steps 100 --max-running-sagas 1").exit_code, 0);
}

// --- signals -----------------------------------------------------------------

// `tri run` started in the background, its output in files.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::string& out_file) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::freopen(out_file.c_str(), "w", stdout);
      std::freopen((out_file + ".err").c_str(), "w", stderr);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(TRI_BINARY));
      for (const std::string& arg : args)
        argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      ::execv(TRI_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

bool WaitForText(const std::string& file, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + kPromptBound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(file).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// Processes of group `pgid` that are not zombies.
int LiveProcessesInGroup(const std::string& pgid) {
  const std::string command =
      "ps -e -o pgid=,stat= | awk '$1 == " + pgid + " && $2 !~ /^Z/' | wc -l";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  int count = -1;
  if (std::fscanf(pipe, "%d", &count) != 1) count = -1;
  pclose(pipe);
  return count;
}

bool GroupEventuallyHas(const std::string& pgid, int processes) {
  const auto deadline = std::chrono::steady_clock::now() + kPromptBound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (LiveProcessesInGroup(pgid) == processes) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool GroupEventuallyGone(const std::string& pgid) {
  return GroupEventuallyHas(pgid, 0);
}

// A step that ignores SIGTERM (the runtime would wait out the 2 s grace) and
// has a background child, beside a long sleep; the trace and the plain
// output are read while it runs.
constexpr const char* kStubborn = R"(name: stubborn
steps:
  - id: a
    run: {exec: {argv: [sh, -c, 'echo $$ > "$0"; trap "" TERM; sleep 300 & wait', '{PID}']}}
    compensate: noop
    compensate_when: attempted
  - {id: b, run: {sleep: {duration: 300s}}, compensate: noop}
)";

std::string Stubborn(const std::string& pid_file) {
  std::string yaml = kStubborn;
  yaml.replace(yaml.find("{PID}"), 5, pid_file);
  return yaml;
}

TEST_F(TriRun, SecondCtrlCExits130AtOnceAndKillsEveryChildProcessGroup) {
  const std::string pid_file = dir_ + "/a.pid";
  const std::string saga = Saga("stubborn.yaml", Stubborn(pid_file));
  const std::string trace = dir_ + "/trace.jsonl", out = dir_ + "/out.txt";
  Background tri({"run", saga, "--trace-json", trace}, out);
  // Both outputs are flushed per event: they show the start while it runs.
  ASSERT_TRUE(WaitForText(trace, "\"step_started\"")) << ReadFile(out + ".err");
  ASSERT_TRUE(WaitForText(out, "step a: step_started")) << ReadFile(out);
  ASSERT_TRUE(WaitForText(pid_file, "\n"));
  const std::string pgid = ReadFile(pid_file).substr(0, ReadFile(pid_file).find('\n'));
  ASSERT_TRUE(GroupEventuallyHas(pgid, 2));  // sh and its background sleep
  tri.Signal(SIGINT);
  ASSERT_TRUE(WaitForText(out + ".err", "aborting")) << ReadFile(out + ".err");
  // Step a ignores SIGTERM: the abort is still waiting for it.
  tri.Signal(SIGINT);
  EXPECT_EQ(tri.Wait(), 130) << ReadFile(out + ".err");
  EXPECT_TRUE(GroupEventuallyGone(pgid)) << "step a's process group outlived tri run";
}

TEST_F(TriRun, SigtermExits143AtOnceAndKillsEveryChildProcessGroup) {
  const std::string pid_file = dir_ + "/a.pid";
  const std::string saga = Saga("stubborn.yaml", Stubborn(pid_file));
  const std::string out = dir_ + "/out.txt";
  Background tri({"run", saga}, out);
  ASSERT_TRUE(WaitForText(pid_file, "\n"));
  const std::string pgid = ReadFile(pid_file).substr(0, ReadFile(pid_file).find('\n'));
  ASSERT_TRUE(GroupEventuallyHas(pgid, 2));  // sh and its background sleep
  tri.Signal(SIGTERM);
  EXPECT_EQ(tri.Wait(), 143) << ReadFile(out + ".err");
  EXPECT_TRUE(GroupEventuallyGone(pgid)) << "step a's process group outlived tri run";
}

TEST_F(TriRun, FirstCtrlCAbortsAndCompensates) {
  const std::string saga = Saga("long.yaml", R"(name: long
steps:
  - {id: a, run: noop, compensate: noop}
  - {id: b, needs: [a], run: {sleep: {duration: 300s}}, compensate: noop}
)");
  const std::string out = dir_ + "/out.txt";
  Background tri({"run", saga}, out);
  ASSERT_TRUE(WaitForText(out, "step b: step_started")) << ReadFile(out);
  tri.Signal(SIGINT);
  EXPECT_EQ(tri.Wait(), 3) << ReadFile(out) << ReadFile(out + ".err");
  EXPECT_NE(ReadFile(out).find("stopped by: abort"), std::string::npos) << ReadFile(out);
}

}  // namespace
