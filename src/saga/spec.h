#pragma once

// The saga model: what a validated YAML/JSON saga document becomes. Plain
// data, shared by the DSL (which produces it), the orchestrator (which runs
// its graph) and the executors (which run its actions).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.h"

namespace tri::saga {

// Where a value came from in the source document (1-based; 0 = unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

struct BackoffPolicy {
  Duration initial = std::chrono::milliseconds(100);
  double multiplier = 2.0;
  Duration max = std::chrono::seconds(10);
};

// Delay before attempt n+1 (n >= 1): min(initial * multiplier^(n-1), max),
// then scaled by a uniform factor in [1 - jitter, 1 + jitter].
//
// Which failures are retried: an attempt that failed with a code listed in
// `non_retryable` is not retried; when `retry_on` is not empty, only codes
// listed there are retried. Codes are exit statuses (exec), HTTP statuses
// (http), or the orchestrator's own (408 timeout). An action that reports its
// failure as not retryable (fail.retryable: false) is never retried.
struct RetryPolicy {
  std::uint32_t max_attempts = 1;  // total attempts, including the first; >= 1
  BackoffPolicy backoff;
  double jitter = 0.0;                  // fraction in [0, 1]
  std::vector<int> non_retryable;       // sorted, unique
  std::vector<int> retry_on;            // sorted, unique; empty = every code
};

// --- actions -----------------------------------------------------------------

struct NoopAction {};

struct SleepAction {
  Duration duration{0};
};

// Fails after `after` with `code` (for tests and demos).
struct FailAction {
  int code = 500;
  std::string message = "injected failure";
  Duration after{0};
  bool retryable = true;
};

// Runs argv[0] with argv (no shell unless `shell` is true, in which case
// argv is joined and handed to /bin/sh -c). Exit code 0 = success; stdout is
// captured (bounded) and parsed as the step's output when it is JSON.
struct ExecAction {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string cwd;
  bool shell = false;
};

// Success when the response status is in `expect` (empty = any 2xx).
struct HttpAction {
  std::string method = "GET";
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  std::vector<int> expect;
};

using Action = std::variant<NoopAction, SleepAction, FailAction, ExecAction, HttpAction>;

// Name of the action kind as written in the DSL: noop, sleep, fail, exec, http.
const char* ActionKindName(const Action& action);

// --- steps and sagas ---------------------------------------------------------

enum class CompensateWhen : std::uint8_t {
  kSucceeded,  // compensate only steps that succeeded (default)
  kAttempted,  // also steps that timed out or were cancelled while running
};

struct StepSpec {
  std::string id;
  std::vector<std::string> needs;
  Action run;
  std::optional<Action> compensate;
  // Timeouts, resolved from defaults by the DSL; 0 = none. The names are those
  // of workflow engines (Temporal, Step Functions):
  //   schedule_to_start  an attempt waiting to run (no free executor, no leader)
  //   timeout            one attempt, from its real start (start_to_close)
  //   schedule_to_close  the whole forward phase of the step, every attempt and
  //                      backoff included; when it passes, no further attempt
  Duration timeout{0};
  Duration schedule_to_start{0};
  Duration schedule_to_close{0};
  RetryPolicy retry;  // resolved from defaults by the DSL
  RetryPolicy compensate_retry{.max_attempts = 3};
  CompensateWhen compensate_when = CompensateWhen::kSucceeded;
  SourceLocation location;
};

struct StepDefaults {
  Duration timeout{0};
  Duration schedule_to_start{0};
  Duration schedule_to_close{0};
  RetryPolicy retry;
  RetryPolicy compensate_retry{.max_attempts = 3};
};

struct InputSpec {
  std::string name;
  std::optional<std::string> default_value;  // absent = required
};

struct SagaSpec {
  std::string name;
  Duration deadline{0};  // whole saga; 0 = none
  StepDefaults defaults;
  std::vector<InputSpec> inputs;
  std::vector<StepSpec> steps;  // in document order; a step's index is its position
  SourceLocation location;
};

// Limits enforced on submission (configuration, generous defaults).
struct SagaLimits {
  std::uint32_t max_steps = 10'000;
  std::uint32_t max_needs_per_step = 256;
  std::uint32_t max_depth = 1'024;  // levels of the DAG
  std::uint64_t max_document_bytes = 4ull << 20;
  std::uint64_t max_step_output_bytes = 64ull << 10;
};

}  // namespace tri::saga
