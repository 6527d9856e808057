// `tri run FILE [--input k=v]... [--id ID] [--json] [--trace-json PATH] [limits]`:
// runs one saga to its end in this process. Exit status (docs/cli.md): 0
// completed, 1 failed, 3 compensated, 4 compensation_failed, 2 a usage error
// (bad flags, file, saga, input or id), 130 after a second Ctrl-C, 143 after
// SIGTERM.
//
// Signals: SIGINT and SIGTERM are blocked in every thread (the runtime's
// threads are started after) and taken by one watcher thread with
// sigtimedwait, so nothing runs in an async signal handler. The first Ctrl-C
// aborts the saga (running steps cancelled, then compensation); a second one,
// or SIGTERM, kills every child process group and exits at once.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "cli/read_document.h"
#include "exec/blocking_actions.h"
#include "exec/progress.h"
#include "exec/report_json.h"
#include "exec/runtime.h"
#include "saga/dsl/parser.h"
#include "saga/saga_id.h"

namespace tri::cli {
namespace {

// Exit statuses of `tri run` (docs/cli.md).
constexpr int kExitCompleted = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCompensated = 3;
constexpr int kExitCompensationFailed = 4;
constexpr int kExitInterrupted = 128 + SIGINT;  // 130
constexpr int kExitTerminated = 128 + SIGTERM;  // 143

struct RunArgs {
  std::string file;
  std::vector<std::string> inputs;
  std::string id;
  bool json = false;
  std::string trace_json;
  std::string http_ca_file;
  std::uint32_t blocking_threads = exec::RuntimeOptions{}.blocking_threads;
  std::uint32_t max_running_sagas = exec::RuntimeOptions{}.max_running_sagas;
  saga::SagaLimits limits;
};

[[noreturn]] void UsageError(const std::string& message) {
  ExitWithError(kExitUsage, message);
}

int ExitCodeFor(saga::SagaOutcome outcome) {
  switch (outcome) {
    case saga::SagaOutcome::kCompleted:
      return kExitCompleted;
    case saga::SagaOutcome::kCompensated:
      return kExitCompensated;
    case saga::SagaOutcome::kCompensationFailed:
      return kExitCompensationFailed;
    case saga::SagaOutcome::kFailed:
    case saga::SagaOutcome::kRunning:
      break;
  }
  return kExitFailed;
}

// Takes SIGINT and SIGTERM on its own thread. The constructor blocks both in
// the calling thread, so it must run before any other thread is started
// (threads inherit the mask).
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this] { Watch(); });
  }
  ~SignalWatcher() {
    stop_ = true;
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Set by the first Ctrl-C; the saga's owner aborts it.
  bool abort_requested() const { return interrupts_ > 0; }

 private:
  // How often the watcher looks at stop_ (only matters when the saga ends).
  static constexpr long kPollNanos = 50'000'000;

  void Watch() {
    while (!stop_) {
      const timespec wait{0, kPollNanos};
      const int sig = ::sigtimedwait(&signals_, nullptr, &wait);
      if (sig == SIGINT && ++interrupts_ == 1) {
        std::fprintf(stderr, "\ninterrupted: aborting the saga (Ctrl-C again to quit at once)\n");
        continue;
      }
      if (sig == SIGINT) ExitNow(kExitInterrupted, "interrupted twice");
      if (sig == SIGTERM) ExitNow(kExitTerminated, "terminated");
    }
  }

  [[noreturn]] static void ExitNow(int status, const char* why) {
    exec::StopAllProcesses();
    std::fprintf(stderr, "\n%s: killed every child process group; exiting\n", why);
    std::fflush(stderr);
    // No destructors: the runtime would wait for its attempts to finish.
    ::_exit(status);
  }

  sigset_t signals_;
  std::atomic<bool> stop_{false};
  std::atomic<int> interrupts_{0};
  std::thread thread_;
};

