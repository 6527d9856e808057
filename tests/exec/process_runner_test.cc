// RunProcess against real small programs: exit codes, output capture and
// bounds, environment, cwd, shell mode, spawn errors, signals, and
// cancellation that leaves no process behind. Each case runs with the pidfd
// watcher and with the polling fallback.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "exec/blocking_actions.h"
#include "saga/events.h"

namespace tri::exec {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A generous bound that separates "prompt" from "hung": the sleeps being
// interrupted last 30 s.
constexpr auto kPromptBound = 10s;

// Gone, or a zombie awaiting its (new) parent: either way it runs no more.
bool ProcessIsDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  std::size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  char state = line[paren + 2];
  return state == 'Z' || state == 'X';
}

// Every process whose process group is `pgid` is dead (zombies count as
// dead: orphans wait for init to reap them).
bool GroupIsDead(pid_t pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!stat || !std::getline(stat, line)) continue;
    std::size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(line.substr(paren + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') return false;
  }
  return true;
}

bool GroupEventuallyDead(pid_t pgid) {
  auto deadline = Clock::now() + kPromptBound;
  while (Clock::now() < deadline) {
    if (GroupIsDead(pgid)) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// Dying after SIGKILL is asynchronous for processes we did not reap.
bool EventuallyDead(pid_t pid) {
  auto deadline = Clock::now() + kPromptBound;
  while (Clock::now() < deadline) {
    if (ProcessIsDead(pid)) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

class ProcessRunner : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tri-exec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    options_.use_pidfd = GetParam();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ActionOutcome Run(saga::ExecAction action) {
    CancelToken token;
    return RunProcess(action, options_, token);
  }
  ActionOutcome Sh(const std::string& script) { return Run({.argv = {"/bin/sh", "-c", script}}); }

  // Waits (bounded) for the child to write its pid into `file`.
  pid_t ReadPid(const std::string& file) {
    auto deadline = Clock::now() + kPromptBound;
    while (Clock::now() < deadline) {
      std::ifstream in(file);
      long pid = 0;
      if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no pid in " << file;
    return -1;
  }

  // Runs `script` in the background, cancels it once it wrote its pid to
  // $PIDFILE, and returns the outcome and how long the run took.
  struct Cancelled {
    ActionOutcome outcome;
    Clock::duration took;
    pid_t pid;
  };
  Cancelled RunAndCancel(const std::string& script) {
    std::string pid_file = dir_ + "/pid";
    saga::ExecAction action{.argv = {"/bin/sh", "-c", script}, .env = {{"PIDFILE", pid_file}}};
    CancelToken token;
    auto start = Clock::now();
    auto running =
        std::async(std::launch::async, [&] { return RunProcess(action, options_, token); });
    pid_t pid = ReadPid(pid_file);
    token.Cancel();
    bool done = running.wait_for(kPromptBound) == std::future_status::ready;
    EXPECT_TRUE(done) << "cancel did not end the process";
    if (!done && pid > 0) ::kill(-pid, SIGKILL);  // do not leave the test hanging
    ActionOutcome outcome = running.get();
    return {std::move(outcome), Clock::now() - start, pid};
  }

  std::string dir_;
  ProcessOptions options_;
};

TEST_P(ProcessRunner, TrueSucceedsWithEmptyOutput) {
  ActionOutcome outcome = Run({.argv = {"/bin/true"}});
  EXPECT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "");
}

TEST_P(ProcessRunner, FalseFailsRetryablyWithItsExitCode) {
  ActionOutcome outcome = Run({.argv = {"false"}});  // found via PATH
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 1);
  EXPECT_TRUE(outcome.retryable);
  EXPECT_NE(outcome.message.find("exited with status 1"), std::string::npos) << outcome.message;
}

TEST_P(ProcessRunner, ExitStatusBecomesTheCode) {
  ActionOutcome outcome = Sh("exit 3");
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 3);
  EXPECT_TRUE(outcome.retryable);
}

TEST_P(ProcessRunner, StdoutIsTheOutput) {
  ActionOutcome outcome = Run({.argv = {"echo", R"({"id": "r-1", "ok": true})"}});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "{\"id\": \"r-1\", \"ok\": true}\n");
}

