#pragma once

// The saga orchestrator: a pure, deterministic, single-threaded state machine
// that runs one saga over a shared immutable SagaPlan. It has no I/O, threads,
// clock or randomness of its own: every input carries the current time, the
// backoff jitter comes from an injected Rng, and every output is a Command
// appended to a caller-provided buffer (reuse it: no allocation per step in
// steady state). Its state is a function of the event sequence and can be
// serialized and restored (the Rng is not part of it: restore its state
// separately, or use a fresh generator with the same seed and replay).
//
// Semantics (docs/sagas.md has the user-facing version):
// - A step is scheduled as soon as every step it needs succeeded (pending-needs
//   counters; no waiting for a level).
// - Scheduled vs started: kStartAttempt schedules an attempt; the driver
//   reports OnAttemptStarted when the action really starts (an executor
//   thread picked it up). A result for a current attempt that was never
//   reported started counts as started at the result's time. Started reports
//   for attempts that are not current, or twice, are ignored (counted stale).
// - Attempts are numbered from 1 per phase. A failed attempt is retried after
//   BackoffDelay() while attempts remain, unless the action reported it not
//   retryable or the policy's code lists exclude its code (RetryAllowsCode).
// - Three per-step timeouts (0 = none), each a timer:
//   schedule_to_start, armed when an attempt is scheduled (forward and
//   compensation): fires only if the attempt has not started; the attempt is
//   cancelled (kCancelAttempt) and counts as a failed attempt with code 408,
//   retried like any other (per the policy's code lists).
//   timeout (start_to_close), armed at an attempt's real start (forward and
//   compensation): the attempt is cancelled and fails with 408, likewise.
//   When a 408 is not retried the step ends timed_out (a step failure).
//   schedule_to_close, armed when the step's forward phase is first
//   scheduled: the scheduled, running or backing-off attempt is cancelled and
//   the step ends timed_out (408) with no further attempt (a step failure).
// - A step failure (attempts exhausted, or a non-retryable failure; code 500
//   or the action's) stops forward progress: running steps and steps in
//   backoff end cancelled (499; kCancelAttempt for the running ones), no new
//   forward attempt starts, then compensation.
// - Saga deadline (plan.deadline() > 0, measured from Start): running steps and
//   steps in backoff end timed_out (408), then compensation.
// - Abort: running steps and steps in backoff end cancelled (499), then
//   compensation. Abort and deadline are ignored once compensation started
//   or the saga finished.
// - Compensation set: steps with a compensate action that succeeded, plus
//   steps with compensate_when: attempted that ended timed_out or cancelled
//   (they had an attempt running or failed, so their effect may have
//   happened). Steps that ended failed (the action reported its failure) are
//   not in the set. Steps without a compensate action are skipped: they are
//   not compensated and do not count as compensations.
// - Reverse dependency order: a step of the set is compensated only after
//   every step of the set that depends on it, directly or transitively (also
//   through steps outside the set), finished compensating. Independent
//   branches compensate in parallel. Compensation attempts have the step's
//   timeout and retry with compensate_retry. A compensation that exhausts its
//   attempts ends compensation_failed; the others still run (best effort,
//   its ancestors are not blocked), and the saga ends compensation_failed
//   naming those steps (compensation_failed_steps()).
// - Terminal: completed (all succeeded), compensated, compensation_failed, or
//   failed (a failure, deadline or abort with an empty compensation set).
//   Exactly one kSagaFinished command is emitted.
// - Results of attempts that are not current (cancelled, timed out, or
//   superseded) are stale and ignored; results for attempts never scheduled
//   are contract violations (TRI_ASSERT).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/rng.h"
#include "saga/events.h"
#include "saga/plan.h"