// "failure of step charge (code 402)", "deadline", "abort"; empty while
// nothing stopped the saga.
std::string StoppedBy(const exec::SagaResult& result) {
  switch (result.stop_cause) {
    case saga::StopCause::kNone:
      return "";
    case saga::StopCause::kDeadline:
      return "deadline";
    case saga::StopCause::kAbort:
      return "abort";
    case saga::StopCause::kStepFailed:
      break;
  }
  // The step whose failure stopped the saga is the one that ended failed or
  // timed out on its own; the others ended cancelled or never started.
  for (const exec::StepReport& step : result.steps()) {
    if (step.forward_state == saga::StepState::kFailed ||
        step.forward_state == saga::StepState::kTimedOut) {
      return "failure of step " + std::string(step.id) + " (code " + std::to_string(step.code) +
             ")";
    }
  }
  return "failure of a step";
}

void PrintSummary(const exec::SagaResult& result) {
  const auto& stats = result.stats;
  std::printf(
      "saga %s: %s in %.3fs (%u succeeded, %u failed, %u timed out, %u cancelled, %u "
      "compensated; max parallelism %u, avg %.2f)\n",
      result.saga_id.c_str(), saga::SagaOutcomeName(result.outcome),
      static_cast<double>(stats.wall.count()) / 1e9, stats.steps_succeeded, stats.steps_failed,
      stats.steps_timed_out, stats.steps_cancelled, stats.steps_compensated, stats.max_parallelism,
      stats.avg_parallelism);
  if (const std::string stopped_by = StoppedBy(result); !stopped_by.empty()) {
    std::printf("  stopped by: %s\n", stopped_by.c_str());
  }
  for (const auto& step : result.steps()) {
    if (step.code == 0 && step.message.empty()) continue;
    std::printf("  %.*s: %s, code %d%s%.*s\n", static_cast<int>(step.id.size()), step.id.data(),
                saga::StepStateName(step.state), step.code, step.message.empty() ? "" : ": ",
                static_cast<int>(step.message.size()), step.message.data());
  }
  if (!result.compensation_failed_steps.empty()) {
    std::string steps;
    for (const auto& id : result.compensation_failed_steps)
      steps += (steps.empty() ? "" : ", ") + id;
    std::printf("  compensation failed for: %s\n", steps.c_str());
  }
}

exec::SagaInputs ParseInputs(const std::vector<std::string>& assignments) {
  exec::SagaInputs inputs;
  for (const std::string& assignment : assignments) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      UsageError("--input '" + assignment + "': expected NAME=VALUE");
    }
    if (!inputs.emplace(assignment.substr(0, eq), assignment.substr(eq + 1)).second) {
      UsageError("--input " + assignment.substr(0, eq) + " is given twice");
    }
  }
  return inputs;
}

// Distinct per process: the wall clock and the pid, so that two `tri run`s
// started in the same millisecond still generate different saga ids.
std::uint64_t ProcessSeed() {
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return static_cast<std::uint64_t>(now) ^ (static_cast<std::uint64_t>(::getpid()) << 40) ^
         0x9e37'79b9'7f4a'7c15ull;
}