TEST_P(ProcessRunner, StderrIsNotPartOfTheOutput) {
  ActionOutcome outcome = Sh("echo out; echo err >&2");
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "out\n");
}

TEST_P(ProcessRunner, StdinIsEmpty) {
  ActionOutcome outcome = Run({.argv = {"wc", "-c"}});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(std::stoi(outcome.output), 0);
}

TEST_P(ProcessRunner, EnvironmentIsInheritedPlusOverrides) {
  ::setenv("TRI_EXEC_TEST_INHERITED", "from-parent", 1);
  ::setenv("TRI_EXEC_TEST_OVERRIDDEN", "old", 1);
  ActionOutcome outcome =
      Run({.argv = {"/bin/sh", "-c",
                    "printf '%s|%s|%s' \"$TRI_EXEC_TEST_INHERITED\" \"$TRI_EXEC_TEST_OVERRIDDEN\" "
                    "\"$TRI_EXEC_TEST_NEW\""},
           .env = {{"TRI_EXEC_TEST_OVERRIDDEN", "new"}, {"TRI_EXEC_TEST_NEW", "added"}}});
  ::unsetenv("TRI_EXEC_TEST_INHERITED");
  ::unsetenv("TRI_EXEC_TEST_OVERRIDDEN");
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "from-parent|new|added");
}

TEST_P(ProcessRunner, WorkingDirectoryIsHonoured) {
  ActionOutcome outcome = Run({.argv = {"pwd"}, .cwd = dir_});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, std::filesystem::canonical(dir_).string() + "\n");
}

TEST_P(ProcessRunner, ShellModeJoinsArgvForShDashC) {
  ActionOutcome outcome = Run({.argv = {"echo", "$((1 + 2))", "|", "tr", "3", "x"}, .shell = true});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "x\n");
}

TEST_P(ProcessRunner, WithoutShellModeArgumentsAreLiteral) {
  ActionOutcome outcome = Run({.argv = {"echo", "$HOME", "|", "x"}});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "$HOME | x\n");
}

TEST_P(ProcessRunner, MissingProgramIs127AndNotRetryable) {
  ActionOutcome outcome = Run({.argv = {"tri-no-such-program-xyz", "arg"}});
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 127);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("tri-no-such-program-xyz"), std::string::npos);
  EXPECT_NE(outcome.message.find("No such file or directory"), std::string::npos)
      << outcome.message;
}

TEST_P(ProcessRunner, NonExecutableFileIs127AndNotRetryable) {
  std::string path = dir_ + "/not-executable";
  std::ofstream(path) << "#!/bin/sh\necho hi\n";
  ::chmod(path.c_str(), 0644);
  ActionOutcome outcome = Run({.argv = {path}});
  EXPECT_EQ(outcome.code, 127);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("Permission denied"), std::string::npos) << outcome.message;
}

TEST_P(ProcessRunner, MissingWorkingDirectoryIs127NamingIt) {
  std::string missing = dir_ + "/no-such-dir";
  ActionOutcome outcome = Run({.argv = {"/bin/true"}, .cwd = missing});
  EXPECT_EQ(outcome.code, 127);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("working directory '" + missing + "'"), std::string::npos)
      << outcome.message;
}

TEST_P(ProcessRunner, EmptyArgvIs127) {
  ActionOutcome outcome = Run({});
  EXPECT_EQ(outcome.code, 127);
  EXPECT_FALSE(outcome.retryable);
}

