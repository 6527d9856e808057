// `tri run FILE [--input k=v]... [--json] [--trace-json PATH]`: runs one saga
// to its end in this process. Exit 0 when it completed, 1 for any other
// terminal state, 2 when the file, the saga or an input is invalid.
// Ctrl-C once aborts the saga (running steps cancelled, then compensation);
// twice exits at once.

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/assert.h"
#include "cli/command.h"
#include "cli/read_document.h"
#include "exec/report_json.h"
#include "exec/runtime.h"
#include "saga/dsl/parser.h"

namespace tri::cli {
namespace {

struct RunArgs {
  std::string file;
  std::vector<std::string> inputs;
  bool json = false;
  std::string trace_json;
  std::uint32_t blocking_threads = 64;
};

volatile std::sig_atomic_t g_interrupts = 0;

void OnInterrupt(int) {
  g_interrupts = g_interrupts + 1;
  if (g_interrupts >= 2) std::signal(SIGINT, SIG_DFL);
}

[[noreturn]] void InvalidInput(const std::string& message) {
  ExitWithError(2, message);
}

// What the progress display knows; updated on the runtime's loop thread.
class Progress {
 public:
  explicit Progress(std::size_t steps) : running_flags_(steps, 0), total_(steps) {}

  void Observe(const exec::SagaEvent& event) {
    std::lock_guard lock(mutex_);
    const auto step = event.record.step;
    switch (event.record.event) {
      case saga::TraceEvent::kStepStarted:
        if (!running_flags_[step]) ++running_;
        running_flags_[step] = 1;
        return;
      case saga::TraceEvent::kStepSucceeded:
        ++succeeded_;
        break;
      case saga::TraceEvent::kStepFailed:
      case saga::TraceEvent::kStepTimedOut:
      case saga::TraceEvent::kStepCancelled:
        ++failed_;
        break;
      case saga::TraceEvent::kCompensationSucceeded:
        ++compensated_;
        return;
      default:
        return;
    }
    if (running_flags_[step]) --running_;
    running_flags_[step] = 0;
  }

  std::string Line(double elapsed_s) const {
    std::lock_guard lock(mutex_);
    char buffer[160];
    std::snprintf(buffer, sizeof(buffer),
                  "%zu/%zu done, %u running, %u failed, %u compensated, %.1fs", succeeded_, total_,
                  running_, failed_, compensated_, elapsed_s);
    return buffer;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<char> running_flags_;
  std::size_t total_;
  std::size_t succeeded_ = 0;
  std::uint32_t running_ = 0;
  std::uint32_t failed_ = 0;
  std::uint32_t compensated_ = 0;
};

std::string PlainLine(const exec::SagaEvent& event) {
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "[%9.3fs] ",
                static_cast<double>(event.since_start.count()) / 1e9);
  std::string line = prefix;
  if (event.record.step != saga::kNoStep) {
    line += "step " + event.definition.spec.steps[event.record.step].id + ": ";
  } else {
    line += "saga " + event.saga_id + ": ";
  }
  line += saga::TraceEventName(event.record.event);
  if (event.record.attempt > 0) line += " (attempt " + std::to_string(event.record.attempt) + ")";
  if (event.record.code != 0) line += " code " + std::to_string(event.record.code);
  return line;
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

void RunSaga(const RunArgs& args) {
  auto spec = LoadSagaDocument(args.file);
  if (!spec.ok()) InvalidInput(spec.status().message());
  exec::SagaInputs inputs;
  for (const std::string& assignment : args.inputs) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      InvalidInput("--input '" + assignment + "': expected NAME=VALUE");
    }
    if (!inputs.emplace(assignment.substr(0, eq), assignment.substr(eq + 1)).second) {
      InvalidInput("--input " + assignment.substr(0, eq) + " is given twice");
    }
  }
  auto definition = exec::SagaDefinition::Make(std::move(*spec));
  if (!definition.ok()) InvalidInput(definition.status().message());
  if (auto resolved = exec::ResolveInputs((*definition)->spec, inputs); !resolved.ok()) {
    InvalidInput(resolved.status().message());
  }

  std::FILE* trace = nullptr;
  if (!args.trace_json.empty()) {
    trace = std::fopen(args.trace_json.c_str(), "w");
    if (trace == nullptr) {
      InvalidInput("--trace-json " + args.trace_json +
                   ": cannot open for writing: " + std::strerror(errno));
    }
  }
  const bool live = !args.json && isatty(STDOUT_FILENO) == 1;
  auto progress = std::make_shared<Progress>((*definition)->spec.steps.size());

  exec::RuntimeOptions runtime_options;
  runtime_options.blocking_threads = args.blocking_threads;
  exec::Runtime runtime(runtime_options);

  exec::SubmitOptions submit;
  submit.inputs = std::move(inputs);
  const bool plain = !args.json && !live;
  submit.on_event = [trace, plain, progress](const exec::SagaEvent& event) {
    if (trace != nullptr) {
      const std::string line = exec::TraceLineJson(event);
      std::fprintf(trace, "%s\n", line.c_str());
    }
    if (plain) std::printf("%s\n", PlainLine(event).c_str());
    progress->Observe(event);
  };
  auto done = std::make_shared<std::promise<exec::SagaResult>>();
  auto finished = done->get_future();
  submit.on_finished = [done](exec::SagaResult result) { done->set_value(std::move(result)); };

  const auto started = std::chrono::steady_clock::now();
  auto id = runtime.Submit(*definition, std::move(submit));
  if (!id.ok()) InvalidInput(id.status().message());

  g_interrupts = 0;
  auto previous_handler = std::signal(SIGINT, OnInterrupt);
  bool abort_sent = false;
  while (finished.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (g_interrupts > 0 && !abort_sent) {
      abort_sent = true;
      (void)runtime.Abort(*id);  // NotFound: it finished meanwhile
      if (!args.json) std::fprintf(stderr, "\ninterrupted: aborting (Ctrl-C again to quit)\n");
    }
    if (live) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::printf("\r\033[K%s", progress->Line(elapsed).c_str());
      std::fflush(stdout);
    }
  }
  std::signal(SIGINT, previous_handler);
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
  if (result.outcome != saga::SagaOutcome::kCompleted) throw CLI::RuntimeError(1);
}

void InstallRunCommand(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "run one saga to its end; exit 0 completed, 1 other outcome, 2 invalid input");
  cmd->add_option("FILE", args->file, "saga file (YAML or JSON), or - for standard input")
      ->required();
  cmd->add_option("--input", args->inputs, "saga input NAME=VALUE (repeatable)");
  cmd->add_flag("--json", args->json, "print the result as JSON instead of progress lines");
  cmd->add_option("--trace-json", args->trace_json, "write every event as JSON Lines to PATH");
  cmd->add_option("--blocking-threads", args->blocking_threads,
                  "concurrent exec/http attempts (more wait)")
      ->check(CLI::Range(1u, 4096u));
  cmd->callback([args] { RunSaga(*args); });
}

const CommandRegistration kRegistration("run", &InstallRunCommand);

}  // namespace
}  // namespace tri::cli