namespace tri::saga {

struct OrchestratorOptions {
  bool trace = false;  // record a TraceRecord per transition (see trace())
};

// Per-saga statistics; computed on demand by Orchestrator::stats().
struct SagaStats {
  TimePoint started_at{0};
  TimePoint finished_at{0};           // 0 while running
  Duration wall{0};                   // finished_at - started_at (or up to the last event)
  std::uint32_t levels = 0;           // depth of the graph (number of levels)
  std::uint32_t max_parallelism = 0;  // peak number of forward attempts really running
  double avg_parallelism = 0.0;       // busy / wall (0 when wall is 0)
  Duration busy{0};                   // sum of forward attempt durations, from their real start
  Duration critical_path{0};   // longest path weighted by step durations (first real start to end)
  std::uint64_t attempts = 0;  // forward attempts scheduled
  std::uint64_t retries = 0;   // forward attempts beyond the first
  std::uint64_t compensation_attempts = 0;  // compensation attempts scheduled
  std::uint64_t stale_results_ignored = 0;  // late results, started reports and timers ignored
  std::uint32_t steps_succeeded = 0;  // ended forward as succeeded (even if compensated later)
  std::uint32_t steps_failed = 0;
  std::uint32_t steps_timed_out = 0;
  std::uint32_t steps_cancelled = 0;
  std::uint32_t steps_not_started = 0;
  std::uint32_t steps_compensated = 0;  // compensations that succeeded
  std::uint32_t steps_compensation_failed = 0;
  StopCause stop_cause = StopCause::kNone;
};

// What a timer id armed by an Orchestrator stands for (logs, tests, tools).
struct TimerDescription {
  // "deadline", "start_to_close", "backoff", "schedule_to_start",
  // "schedule_to_close", "compensation_start_to_close", "compensation_backoff",
  // "compensation_schedule_to_start", or "unknown" for an id no orchestrator arms.
  const char* kind = "unknown";
  StepIndex step = kNoStep;   // kNoStep for the deadline
  std::uint32_t attempt = 0;  // the attempt it was armed for (1 for schedule_to_close)
};
TimerDescription DescribeTimer(TimerId timer);

class Orchestrator {
 public:
  // `rng` must outlive the orchestrator; it is used only for backoff jitter.
  Orchestrator(std::shared_ptr<const SagaPlan> plan, Rng& rng, OrchestratorOptions options = {});

  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;
  Orchestrator(Orchestrator&&) noexcept = default;
  Orchestrator& operator=(Orchestrator&&) noexcept = default;

  // --- inputs: each appends the resulting commands to `out` ------------------
  // `now` never goes backwards across calls (asserted).

  // Saga submitted: schedules every root step and arms the deadline. Once.
  void Start(TimePoint now, std::vector<Command>& out);

  // Attempt `attempt` of `step`'s `phase` action, scheduled by a kStartAttempt,
  // really started (an executor picked it up). Arms its start_to_close timeout.
  // Ignored (counted stale) unless the attempt is current and not yet started:
  // in a cluster a started report may race a cancel.
  void OnAttemptStarted(AttemptPhase phase, StepIndex step, std::uint32_t attempt, TimePoint now,
                        std::vector<Command>& out);

  // Attempt `attempt` of `step`'s `phase` action succeeded. `output` (forward
  // only) is copied and kept as the step's output.
  void OnAttemptSucceeded(AttemptPhase phase, StepIndex step, std::uint32_t attempt, TimePoint now,
                          std::vector<Command>& out, std::string_view output = {});

  // Attempt failed with `code` (e.g. 500, an exit status, an HTTP status).
  // Not `retryable`: no further attempt of this phase.
  void OnAttemptFailed(AttemptPhase phase, StepIndex step, std::uint32_t attempt, int code,
                       bool retryable, std::string_view message, TimePoint now,
                       std::vector<Command>& out);

  // A timer armed by a kArmTimer command fired (stale timers are ignored).
  void OnTimerFired(TimerId timer, TimePoint now, std::vector<Command>& out);

  // Abort requested (ignored once compensating or finished).
  void Abort(TimePoint now, std::vector<Command>& out);

  // Dispatches an Event to the matching method above.
  void Apply(const Event& event, std::vector<Command>& out);

  // --- state ---------------------------------------------------------------
  const SagaPlan& plan() const { return *plan_; }
  const std::shared_ptr<const SagaPlan>& shared_plan() const { return plan_; }
  bool started() const { return phase_ != Phase::kNotStarted; }
  bool finished() const { return phase_ == Phase::kFinished; }
  bool compensating() const { return phase_ == Phase::kCompensating; }
  SagaOutcome outcome() const { return outcome_; }
  StopCause stop_cause() const { return stop_cause_; }
  // Time of the last input (0 before any): the next input's `now` must not be earlier.
  TimePoint last_input_time() const { return TimePoint{last_now_ns_}; }

