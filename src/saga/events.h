#pragma once

// The vocabulary of the orchestrator core: the states it reports, the events
// it consumes, the commands it emits and the trace records it can produce.
// All are small PODs (no allocation) so they can be passed by value, stored
// in reused buffers and, for events, written to a replicated log.

#include <cstdint>
#include <limits>
#include <string_view>

#include "base/clock.h"
#include "saga/graph.h"

namespace tri::saga {

// "No step": saga-level commands and trace records.
inline constexpr StepIndex kNoStep = std::numeric_limits<StepIndex>::max();

// Result codes the orchestrator itself assigns (HTTP-like, as in the DSL docs).
inline constexpr int kCodeTimedOut = 408;   // per-step timeout or saga deadline
inline constexpr int kCodeCancelled = 499;  // abort, or cascade after a failure
inline constexpr int kCodeFailed = 500;     // generic failure of an action

// --- states -----------------------------------------------------------------

// Life of one step. Forward: pending -> running <-> backoff -> succeeded |
// failed | timed_out | cancelled. Then, if it is in the compensation set:
// compensating -> compensated | compensation_failed. A step that never
// started stays pending (reported as "pending": not started).
enum class StepState : std::uint8_t {
  kPending,             // waiting for needs (never scheduled)
  kRunning,             // a forward attempt is scheduled or running
  kBackoff,             // an attempt failed; waiting for the retry timer
  kSucceeded,           // final forward state
  kFailed,              // final: attempts exhausted or non-retryable failure
  kTimedOut,            // final: last attempt timed out, or the saga deadline hit it
  kCancelled,           // final: abort, or cascade after another step failed
  kCompensating,        // a compensation attempt is running or backing off
  kCompensated,         // final
  kCompensationFailed,  // final: compensation attempts exhausted
};
const char* StepStateName(StepState state);  // "pending", "running", ..., "compensation_failed"

// Terminal state of a saga; kRunning until the saga finishes. Exactly one
// terminal state is reached, once.
enum class SagaOutcome : std::uint8_t {
  kRunning,
  kCompleted,           // every step succeeded
  kCompensated,         // a failure, deadline or abort; every compensation succeeded
  kCompensationFailed,  // ... and at least one compensation exhausted its attempts
  kFailed,              // a failure, deadline or abort with nothing to compensate
};
const char* SagaOutcomeName(SagaOutcome outcome);  // "running", "completed", ...

// Why forward progress stopped (kNone while running or after completion).
enum class StopCause : std::uint8_t { kNone, kStepFailed, kDeadline, kAbort };
const char* StopCauseName(StopCause cause);

// Forward action (`run`) or compensation action (`compensate`).
enum class AttemptPhase : std::uint8_t { kForward, kCompensate };

// Timer ids are opaque to drivers but deterministic: the same event sequence
// arms the same ids, and an id is never armed twice by one orchestrator.
using TimerId = std::uint64_t;

// --- commands (orchestrator -> driver) --------------------------------------

enum class CommandKind : std::uint8_t {
  kStartAttempt,   // attempt `attempt` of `step`'s `phase` action is scheduled: run it
                   // when you can, and report OnAttemptStarted when it really starts
  kCancelAttempt,  // stop attempt `attempt` of `step` (its result will be ignored)
  kArmTimer,       // call OnTimerFired(timer) at or after `fire_at`
  kSagaFinished,   // terminal: `outcome`; see Orchestrator::compensation_failed_steps()
};
const char* CommandKindName(CommandKind kind);

// Drivers must execute the commands of one batch in order: a kCancelAttempt
// of a step always precedes a compensation kStartAttempt of the same step.
// There is no "disarm timer": timers that are no longer wanted fire into the
// orchestrator and are ignored (a driver may drop them when the saga ends).
struct Command {
  CommandKind kind = CommandKind::kStartAttempt;
  AttemptPhase phase = AttemptPhase::kForward;  // kStartAttempt, kCancelAttempt
  SagaOutcome outcome = SagaOutcome::kRunning;  // kSagaFinished
  StepIndex step = kNoStep;                     // kStartAttempt, kCancelAttempt
  std::uint32_t attempt = 0;                    // 1-based, per phase
  TimerId timer = 0;                            // kArmTimer
  TimePoint fire_at{0};                         // kArmTimer

  friend bool operator==(const Command&, const Command&) = default;
};

// --- events (driver -> orchestrator) ----------------------------------------

// The same inputs as the Orchestrator::On* methods, as one value: what a
// replicated node writes to its log and replays through Orchestrator::Apply.
enum class EventKind : std::uint8_t {
  kStart,             // saga submitted and started
  kAttemptSucceeded,  // step, attempt, phase, payload = output bytes
  kAttemptFailed,     // step, attempt, phase, code, retryable, payload = message
  kTimerFired,        // timer
  kAbortRequested,    //
  kAttemptStarted,    // step, attempt, phase: the scheduled attempt really started
};
const char* EventKindName(EventKind kind);

struct Event {
  EventKind kind = EventKind::kStart;
  TimePoint now{0};
  AttemptPhase phase = AttemptPhase::kForward;
  StepIndex step = kNoStep;
  std::uint32_t attempt = 0;
  int code = 0;
  bool retryable = true;
  TimerId timer = 0;
  std::string_view payload;  // output (success) or message (failure); not owned
};

// --- trace ------------------------------------------------------------------

// Event names of `--trace-json`; TraceEventName gives the exact strings.
enum class TraceEvent : std::uint8_t {
  kSagaStarted,
  kStepStarted,  // a forward attempt really started (OnAttemptStarted, or its result)
  kStepSucceeded,
  kStepFailed,           // a forward attempt failed (retried or final)
  kStepTimedOut,         // a forward attempt timed out, or schedule_to_close or the deadline
                         // hit the step
  kStepCancelled,        // abort or cascade
  kCompensationStarted,  // a compensation attempt really started
  kCompensationSucceeded,
  kCompensationFailed,  // a compensation attempt failed (retried or final)
  kSagaCompleted,
  kSagaCompensated,
  kSagaCompensationFailed,
  kSagaFailed,
  kStepScheduled,          // a forward attempt was scheduled (kStartAttempt emitted)
  kCompensationScheduled,  // a compensation attempt was scheduled
};
// "saga_started", "step_started", "step_succeeded", "step_failed",
// "step_timed_out", "step_cancelled", "compensation_started",
// "compensation_succeeded", "compensation_failed", "saga_completed",
// "saga_compensated", "saga_compensation_failed", "saga_failed",
// "step_scheduled", "compensation_scheduled".
const char* TraceEventName(TraceEvent event);

struct TraceRecord {
  TimePoint time{0};
  StepIndex step = kNoStep;  // kNoStep for saga-level events
  TraceEvent event = TraceEvent::kSagaStarted;
  std::uint32_t attempt = 0;  // 0 for saga-level events
  int code = 0;               // 0 unless a failure, timeout or cancellation

  friend bool operator==(const TraceRecord&, const TraceRecord&) = default;
};

}  // namespace tri::saga