TEST_P(ProcessRunner, OutputExactlyAtTheLimitSucceeds) {
  options_.max_output_bytes = 64 << 10;
  ActionOutcome outcome = Run({.argv = {"head", "-c", "65536", "/dev/zero"}});
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output.size(), 65536u);
}

TEST_P(ProcessRunner, OutputOverTheLimitFailsNamingTheLimit) {
  options_.max_output_bytes = 64 << 10;
  ActionOutcome outcome = Run({.argv = {"head", "-c", "200000", "/dev/zero"}});
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, saga::kCodeFailed);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_NE(outcome.message.find("65536 bytes"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("SIGKILL"), std::string::npos) << outcome.message;
  EXPECT_TRUE(outcome.output.empty());
}

TEST_P(ProcessRunner, EndlessOutputIsCutOffAndTheGroupKilled) {
  options_.max_output_bytes = 1000;
  std::string pid_file = dir_ + "/pid";
  // `yes` would run forever: only the kill ends it.
  ActionOutcome outcome = Sh("echo $$ > " + pid_file + "; yes");
  EXPECT_EQ(outcome.code, saga::kCodeFailed);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_TRUE(EventuallyDead(ReadPid(pid_file)));
}

TEST_P(ProcessRunner, FailureMessageKeepsTheStderrTail) {
  options_.max_message_bytes = 256;
  ActionOutcome outcome =
      Sh("echo first-line >&2; i=0; while [ $i -lt 500 ]; do echo filler-$i >&2; i=$((i+1)); done; "
         "echo last-words >&2; exit 2");
  EXPECT_EQ(outcome.code, 2);
  EXPECT_LE(outcome.message.size(), 256u);
  EXPECT_NE(outcome.message.find("exited with status 2"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("last-words"), std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.message.find("first-line"), std::string::npos) << outcome.message;
}

TEST_P(ProcessRunner, DeathBySignalIs128PlusTheSignal) {
  ActionOutcome outcome = Sh("kill -9 $$");
  EXPECT_FALSE(outcome.succeeded);
  EXPECT_EQ(outcome.code, 128 + SIGKILL);
  EXPECT_TRUE(outcome.retryable);
  EXPECT_NE(outcome.message.find("signal 9"), std::string::npos) << outcome.message;
}

TEST_P(ProcessRunner, ChildStartsWithDefaultSignalHandling) {
  // We ignore SIGTERM here; the child must not inherit that.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &previous);
  ActionOutcome outcome = Sh("kill -TERM $$; sleep 5");
  ::sigaction(SIGTERM, &previous, nullptr);
  EXPECT_EQ(outcome.code, 128 + SIGTERM) << outcome.message;
}

TEST_P(ProcessRunner, CancelTerminatesTheProcessGroupPromptly) {
  Cancelled run = RunAndCancel("echo $$ > \"$PIDFILE\"; sleep 30");
  EXPECT_FALSE(run.outcome.succeeded);
  EXPECT_EQ(run.outcome.code, saga::kCodeCancelled);
  EXPECT_FALSE(run.outcome.retryable);
  EXPECT_NE(run.outcome.message.find("SIGTERM"), std::string::npos) << run.outcome.message;
  EXPECT_LT(run.took, kPromptBound);
  ASSERT_GT(run.pid, 0);
  EXPECT_TRUE(ProcessIsDead(run.pid));        // reaped by the runner
  EXPECT_TRUE(GroupEventuallyDead(run.pid));  // the sleep too
}

TEST_P(ProcessRunner, CancelEscalatesToSigkillWhenSigtermIsIgnored) {
  options_.kill_grace = 100ms;
  Cancelled run = RunAndCancel("trap '' TERM; echo $$ > \"$PIDFILE\"; sleep 30");
  EXPECT_EQ(run.outcome.code, saga::kCodeCancelled);
  EXPECT_NE(run.outcome.message.find("then SIGKILL"), std::string::npos) << run.outcome.message;
  EXPECT_LT(run.took, kPromptBound);
  EXPECT_TRUE(GroupEventuallyDead(run.pid));
}

TEST_P(ProcessRunner, CancelBeforeStartRunsNothing) {
  CancelToken token;
  token.Cancel();
  std::string marker = dir_ + "/ran";
  ActionOutcome outcome =
      RunProcess({.argv = {"/bin/sh", "-c", "touch " + marker}}, options_, token);
  EXPECT_EQ(outcome.code, saga::kCodeCancelled);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_P(ProcessRunner, GrandchildHoldingStdoutDoesNotHangTheRunner) {
  std::string pid_file = dir_ + "/pid";
  auto start = Clock::now();
  // The background sleep inherits stdout and would keep the pipe open 30 s.
  ActionOutcome outcome = Sh("sleep 30 & echo $! > " + pid_file + "; echo done");
  EXPECT_LT(Clock::now() - start, kPromptBound);
  ASSERT_TRUE(outcome.succeeded) << outcome.message;
  EXPECT_EQ(outcome.output, "done\n");
  EXPECT_TRUE(EventuallyDead(ReadPid(pid_file)));  // killed with its group
}

INSTANTIATE_TEST_SUITE_P(Watchers, ProcessRunner, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Pidfd" : "Polling"; });

// Reads the pid a process wrote to `file`, waiting (bounded) for it.
pid_t WaitForPid(const std::string& file) {
  auto deadline = Clock::now() + kPromptBound;
  while (Clock::now() < deadline) {
    std::ifstream in(file);
    long pid = 0;
    if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
    std::this_thread::sleep_for(5ms);
  }
  return -1;
}

std::string TempFile(const std::string& name) {
  return ::testing::TempDir() + "tri_exec_" + std::to_string(::getpid()) + "_" + name;
}

TEST(ProcessLifetime, ChildDiesWhenTheProcessThatStartedItIsKilled) {
  const std::string pid_file = TempFile("pdeathsig.pid");
  std::remove(pid_file.c_str());
  const pid_t runner = ::fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {
    // A stand-in for `tri run` or the server: starts a long child, then is
    // killed with SIGKILL by the test, so it never cancels anything.
    CancelToken token;
    RunProcess({.argv = {"/bin/sh", "-c", "echo $$ > " + pid_file + "; exec sleep 30"}}, {}, token);
    ::_exit(0);
  }
  const pid_t child = WaitForPid(pid_file);
  ::kill(runner, SIGKILL);
  int status = 0;
  ::waitpid(runner, &status, 0);
  std::remove(pid_file.c_str());
  ASSERT_GT(child, 0) << "the child never wrote its pid";
  EXPECT_TRUE(EventuallyDead(child)) << "the child outlived the process that started it";
}

TEST(ProcessLifetime, StopAllProcessesKillsEveryGroupAndStartsNoMore) {
  const std::string pid_file = TempFile("stopall.pid");
  std::remove(pid_file.c_str());
  // StopAllProcesses cannot be undone: run it in a child process that
  // reports through its exit status.
  const pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    auto running = std::async(std::launch::async, [&] {
      CancelToken token;
      return RunProcess({.argv = {"/bin/sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}},
                        {}, token);
    });
    const pid_t grandchild = WaitForPid(pid_file);
    if (grandchild <= 0) ::_exit(10);
    StopAllProcesses();
    const ActionOutcome stopped = running.get();
    if (stopped.succeeded || stopped.code != 128 + SIGKILL) ::_exit(11);
    if (!EventuallyDead(grandchild)) ::_exit(12);
    CancelToken token;
    const ActionOutcome later = RunProcess({.argv = {"/bin/true"}}, {}, token);
    if (later.succeeded || later.code != saga::kCodeCancelled) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(helper, &status, 0), helper);
  std::remove(pid_file.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  // 10: no pid; 11: the child was not SIGKILLed; 12: the grandchild lived;
  // 13: a later RunProcess started.
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tri::exec