  StepState step_state(StepIndex s) const { return steps_[s].state; }
  // How the step's forward phase ended (succeeded, failed, timed_out,
  // cancelled), or its current forward state (pending, running, backoff);
  // unlike step_state() it does not change during compensation.
  StepState forward_state(StepIndex s) const { return steps_[s].forward_state; }
  // When the step's first forward attempt really started (nullopt: never).
  std::optional<TimePoint> first_started_at(StepIndex s) const {
    if (!steps_[s].ever_started) return std::nullopt;
    return TimePoint{steps_[s].first_start_ns};
  }
  // When the step's forward phase ended: succeeded, failed, timed out or
  // cancelled (nullopt: still pending, scheduled, running or backing off).
  std::optional<TimePoint> forward_ended_at(StepIndex s) const {
    const StepState f = steps_[s].forward_state;
    if (f == StepState::kPending || f == StepState::kRunning || f == StepState::kBackoff) {
      return std::nullopt;
    }
    return TimePoint{steps_[s].end_ns};
  }
  // Forward attempts scheduled so far (0 = never scheduled).
  std::uint32_t attempts(StepIndex s) const { return steps_[s].attempt; }
  // True while the step's current attempt (forward or compensation) is in
  // flight and was reported started; false while it is only scheduled.
  bool attempt_started(StepIndex s) const {
    return steps_[s].attempt_running && steps_[s].attempt_started;
  }
  std::uint32_t compensation_attempts(StepIndex s) const { return steps_[s].comp_attempt; }
  // Code of the last failed attempt (forward, or compensation while
  // compensating), 0 if none.
  int last_code(StepIndex s) const { return steps_[s].last_code; }
  // Output of a succeeded step (empty otherwise).
  const std::string& output(StepIndex s) const;
  // Message of the last failed attempt (empty if none).
  const std::string& last_message(StepIndex s) const;
  // True when the step is in the compensation set (valid once compensating).
  bool in_compensation_set(StepIndex s) const { return steps_[s].in_comp_set; }
  // Steps whose compensation exhausted its attempts, ascending.
  std::vector<StepIndex> compensation_failed_steps() const;
  // Forward attempts running right now (really started, not just scheduled).
  std::uint32_t running() const { return running_; }
  // Forward steps with an attempt scheduled or running, or waiting to retry.
  std::uint32_t in_flight() const { return in_flight_; }

  SagaStats stats() const;

  // Every timer the current state still waits for, as kArmTimer commands in
  // step order (the deadline first): what a driver that restored this state
  // (a new leader, a restarted process) must arm again. Timers already fired,
  // or whose attempt or phase is over, are not included.
  std::vector<Command> PendingTimers() const;

  // Trace records since the last TakeTrace (empty unless options.trace).
  const std::vector<TraceRecord>& trace() const { return trace_; }
  std::vector<TraceRecord> TakeTrace();
  // Drops the records, keeping the buffer (drivers that consume trace() in place).
  void ClearTrace() { trace_.clear(); }

  // --- serialization ---------------------------------------------------------
  // The whole state (steps, attempts, outputs, messages, timers, statistics,
  // compensation bookkeeping) as bytes; trace records and the Rng are not
  // included. Format versioned; little-endian.
  std::string Serialize() const;
  // Replaces this orchestrator's state with `bytes` from Serialize() of an
  // orchestrator over the same plan (checked by fingerprint). Every derived
  // counter is recomputed from the per-step state and compared, and states
  // this orchestrator cannot reach are refused (see CheckState). Errors:
  // corrupt or truncated bytes, version or plan mismatch, an inconsistent or
  // impossible state (kCorruption, naming the step and field); on error the
  // state is unchanged.
  Status Restore(std::string_view bytes);

 private:
  enum class Phase : std::uint8_t { kNotStarted, kForward, kCompensating, kFinished };

  // Per-step runtime state, kept compact: the hot loop touches one of these
  // and the pending counters of the step's dependents.
  struct StepRuntime {
    std::uint32_t attempt = 0;       // current forward attempt (0 = never scheduled)
    std::uint32_t comp_attempt = 0;  // current compensation attempt
    int last_code = 0;
    StepState state = StepState::kPending;
    StepState forward_state = StepState::kPending;
    bool in_comp_set = false;
    bool attempt_running = false;  // an attempt (of the current phase) is scheduled or running
    bool attempt_started = false;  // ... and really started (valid while attempt_running)
    bool ever_started = false;     // a forward attempt really started (first_start_ns is set)
    std::int64_t first_scheduled_ns = 0;    // first forward scheduling (schedule_to_close base)
    std::int64_t first_start_ns = 0;        // first real forward start
    std::int64_t attempt_scheduled_ns = 0;  // current attempt scheduled
    std::int64_t attempt_start_ns = 0;      // current attempt's real start
    std::int64_t end_ns = 0;                // end of the forward phase
    std::int64_t retry_at_ns = 0;           // backoff timer's fire time (0 = not waiting)
  };

