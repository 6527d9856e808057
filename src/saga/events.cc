#include "saga/events.h"

#include "base/assert.h"

namespace tri::saga {

const char* StepStateName(StepState state) {
  switch (state) {
    case StepState::kPending:
      return "pending";
    case StepState::kRunning:
      return "running";
    case StepState::kBackoff:
      return "backoff";
    case StepState::kSucceeded:
      return "succeeded";
    case StepState::kFailed:
      return "failed";
    case StepState::kTimedOut:
      return "timed_out";
    case StepState::kCancelled:
      return "cancelled";
    case StepState::kCompensating:
      return "compensating";
    case StepState::kCompensated:
      return "compensated";
    case StepState::kCompensationFailed:
      return "compensation_failed";
  }
  TRI_UNREACHABLE();
}

const char* SagaOutcomeName(SagaOutcome outcome) {
  switch (outcome) {
    case SagaOutcome::kRunning:
      return "running";
    case SagaOutcome::kCompleted:
      return "completed";
    case SagaOutcome::kCompensated:
      return "compensated";
    case SagaOutcome::kCompensationFailed:
      return "compensation_failed";
    case SagaOutcome::kFailed:
      return "failed";
  }
  TRI_UNREACHABLE();
}

const char* StopCauseName(StopCause cause) {
  switch (cause) {
    case StopCause::kNone:
      return "none";
    case StopCause::kStepFailed:
      return "step_failed";
    case StopCause::kDeadline:
      return "deadline";
    case StopCause::kAbort:
      return "abort";
  }
  TRI_UNREACHABLE();
}

const char* CommandKindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kStartAttempt:
      return "start_attempt";
    case CommandKind::kCancelAttempt:
      return "cancel_attempt";
    case CommandKind::kArmTimer:
      return "arm_timer";
    case CommandKind::kSagaFinished:
      return "saga_finished";
  }
  TRI_UNREACHABLE();
}

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kStart:
      return "start";
    case EventKind::kAttemptSucceeded:
      return "attempt_succeeded";
    case EventKind::kAttemptFailed:
      return "attempt_failed";
    case EventKind::kTimerFired:
      return "timer_fired";
    case EventKind::kAbortRequested:
      return "abort_requested";
    case EventKind::kAttemptStarted:
      return "attempt_started";
  }
  TRI_UNREACHABLE();
}

const char* TraceEventName(TraceEvent event) {
  switch (event) {
    case TraceEvent::kSagaStarted:
      return "saga_started";
    case TraceEvent::kStepStarted:
      return "step_started";
    case TraceEvent::kStepSucceeded:
      return "step_succeeded";
    case TraceEvent::kStepFailed:
      return "step_failed";
    case TraceEvent::kStepTimedOut:
      return "step_timed_out";
    case TraceEvent::kStepCancelled:
      return "step_cancelled";
    case TraceEvent::kCompensationStarted:
      return "compensation_started";
    case TraceEvent::kCompensationSucceeded:
      return "compensation_succeeded";
    case TraceEvent::kCompensationFailed:
      return "compensation_failed";
    case TraceEvent::kSagaCompleted:
      return "saga_completed";
    case TraceEvent::kSagaCompensated:
      return "saga_compensated";
    case TraceEvent::kSagaCompensationFailed:
      return "saga_compensation_failed";
    case TraceEvent::kSagaFailed:
      return "saga_failed";
    case TraceEvent::kStepScheduled:
      return "step_scheduled";
    case TraceEvent::kCompensationScheduled:
      return "compensation_scheduled";
  }
  TRI_UNREACHABLE();
}

}  // namespace tri::saga
