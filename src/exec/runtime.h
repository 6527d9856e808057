#pragma once

// The in-process saga runtime: one event-loop thread drives an Orchestrator
// per running saga with the real clock, and runs the commands it emits.
// `noop` completes on the loop itself, `sleep` and `fail` are loop timers,
// `exec` and `http` run on a BlockingPool and post their result back. The
// orchestrator stays the single source of truth for what happens next; the
// runtime only carries events in and commands out (docs/runtime.md).
//
// Later issues run the same driver on a replicated node, where events are
// committed to the log before the orchestrator sees them.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/rng.h"
#include "exec/blocking_actions.h"
#include "exec/saga_result.h"
#include "saga/definition.h"
#include "saga/orchestrator.h"
#include "saga/plan.h"
#include "saga/spec.h"

namespace tri::exec {

using SagaDefinition = saga::SagaDefinition;
using SagaInputs = saga::SagaInputs;
using saga::ResolveInputs;

struct RuntimeOptions {
  // Admission control: Submit fails with kResourceExhausted beyond this.
  std::uint32_t max_running_sagas = 1024;
  // Concurrent exec/http attempts; more wait for a free thread.
  std::uint32_t blocking_threads = 64;
  ProcessOptions process;
  HttpOptions http;
  // max_step_output_bytes bounds every step's output.
  saga::SagaLimits limits;
  // Seeds the backoff jitter of each saga (saga k gets seed + k) and the
  // random part of generated saga ids. Two runtimes with the same seed that
  // start sagas in the same millisecond generate the same ids: a process
  // that must not collide with another (the CLI) mixes the time and its pid
  // into it.
  std::uint64_t seed = 1;
  // Time source; nullptr = the process-wide RealClock.
  const Clock* clock = nullptr;
};

// One transition of a running saga, as the orchestrator traced it.
struct SagaEvent {
  const std::string& saga_id;
  const SagaDefinition& definition;
  const saga::TraceRecord& record;
  Duration since_start;  // monotonic, from the saga's start
  std::int64_t unix_ms;  // wall clock: the saga's start plus since_start
  // The record's step's state once the input that produced the record was
  // applied (kPending for saga-level records). A step_failed or
  // step_timed_out record whose step is then kBackoff or kRunning is an
  // attempt that will be retried, not a failed step (WillRetry).
  saga::StepState step_state;
};

// True for a failed or timed-out forward attempt that will be retried.
bool WillRetry(const SagaEvent& event);

struct SubmitOptions {
  // Empty: a new ULID (saga::NewSagaId, from the wall clock and the runtime's
  // seeded generator). Otherwise the client's id, checked by
  // saga::ValidateSagaId.
  std::string saga_id;
  SagaInputs inputs;  // checked and completed with defaults by Submit
  // Both run on the event loop thread: keep them short, never block. They may
  // call Runtime::Submit and Runtime::Abort. on_finished runs once the saga
  // reached its terminal state AND every process it started has been reaped
  // (every request it sent has ended); until then its id counts as running.
  std::function<void(const SagaEvent&)> on_event;
  std::function<void(SagaResult)> on_finished;
  // Record each step's start and end times (SagaResult::step_times); costs a
  // trace record per transition, as on_event does.
  bool record_step_times = false;
  // When saga_id names a saga that is still running: non-null -> Submit sets
  // *already_running = true and returns that id, starting nothing (and never
  // calling this submission's callbacks); null -> Submit fails with
  // kAlreadyExists. Set to false when a saga was started.
  bool* already_running = nullptr;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  // Running sagas are abandoned (their attempts cancelled, on_finished not
  // called); returns once every child process is reaped.
  ~Runtime();

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts a saga; returns its id (see SubmitOptions::already_running for an
  // id that is running). Errors: kResourceExhausted "too many running
  // sagas", kInvalidArgument for inputs or an invalid id, kAlreadyExists for
  // a running id without already_running.
  Result<std::string> Submit(std::shared_ptr<const SagaDefinition> definition,
                             SubmitOptions options);

  // Requests an abort (running steps cancelled, then compensation).
  // kNotFound when no saga with that id is running.
  Status Abort(std::string_view saga_id);

  std::uint32_t running_sagas() const;

  // Submit, then block until the saga finishes. Not from the loop thread.
  // options.already_running is ignored: a running id is kAlreadyExists.
  Result<SagaResult> Run(std::shared_ptr<const SagaDefinition> definition, SubmitOptions options);

 private:
  struct SagaRun;
  struct BlockingJob;
  struct Draining;
  struct LoopItem;
  struct Timer;
  struct TimerLater {
    bool operator()(const Timer& a, const Timer& b) const;
  };

  void LoopMain();
  void Post(LoopItem item);
  void HandleItem(LoopItem& item);
  // After an orchestrator input that filled commands_: reports its trace and
  // executes its commands (the saga may be gone afterwards).
  void AfterInput(SagaRun& run);
  void Execute(SagaRun& run, const saga::Command& command);
  void StartAttempt(SagaRun& run, const saga::Command& command);
  SagaRun* FindRun(std::uint64_t key);
  void Complete(LoopItem& item);
  void StartDeferred(SagaRun& run, saga::StepIndex step);
  void ReleaseDrainingJob(const LoopItem& item);
  void ReportFinished(SagaResult result, std::function<void(SagaResult)> on_finished);
  void Complete(SagaRun& run, saga::AttemptPhase phase, saga::StepIndex step, std::uint32_t attempt,
                ActionOutcome& outcome);
  void FireTimer(const Timer& timer);
  void PushTimer(const Timer& timer);
  void FinishSaga(SagaRun& run);
  TimePoint Now();

  RuntimeOptions options_;
  const Clock& clock_;

  // Shared with other threads (Submit, Abort, pool completions).
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<LoopItem> inbox_;
  std::map<std::string, std::uint64_t, std::less<>> running_ids_;  // id -> key
  std::uint64_t next_key_ = 1;
  SeededRng id_rng_;  // random part of generated saga ids
  bool stopping_ = false;

  // Loop thread only.
  std::unordered_map<std::uint64_t, std::unique_ptr<SagaRun>> sagas_;
  // Finished sagas waiting for their cancelled jobs to complete.
  std::unordered_map<std::uint64_t, std::unique_ptr<Draining>> draining_;
  std::uint64_t cached_key_ = 0;  // FindRun's last answer (0 = none)
  SagaRun* cached_run_ = nullptr;
  std::vector<Timer> timers_;  // min-heap by (fire_at, seq)
  std::uint64_t timer_seq_ = 0;
  // Successes produced on the loop itself (noop), kept small: a chain of
  // empty steps is a stream of these.
  struct LocalSuccess {
    std::uint64_t key;
    saga::AttemptPhase phase;
    saga::StepIndex step;
    std::uint32_t attempt;
  };
  std::vector<LocalSuccess> ready_;
  std::vector<LoopItem> ready_items_;  // other results produced on the loop (template errors)
  std::vector<saga::Command> commands_;
  TimePoint last_now_{0};
  std::uint32_t now_reuses_ = 0;

  std::unique_ptr<class BlockingPool> pool_;
  std::thread loop_;
};

}  // namespace tri::exec