  void ScheduleForwardAttempt(StepIndex s, TimePoint now, std::vector<Command>& out);
  void ScheduleCompensationAttempt(StepIndex s, TimePoint now, std::vector<Command>& out);
  // The current attempt of `s` (forward or compensation) really started.
  // `arm_timeout`: false when the start is implied by a result at the same time.
  void MarkStarted(StepIndex s, TimePoint now, bool arm_timeout, std::vector<Command>& out);
  void ForwardScheduleToClose(StepIndex s, TimePoint now, std::vector<Command>& out);
  void ForwardSucceeded(StepIndex s, TimePoint now, std::vector<Command>& out,
                        std::string_view output);
  void ForwardAttemptFailed(StepIndex s, int code, bool retryable, bool timed_out,
                            std::string_view message, TimePoint now, std::vector<Command>& out);
  void CompensationSucceeded(StepIndex s, TimePoint now, std::vector<Command>& out);
  void CompensationAttemptFailed(StepIndex s, int code, bool retryable, bool timed_out,
                                 std::string_view message, TimePoint now,
                                 std::vector<Command>& out);
  void StopForward(StopCause cause, TimePoint now, std::vector<Command>& out);
  void BeginCompensation(TimePoint now, std::vector<Command>& out);
  void CompensationDone(StepIndex s, TimePoint now, std::vector<Command>& out);
  void Finish(SagaOutcome outcome, TimePoint now, std::vector<Command>& out);
  void EndAttemptClock(StepIndex s, TimePoint now);
  bool Retries(const RetryPolicy& policy, std::uint32_t attempt, int code, bool retryable) const;
  // Restore's validation of a decoded state (orchestrator_check.cc): derived
  // counters recomputed and compared, impossible per-step states refused.
  struct StateTally;
  Status CheckState() const;
  Status CheckNotStartedState() const;
  Status CheckStep(StepIndex s, bool stopped, bool completed, StateTally& tally) const;
  Status CheckCompensationOrder(std::uint32_t set_size) const;
  void Trace(TimePoint now, StepIndex s, TraceEvent event, std::uint32_t attempt, int code);
  void AdvanceTime(TimePoint now);

  std::shared_ptr<const SagaPlan> plan_;
  Rng* rng_;
  OrchestratorOptions options_;

  Phase phase_ = Phase::kNotStarted;
  SagaOutcome outcome_ = SagaOutcome::kRunning;
  StopCause stop_cause_ = StopCause::kNone;
  std::int64_t started_ns_ = 0;
  std::int64_t finished_ns_ = 0;
  std::int64_t last_now_ns_ = 0;

  std::vector<StepRuntime> steps_;
  // Per step, kept apart from steps_ so the edge loop touches 4 bytes per
  // dependent (the array stays in cache on large graphs). Forward: needs not
  // yet succeeded; compensation: nearest set steps still to compensate first.
  std::vector<std::uint32_t> pending_;
  bool any_timeout_ = false;           // plan_->any_timeout(), cached for the hot path
  std::vector<std::string> outputs_;   // sized lazily: empty until a non-empty output
  std::vector<std::string> messages_;  // sized lazily: empty until a failure message
  // Compensation order, built when compensation begins: for each set step c,
  // the nearest set steps that c must be compensated before (CSR over steps).
  std::vector<std::uint32_t> comp_before_offsets_;
  std::vector<StepIndex> comp_before_;
  std::uint32_t forward_unfinished_ = 0;  // steps not yet succeeded (forward phase)
  std::uint32_t comp_unfinished_ = 0;     // set steps not yet done compensating
  std::uint32_t running_ = 0;             // forward attempts really started, not ended
  std::uint32_t in_flight_ = 0;           // forward steps scheduled, running or in backoff

  // Statistics counters.
  std::uint32_t max_parallelism_ = 0;
  std::int64_t busy_ns_ = 0;
  std::uint64_t attempts_total_ = 0;  // forward attempts scheduled
  std::uint64_t comp_attempts_total_ = 0;
  std::uint64_t stale_ignored_ = 0;
  std::uint32_t count_succeeded_ = 0;
  std::uint32_t count_failed_ = 0;
  std::uint32_t count_timed_out_ = 0;
  std::uint32_t count_cancelled_ = 0;
  std::uint32_t count_compensated_ = 0;
  std::uint32_t count_compensation_failed_ = 0;

  std::vector<TraceRecord> trace_;
};

}  // namespace tri::saga