void RunSaga(const RunArgs& args) {
  if (!args.id.empty()) {
    if (Status valid = saga::ValidateSagaId(args.id); !valid.ok()) {
      UsageError("--id: " + valid.message());
    }
  }
  exec::SagaInputs inputs = ParseInputs(args.inputs);
  auto spec = LoadSagaDocument(args.file, args.limits);
  if (!spec.ok()) UsageError(spec.status().message());
  auto definition = exec::SagaDefinition::Make(std::move(*spec));
  if (!definition.ok()) UsageError(definition.status().message());
  if (auto resolved = exec::ResolveInputs((*definition)->spec, inputs); !resolved.ok()) {
    UsageError(resolved.status().message());
  }

  std::FILE* trace = nullptr;
  if (!args.trace_json.empty()) {
    trace = std::fopen(args.trace_json.c_str(), "w");
    if (trace == nullptr) {
      UsageError("--trace-json " + args.trace_json +
                 ": cannot open for writing: " + std::strerror(errno));
    }
  }
  const bool live = !args.json && isatty(STDOUT_FILENO) == 1;
  const bool plain = !args.json && !live;
  auto counter = std::make_shared<exec::StepStateCounter>((*definition)->spec.steps.size());

  // Before the runtime: its threads inherit the blocked signals.
  SignalWatcher signals;

  exec::RuntimeOptions runtime_options;
  runtime_options.blocking_threads = args.blocking_threads;
  runtime_options.max_running_sagas = args.max_running_sagas;
  runtime_options.limits = args.limits;
  runtime_options.process.max_output_bytes = args.limits.max_step_output_bytes;
  runtime_options.http.max_output_bytes = args.limits.max_step_output_bytes;
  runtime_options.http.ca_file = args.http_ca_file;
  runtime_options.seed = ProcessSeed();
  exec::Runtime runtime(runtime_options);

  exec::SubmitOptions submit;
  submit.saga_id = args.id;
  submit.inputs = std::move(inputs);
  submit.record_step_times = true;
  // Every line is flushed as it is written: a reader (a pipe, `tail -f` on
  // the trace) sees each event when it happens, and a hard exit loses none.
  submit.on_event = [trace, plain, counter](const exec::SagaEvent& event) {
    if (trace != nullptr) {
      const std::string line = exec::TraceLineJson(event);
      std::fprintf(trace, "%s\n", line.c_str());
      std::fflush(trace);
    }
    if (plain) {
      std::printf("%s\n", exec::EventLine(event).c_str());
      std::fflush(stdout);
    }
    counter->Observe(event);
  };
  auto done = std::make_shared<std::promise<exec::SagaResult>>();
  auto finished = done->get_future();
  submit.on_finished = [done](exec::SagaResult result) { done->set_value(std::move(result)); };

  const auto started = std::chrono::steady_clock::now();
  auto id = runtime.Submit(*definition, std::move(submit));
  if (!id.ok()) UsageError(id.status().message());

  bool abort_sent = false;
  while (finished.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (signals.abort_requested() && !abort_sent) {
      abort_sent = true;
      (void)runtime.Abort(*id);  // NotFound: it finished meanwhile
    }
    if (live) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::printf("\r\033[K%s", counter->Line(elapsed).c_str());
      std::fflush(stdout);
    }
  }
  exec::SagaResult result = finished.get();
  if (live) std::printf("\r\033[K");
  if (trace != nullptr && std::fclose(trace) != 0) {
    std::fprintf(stderr, "--trace-json %s: write failed: %s\n", args.trace_json.c_str(),
                 std::strerror(errno));
  }
  if (args.json) {
    std::printf("%s\n", exec::SagaResultToJson(result)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    PrintSummary(result);
  }
  std::fflush(stdout);
  if (const int status = ExitCodeFor(result.outcome); status != 0) {
    throw CLI::RuntimeError(status);
  }
}

void InstallRunCommand(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run",
      "run one saga to its end; exit 0 completed, 1 failed, 3 compensated, 4 compensation_failed, "
      "2 usage error, 130 second Ctrl-C, 143 SIGTERM");
  cmd->add_option("FILE", args->file, "saga file (YAML or JSON), or - for standard input")
      ->required();
  cmd->add_option("--input", args->inputs, "saga input NAME=VALUE (repeatable)");
  cmd->add_option("--id", args->id,
                  "saga id (default: a new ULID); [A-Za-z0-9._~-], at most 128 bytes");
  cmd->add_flag("--json", args->json, "print the result as JSON instead of progress lines");
  cmd->add_option("--trace-json", args->trace_json, "write every event as JSON Lines to PATH");
  cmd->add_option("--http-ca-file", args->http_ca_file,
                  "PEM file of the CAs https servers are verified against (default: system store)");
  cmd->add_option("--blocking-threads", args->blocking_threads,
                  "concurrent exec/http attempts (more wait)")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  cmd->add_option("--max-running-sagas", args->max_running_sagas, "admission limit of the runtime")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  cmd->add_option("--max-steps", args->limits.max_steps, "steps a saga may declare")
      ->check(CLI::Range(1u, 10'000'000u))
      ->capture_default_str();
  cmd->add_option("--max-output-bytes", args->limits.max_step_output_bytes,
                  "bytes of one step's output (stdout or response body)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--max-document-bytes", args->limits.max_document_bytes, "bytes of the saga file")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30))
      ->capture_default_str();
  cmd->callback([args] { RunSaga(*args); });
}

const CommandRegistration kRegistration("run", &InstallRunCommand);

}  // namespace
}  // namespace tri::cli
