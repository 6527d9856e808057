#include "saga/orchestrator.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "base/assert.h"

namespace tri::saga {
namespace {

// Timer ids pack (kind, attempt, step) so that firing needs no lookup table:
// bits 63..60 kind, 59..32 attempt (28 bits), 31..0 step.
enum class TimerKind : std::uint64_t {
  kDeadline = 1,
  kForwardTimeout = 2,  // start_to_close of a forward attempt
  kForwardBackoff = 3,
  kCompensationTimeout = 4,
  kCompensationBackoff = 5,
  kForwardScheduleToStart = 6,
  kForwardScheduleToClose = 7,  // armed once per step, with attempt 1
  kCompensationScheduleToStart = 8,
};

constexpr std::uint64_t kAttemptMask = (1ull << 28) - 1;
static_assert(kMaxAttemptsLimit <= kAttemptMask);

TimerId MakeTimerId(TimerKind kind, StepIndex step, std::uint32_t attempt) {
  TRI_DASSERT(attempt <= kAttemptMask);
  return (static_cast<std::uint64_t>(kind) << 60) |
         ((static_cast<std::uint64_t>(attempt) & kAttemptMask) << 32) | step;
}
TimerKind TimerKindOf(TimerId id) {
  return static_cast<TimerKind>(id >> 60);
}
std::uint32_t TimerAttemptOf(TimerId id) {
  return static_cast<std::uint32_t>((id >> 32) & kAttemptMask);
}
StepIndex TimerStepOf(TimerId id) {
  return static_cast<StepIndex>(id & 0xffffffffull);
}

const std::string kEmpty;

}  // namespace

TimerDescription DescribeTimer(TimerId timer) {
  TimerDescription d;
  switch (TimerKindOf(timer)) {
    case TimerKind::kDeadline:
      d.kind = "deadline";
      return d;
    case TimerKind::kForwardTimeout:
      d.kind = "start_to_close";
      break;
    case TimerKind::kForwardBackoff:
      d.kind = "backoff";
      break;
    case TimerKind::kCompensationTimeout:
      d.kind = "compensation_start_to_close";
      break;
    case TimerKind::kCompensationBackoff:
      d.kind = "compensation_backoff";
      break;
    case TimerKind::kForwardScheduleToStart:
      d.kind = "schedule_to_start";
      break;
    case TimerKind::kForwardScheduleToClose:
      d.kind = "schedule_to_close";
      break;
    case TimerKind::kCompensationScheduleToStart:
      d.kind = "compensation_schedule_to_start";
      break;
    default:
      return d;
  }
  d.step = TimerStepOf(timer);
  d.attempt = TimerAttemptOf(timer);
  return d;
}

Orchestrator::Orchestrator(std::shared_ptr<const SagaPlan> plan, Rng& rng,
                           OrchestratorOptions options)
    : plan_(std::move(plan)), rng_(&rng), options_(options) {
  TRI_ASSERT(plan_ != nullptr);
  const SagaGraph& graph = plan_->graph();
  const StepIndex n = graph.size();
  steps_.resize(n);
  pending_.resize(n);
  for (StepIndex s = 0; s < n; ++s) {
    pending_[s] = static_cast<std::uint32_t>(graph.needs(s).size());
  }
  any_timeout_ = plan_->any_timeout();
  forward_unfinished_ = n;
}

// --- inputs ------------------------------------------------------------------

void Orchestrator::AdvanceTime(TimePoint now) {
  TRI_ASSERT_MSG(now.count() >= last_now_ns_, "orchestrator time went backwards");
  last_now_ns_ = now.count();
}

void Orchestrator::Start(TimePoint now, std::vector<Command>& out) {
  TRI_ASSERT_MSG(phase_ == Phase::kNotStarted, "saga started twice");
  AdvanceTime(now);
  phase_ = Phase::kForward;
  started_ns_ = now.count();
  Trace(now, kNoStep, TraceEvent::kSagaStarted, 0, 0);
  if (plan_->size() == 0) {
    Finish(SagaOutcome::kCompleted, now, out);
    return;
  }
  if (plan_->deadline() > Duration{0}) {
    out.push_back(Command{.kind = CommandKind::kArmTimer,
                          .timer = MakeTimerId(TimerKind::kDeadline, kNoStep, 0),
                          .fire_at = now + plan_->deadline()});
  }
  for (StepIndex root : plan_->graph().roots())
    ScheduleForwardAttempt(root, now, out);
}

void Orchestrator::OnAttemptStarted(AttemptPhase phase, StepIndex step, std::uint32_t attempt,
                                    TimePoint now, std::vector<Command>& out) {
  AdvanceTime(now);
  // No assertion on the attempt: a started report may race a cancel, and an
  // unknown one must not take a replica down.
  bool current = false;
  if (step < steps_.size()) {
    const StepRuntime& st = steps_[step];
    const bool waiting = st.attempt_running && !st.attempt_started && attempt >= 1;
    if (phase == AttemptPhase::kForward) {
      current = waiting && phase_ == Phase::kForward && st.state == StepState::kRunning &&
                attempt == st.attempt;
    } else {
      current = waiting && phase_ == Phase::kCompensating && st.state == StepState::kCompensating &&
                attempt == st.comp_attempt;
    }
  }
  if (!current) {
    ++stale_ignored_;
    return;
  }
  MarkStarted(step, now, /*arm_timeout=*/true, out);
}

void Orchestrator::OnAttemptSucceeded(AttemptPhase phase, StepIndex step, std::uint32_t attempt,
                                      TimePoint now, std::vector<Command>& out,
                                      std::string_view output) {
  AdvanceTime(now);
  TRI_ASSERT(step < steps_.size());
  StepRuntime& st = steps_[step];
  if (phase == AttemptPhase::kForward) {
    TRI_ASSERT_MSG(attempt >= 1 && attempt <= st.attempt, "result for an attempt never started");
    if (st.state != StepState::kRunning || attempt != st.attempt) {
      ++stale_ignored_;
      return;
    }
    TRI_ASSERT(phase_ == Phase::kForward && st.attempt_running);
    if (!st.attempt_started) MarkStarted(step, now, /*arm_timeout=*/false, out);
    ForwardSucceeded(step, now, out, output);
  } else {
    TRI_ASSERT_MSG(attempt >= 1 && attempt <= st.comp_attempt,
                   "compensation result for an attempt never started");
    if (st.state != StepState::kCompensating || !st.attempt_running || attempt != st.comp_attempt) {
      ++stale_ignored_;
      return;
    }
    TRI_ASSERT(phase_ == Phase::kCompensating);
    if (!st.attempt_started) MarkStarted(step, now, /*arm_timeout=*/false, out);
    CompensationSucceeded(step, now, out);
  }
}

void Orchestrator::OnAttemptFailed(AttemptPhase phase, StepIndex step, std::uint32_t attempt,
                                   int code, bool retryable, std::string_view message,
                                   TimePoint now, std::vector<Command>& out) {
  AdvanceTime(now);
  TRI_ASSERT(step < steps_.size());
  StepRuntime& st = steps_[step];
  if (phase == AttemptPhase::kForward) {
    TRI_ASSERT_MSG(attempt >= 1 && attempt <= st.attempt, "result for an attempt never started");
    if (st.state != StepState::kRunning || attempt != st.attempt) {
      ++stale_ignored_;
      return;
    }
    TRI_ASSERT(phase_ == Phase::kForward && st.attempt_running);
    if (!st.attempt_started) MarkStarted(step, now, /*arm_timeout=*/false, out);
    ForwardAttemptFailed(step, code, retryable, /*timed_out=*/false, message, now, out);
  } else {
    TRI_ASSERT_MSG(attempt >= 1 && attempt <= st.comp_attempt,
                   "compensation result for an attempt never started");
    if (st.state != StepState::kCompensating || !st.attempt_running || attempt != st.comp_attempt) {
      ++stale_ignored_;
      return;
    }
    TRI_ASSERT(phase_ == Phase::kCompensating);
    if (!st.attempt_started) MarkStarted(step, now, /*arm_timeout=*/false, out);
    CompensationAttemptFailed(step, code, retryable, /*timed_out=*/false, message, now, out);
  }
}

void Orchestrator::OnTimerFired(TimerId timer, TimePoint now, std::vector<Command>& out) {
  AdvanceTime(now);
  const TimerKind kind = TimerKindOf(timer);
  if (kind == TimerKind::kDeadline) {
    TRI_ASSERT_MSG(plan_->deadline() > Duration{0}, "deadline timer without a deadline");
    if (phase_ != Phase::kForward) {
      ++stale_ignored_;
      return;
    }
    StopForward(StopCause::kDeadline, now, out);
    return;
  }
  const StepIndex step = TimerStepOf(timer);
  const std::uint32_t attempt = TimerAttemptOf(timer);
  TRI_ASSERT_MSG(step < steps_.size(), "timer for an unknown step");
  StepRuntime& st = steps_[step];
  switch (kind) {
    case TimerKind::kForwardScheduleToStart:
    case TimerKind::kForwardTimeout: {
      TRI_ASSERT(attempt >= 1 && attempt <= st.attempt);
      // schedule_to_start fires only while the attempt waits to start;
      // start_to_close is armed at the start, so only while it runs.
      const bool to_start = kind == TimerKind::kForwardScheduleToStart;
      if (phase_ != Phase::kForward || st.state != StepState::kRunning || attempt != st.attempt ||
          st.attempt_started == to_start) {
        break;
      }
      out.push_back(Command{.kind = CommandKind::kCancelAttempt,
                            .phase = AttemptPhase::kForward,
                            .step = step,
                            .attempt = attempt});
      ForwardAttemptFailed(
          step, kCodeTimedOut, /*retryable=*/true, /*timed_out=*/true,
          to_start ? "attempt not started within schedule_to_start" : "attempt timed out", now,
          out);
      return;
    }
    case TimerKind::kForwardScheduleToClose:
      TRI_ASSERT(attempt == 1 && st.attempt >= 1);
      if (phase_ != Phase::kForward ||
          (st.state != StepState::kRunning && st.state != StepState::kBackoff)) {
        break;
      }
      ForwardScheduleToClose(step, now, out);
      return;
    case TimerKind::kForwardBackoff:
      TRI_ASSERT(attempt >= 1 && attempt <= st.attempt);
      if (phase_ != Phase::kForward || st.state != StepState::kBackoff || attempt != st.attempt) {
        break;
      }
      ScheduleForwardAttempt(step, now, out);
      return;
    case TimerKind::kCompensationScheduleToStart:
    case TimerKind::kCompensationTimeout: {
      TRI_ASSERT(attempt >= 1 && attempt <= st.comp_attempt);
      const bool to_start = kind == TimerKind::kCompensationScheduleToStart;
      if (st.state != StepState::kCompensating || !st.attempt_running ||
          attempt != st.comp_attempt || st.attempt_started == to_start) {
        break;
      }
      out.push_back(Command{.kind = CommandKind::kCancelAttempt,
                            .phase = AttemptPhase::kCompensate,
                            .step = step,
                            .attempt = attempt});
      CompensationAttemptFailed(step, kCodeTimedOut, /*retryable=*/true, /*timed_out=*/true,
                                to_start ? "compensation attempt not started within "
                                           "schedule_to_start"
                                         : "compensation attempt timed out",
                                now, out);
      return;
    }
    case TimerKind::kCompensationBackoff:
      TRI_ASSERT(attempt >= 1 && attempt <= st.comp_attempt);
      if (st.state != StepState::kCompensating || st.attempt_running ||
          attempt != st.comp_attempt) {
        break;
      }
      ScheduleCompensationAttempt(step, now, out);
      return;
    default:
      TRI_ASSERT_MSG(false, "timer id not armed by this orchestrator");
  }
  ++stale_ignored_;
}

void Orchestrator::Abort(TimePoint now, std::vector<Command>& out) {
  AdvanceTime(now);
  TRI_ASSERT_MSG(phase_ != Phase::kNotStarted, "abort before start");
  if (phase_ != Phase::kForward) return;  // already stopping or finished
  StopForward(StopCause::kAbort, now, out);
}

void Orchestrator::Apply(const Event& event, std::vector<Command>& out) {
  switch (event.kind) {
    case EventKind::kStart:
      Start(event.now, out);
      return;
    case EventKind::kAttemptSucceeded:
      OnAttemptSucceeded(event.phase, event.step, event.attempt, event.now, out, event.payload);
      return;
    case EventKind::kAttemptFailed:
      OnAttemptFailed(event.phase, event.step, event.attempt, event.code, event.retryable,
                      event.payload, event.now, out);
      return;
    case EventKind::kTimerFired:
      OnTimerFired(event.timer, event.now, out);
      return;
    case EventKind::kAbortRequested:
      Abort(event.now, out);
      return;
    case EventKind::kAttemptStarted:
      OnAttemptStarted(event.phase, event.step, event.attempt, event.now, out);
      return;
  }
  TRI_UNREACHABLE();
}

// --- forward phase -------------------------------------------------------------

void Orchestrator::ScheduleForwardAttempt(StepIndex s, TimePoint now, std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_DASSERT(phase_ == Phase::kForward);
  TRI_ASSERT(pending_[s] == 0);
  TRI_ASSERT(st.state == StepState::kPending || st.state == StepState::kBackoff);
  TRI_ASSERT(!st.attempt_running);
  const bool first = st.state == StepState::kPending;
  if (first) {
    TRI_ASSERT(st.attempt == 0);
    st.first_scheduled_ns = now.count();
    ++in_flight_;
  }
  ++st.attempt;
  // max_attempts >= 1 (plan invariant), so only retries need the policy.
  TRI_ASSERT(st.attempt == 1 || st.attempt <= plan_->retry(s).max_attempts);
  st.state = StepState::kRunning;
  st.forward_state = StepState::kRunning;
  st.attempt_running = true;
  st.attempt_started = false;
  st.attempt_scheduled_ns = now.count();
  st.retry_at_ns = 0;
  ++attempts_total_;
  out.push_back(Command{.kind = CommandKind::kStartAttempt,
                        .phase = AttemptPhase::kForward,
                        .step = s,
                        .attempt = st.attempt});
  if (any_timeout_) {
    if (first && plan_->schedule_to_close(s) > Duration{0}) {
      out.push_back(Command{.kind = CommandKind::kArmTimer,
                            .timer = MakeTimerId(TimerKind::kForwardScheduleToClose, s, 1),
                            .fire_at = now + plan_->schedule_to_close(s)});
    }
    if (plan_->schedule_to_start(s) > Duration{0}) {
      out.push_back(Command{.kind = CommandKind::kArmTimer,
                            .timer = MakeTimerId(TimerKind::kForwardScheduleToStart, s, st.attempt),
                            .fire_at = now + plan_->schedule_to_start(s)});
    }
  }
  Trace(now, s, TraceEvent::kStepScheduled, st.attempt, 0);
}

void Orchestrator::MarkStarted(StepIndex s, TimePoint now, bool arm_timeout,
                               std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(st.attempt_running && !st.attempt_started);
  st.attempt_started = true;
  st.attempt_start_ns = now.count();
  const bool forward = st.state == StepState::kRunning;
  TRI_ASSERT(forward || st.state == StepState::kCompensating);
  const std::uint32_t attempt = forward ? st.attempt : st.comp_attempt;
  if (forward) {
    if (!st.ever_started) {
      st.ever_started = true;
      st.first_start_ns = now.count();
    }
    ++running_;
    if (running_ > max_parallelism_) max_parallelism_ = running_;
  }
  if (arm_timeout && any_timeout_ && plan_->timeout(s) > Duration{0}) {
    const TimerKind kind = forward ? TimerKind::kForwardTimeout : TimerKind::kCompensationTimeout;
    out.push_back(Command{.kind = CommandKind::kArmTimer,
                          .timer = MakeTimerId(kind, s, attempt),
                          .fire_at = now + plan_->timeout(s)});
  }
  Trace(now, s, forward ? TraceEvent::kStepStarted : TraceEvent::kCompensationStarted, attempt, 0);
}

void Orchestrator::EndAttemptClock(StepIndex s, TimePoint now) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(st.attempt_running);
  st.attempt_running = false;
  if (!st.attempt_started) return;  // cancelled while only scheduled: never ran
  st.attempt_started = false;
  TRI_ASSERT(running_ > 0);
  --running_;
  busy_ns_ += now.count() - st.attempt_start_ns;
}

bool Orchestrator::Retries(const RetryPolicy& policy, std::uint32_t attempt, int code,
                           bool retryable) const {
  return retryable && attempt < policy.max_attempts && RetryAllowsCode(policy, code);
}

// Flattened: this is the per-step hot path of a running saga; inlining the
// start of dependents and the command append saves a third of its cost.
[[gnu::flatten]] void Orchestrator::ForwardSucceeded(StepIndex s, TimePoint now,
                                                     std::vector<Command>& out,
                                                     std::string_view output) {
  StepRuntime& st = steps_[s];
  EndAttemptClock(s, now);
  st.state = StepState::kSucceeded;
  st.forward_state = StepState::kSucceeded;
  st.end_ns = now.count();
  TRI_ASSERT(in_flight_ > 0 && forward_unfinished_ > 0);
  --in_flight_;
  --forward_unfinished_;
  ++count_succeeded_;
  if (!output.empty()) {
    if (outputs_.empty()) outputs_.resize(steps_.size());
    outputs_[s].assign(output.data(), output.size());
  }
  Trace(now, s, TraceEvent::kStepSucceeded, st.attempt, 0);
  std::uint32_t* const pending = pending_.data();
  for (StepIndex d : plan_->graph().dependents(s)) {
    TRI_ASSERT(pending[d] > 0);
    if (--pending[d] == 0) ScheduleForwardAttempt(d, now, out);
  }
  if (forward_unfinished_ == 0) {
    TRI_ASSERT(running_ == 0 && in_flight_ == 0);
    Finish(SagaOutcome::kCompleted, now, out);
  }
}

void Orchestrator::ForwardAttemptFailed(StepIndex s, int code, bool retryable, bool timed_out,
                                        std::string_view message, TimePoint now,
                                        std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(st.state == StepState::kRunning);
  EndAttemptClock(s, now);
  st.last_code = code;
  if (!message.empty() || !messages_.empty()) {
    if (messages_.empty()) messages_.resize(steps_.size());
    messages_[s].assign(message.data(), message.size());
  }
  Trace(now, s, timed_out ? TraceEvent::kStepTimedOut : TraceEvent::kStepFailed, st.attempt, code);
  const RetryPolicy& retry = plan_->retry(s);
  if (Retries(retry, st.attempt, code, retryable)) {
    st.state = StepState::kBackoff;
    st.forward_state = StepState::kBackoff;
    const Duration delay = BackoffDelay(retry, st.attempt, *rng_);
    if (delay <= Duration{0}) {
      ScheduleForwardAttempt(s, now, out);
    } else {
      st.retry_at_ns = (now + delay).count();
      out.push_back(Command{.kind = CommandKind::kArmTimer,
                            .timer = MakeTimerId(TimerKind::kForwardBackoff, s, st.attempt),
                            .fire_at = now + delay});
    }
    return;
  }
  // Final: the step failed; the saga stops going forward.
  st.state = timed_out ? StepState::kTimedOut : StepState::kFailed;
  st.forward_state = st.state;
  st.end_ns = now.count();
  TRI_ASSERT(in_flight_ > 0);
  --in_flight_;
  if (timed_out) {
    ++count_timed_out_;
  } else {
    ++count_failed_;
  }
  StopForward(StopCause::kStepFailed, now, out);
}

void Orchestrator::ForwardScheduleToClose(StepIndex s, TimePoint now, std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(st.state == StepState::kRunning || st.state == StepState::kBackoff);
  if (st.state == StepState::kRunning) {
    out.push_back(Command{.kind = CommandKind::kCancelAttempt,
                          .phase = AttemptPhase::kForward,
                          .step = s,
                          .attempt = st.attempt});
    EndAttemptClock(s, now);
  }
  static constexpr std::string_view kMessage = "step did not finish within schedule_to_close";
  if (messages_.empty()) messages_.resize(steps_.size());
  messages_[s].assign(kMessage.data(), kMessage.size());
  st.last_code = kCodeTimedOut;
  st.state = StepState::kTimedOut;
  st.forward_state = StepState::kTimedOut;
  st.retry_at_ns = 0;
  st.end_ns = now.count();
  TRI_ASSERT(in_flight_ > 0);
  --in_flight_;
  ++count_timed_out_;
  Trace(now, s, TraceEvent::kStepTimedOut, st.attempt, kCodeTimedOut);
  StopForward(StopCause::kStepFailed, now, out);
}

void Orchestrator::StopForward(StopCause cause, TimePoint now, std::vector<Command>& out) {
  TRI_ASSERT(phase_ == Phase::kForward);
  TRI_ASSERT(cause != StopCause::kNone);
  stop_cause_ = cause;
  const bool deadline = cause == StopCause::kDeadline;
  const int code = deadline ? kCodeTimedOut : kCodeCancelled;
  const StepState final_state = deadline ? StepState::kTimedOut : StepState::kCancelled;
  const auto n = static_cast<StepIndex>(steps_.size());
  for (StepIndex s = 0; s < n && in_flight_ > 0; ++s) {
    StepRuntime& st = steps_[s];
    if (st.state != StepState::kRunning && st.state != StepState::kBackoff) continue;
    if (st.state == StepState::kRunning) {
      out.push_back(Command{.kind = CommandKind::kCancelAttempt,
                            .phase = AttemptPhase::kForward,
                            .step = s,
                            .attempt = st.attempt});
      EndAttemptClock(s, now);
    }
    st.state = final_state;
    st.forward_state = final_state;
    st.retry_at_ns = 0;
    st.last_code = code;
    st.end_ns = now.count();
    --in_flight_;
    if (deadline) {
      ++count_timed_out_;
    } else {
      ++count_cancelled_;
    }
    Trace(now, s, deadline ? TraceEvent::kStepTimedOut : TraceEvent::kStepCancelled, st.attempt,
          code);
  }
  TRI_ASSERT(in_flight_ == 0 && running_ == 0);
  BeginCompensation(now, out);
}

// --- compensation --------------------------------------------------------------

void Orchestrator::BeginCompensation(TimePoint now, std::vector<Command>& out) {
  TRI_ASSERT(phase_ == Phase::kForward);
  phase_ = Phase::kCompensating;
  const SagaGraph& graph = plan_->graph();
  const auto n = static_cast<StepIndex>(steps_.size());
  std::uint32_t set_size = 0;
  for (StepIndex s = 0; s < n; ++s) {
    StepRuntime& st = steps_[s];
    TRI_ASSERT(st.state != StepState::kRunning && st.state != StepState::kBackoff);
    bool in_set = false;
    if (plan_->has_compensate(s)) {
      in_set = st.state == StepState::kSucceeded ||
               (plan_->compensate_when(s) == CompensateWhen::kAttempted &&
                (st.state == StepState::kTimedOut || st.state == StepState::kCancelled));
    }
    st.in_comp_set = in_set;
    pending_[s] = 0;  // reused: set steps still to compensate before this one
    if (in_set) {
      TRI_ASSERT(st.attempt >= 1);
      ++set_size;
    }
  }
  comp_unfinished_ = set_size;
  if (set_size == 0) {
    Finish(SagaOutcome::kFailed, now, out);
    return;
  }

  // For each set step c, find the nearest set steps a that c (transitively)
  // needs, walking needs through steps outside the set: c must be compensated
  // before a. Nearest suffices: a's own ancestors then wait for a.
  comp_before_offsets_.assign(n + 1, 0);
  comp_before_.clear();
  std::vector<StepIndex> visited_by(n, kNoStep);
  std::vector<StepIndex> stack;
  for (StepIndex c = 0; c < n; ++c) {
    comp_before_offsets_[c] = static_cast<std::uint32_t>(comp_before_.size());
    if (!steps_[c].in_comp_set) continue;
    stack.assign(graph.needs(c).begin(), graph.needs(c).end());
    while (!stack.empty()) {
      const StepIndex at = stack.back();
      stack.pop_back();
      if (visited_by[at] == c) continue;
      visited_by[at] = c;
      if (steps_[at].in_comp_set) {
        comp_before_.push_back(at);
        ++pending_[at];
      } else {
        for (StepIndex need : graph.needs(at)) {
          if (visited_by[need] != c) stack.push_back(need);
        }
      }
    }
  }
  comp_before_offsets_[n] = static_cast<std::uint32_t>(comp_before_.size());

  for (StepIndex s = 0; s < n; ++s) {
    if (steps_[s].in_comp_set && pending_[s] == 0) ScheduleCompensationAttempt(s, now, out);
  }
}

void Orchestrator::ScheduleCompensationAttempt(StepIndex s, TimePoint now,
                                               std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(phase_ == Phase::kCompensating);
  TRI_ASSERT(st.in_comp_set && pending_[s] == 0);
  TRI_ASSERT(!st.attempt_running);
  TRI_ASSERT(st.comp_attempt == 0 || st.state == StepState::kCompensating);
  TRI_ASSERT(st.comp_attempt > 0 || st.state == StepState::kSucceeded ||
             st.state == StepState::kTimedOut || st.state == StepState::kCancelled);
  ++st.comp_attempt;
  TRI_ASSERT(st.comp_attempt <= plan_->compensate_retry(s).max_attempts);
  st.state = StepState::kCompensating;
  st.attempt_running = true;
  st.attempt_started = false;
  st.attempt_scheduled_ns = now.count();
  st.retry_at_ns = 0;
  ++comp_attempts_total_;
  out.push_back(Command{.kind = CommandKind::kStartAttempt,
                        .phase = AttemptPhase::kCompensate,
                        .step = s,
                        .attempt = st.comp_attempt});
  if (any_timeout_ && plan_->schedule_to_start(s) > Duration{0}) {
    out.push_back(
        Command{.kind = CommandKind::kArmTimer,
                .timer = MakeTimerId(TimerKind::kCompensationScheduleToStart, s, st.comp_attempt),
                .fire_at = now + plan_->schedule_to_start(s)});
  }
  Trace(now, s, TraceEvent::kCompensationScheduled, st.comp_attempt, 0);
}

void Orchestrator::CompensationSucceeded(StepIndex s, TimePoint now, std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(st.state == StepState::kCompensating && st.attempt_running);
  st.attempt_running = false;
  st.attempt_started = false;
  st.state = StepState::kCompensated;
  ++count_compensated_;
  Trace(now, s, TraceEvent::kCompensationSucceeded, st.comp_attempt, 0);
  CompensationDone(s, now, out);
}

void Orchestrator::CompensationAttemptFailed(StepIndex s, int code, bool retryable, bool timed_out,
                                             std::string_view message, TimePoint now,
                                             std::vector<Command>& out) {
  StepRuntime& st = steps_[s];
  TRI_ASSERT(st.state == StepState::kCompensating && st.attempt_running);
  st.attempt_running = false;
  st.attempt_started = false;
  st.last_code = code;
  if (!message.empty() || !messages_.empty()) {
    if (messages_.empty()) messages_.resize(steps_.size());
    messages_[s].assign(message.data(), message.size());
  }
  Trace(now, s, TraceEvent::kCompensationFailed, st.comp_attempt, code);
  const RetryPolicy& retry = plan_->compensate_retry(s);
  if (Retries(retry, st.comp_attempt, code, retryable)) {
    const Duration delay = BackoffDelay(retry, st.comp_attempt, *rng_);
    if (delay <= Duration{0}) {
      ScheduleCompensationAttempt(s, now, out);
    } else {
      st.retry_at_ns = (now + delay).count();
      out.push_back(
          Command{.kind = CommandKind::kArmTimer,
                  .timer = MakeTimerId(TimerKind::kCompensationBackoff, s, st.comp_attempt),
                  .fire_at = now + delay});
    }
    return;
  }
  (void)timed_out;
  st.state = StepState::kCompensationFailed;
  ++count_compensation_failed_;
  CompensationDone(s, now, out);
}

void Orchestrator::CompensationDone(StepIndex s, TimePoint now, std::vector<Command>& out) {
  TRI_ASSERT(comp_unfinished_ > 0);
  --comp_unfinished_;
  const std::uint32_t begin = comp_before_offsets_[s];
  const std::uint32_t end = comp_before_offsets_[s + 1];
  for (std::uint32_t i = begin; i < end; ++i) {
    const StepIndex a = comp_before_[i];
    StepRuntime& st = steps_[a];
    TRI_ASSERT(st.in_comp_set && pending_[a] > 0);
    if (--pending_[a] == 0) ScheduleCompensationAttempt(a, now, out);
  }
  if (comp_unfinished_ == 0) {
    Finish(count_compensation_failed_ > 0 ? SagaOutcome::kCompensationFailed
                                          : SagaOutcome::kCompensated,
           now, out);
  }
}

void Orchestrator::Finish(SagaOutcome outcome, TimePoint now, std::vector<Command>& out) {
  TRI_ASSERT_MSG(phase_ != Phase::kFinished && outcome_ == SagaOutcome::kRunning,
                 "saga finished twice");
  TRI_ASSERT(outcome != SagaOutcome::kRunning);
  TRI_ASSERT(running_ == 0);
  phase_ = Phase::kFinished;
  outcome_ = outcome;
  finished_ns_ = now.count();
  out.push_back(Command{.kind = CommandKind::kSagaFinished, .outcome = outcome});
  TraceEvent event = TraceEvent::kSagaCompleted;
  switch (outcome) {
    case SagaOutcome::kCompleted:
      event = TraceEvent::kSagaCompleted;
      break;
    case SagaOutcome::kCompensated:
      event = TraceEvent::kSagaCompensated;
      break;
    case SagaOutcome::kCompensationFailed:
      event = TraceEvent::kSagaCompensationFailed;
      break;
    case SagaOutcome::kFailed:
      event = TraceEvent::kSagaFailed;
      break;
    case SagaOutcome::kRunning:
      TRI_UNREACHABLE();
  }
  Trace(now, kNoStep, event, 0, 0);
}

void Orchestrator::Trace(TimePoint now, StepIndex s, TraceEvent event, std::uint32_t attempt,
                         int code) {
  if (!options_.trace) return;
  trace_.push_back(
      TraceRecord{.time = now, .step = s, .event = event, .attempt = attempt, .code = code});
}

// --- queries -------------------------------------------------------------------

const std::string& Orchestrator::output(StepIndex s) const {
  TRI_ASSERT(s < steps_.size());
  return outputs_.empty() ? kEmpty : outputs_[s];
}

const std::string& Orchestrator::last_message(StepIndex s) const {
  TRI_ASSERT(s < steps_.size());
  return messages_.empty() ? kEmpty : messages_[s];
}

std::vector<StepIndex> Orchestrator::compensation_failed_steps() const {
  std::vector<StepIndex> failed;
  for (StepIndex s = 0; s < steps_.size(); ++s) {
    if (steps_[s].state == StepState::kCompensationFailed) failed.push_back(s);
  }
  return failed;
}

std::vector<Command> Orchestrator::PendingTimers() const {
  std::vector<Command> timers;
  const auto arm = [&timers](TimerKind kind, StepIndex s, std::uint32_t attempt,
                             std::int64_t fire_at_ns) {
    timers.push_back(Command{.kind = CommandKind::kArmTimer,
                             .timer = MakeTimerId(kind, s, attempt),
                             .fire_at = TimePoint{fire_at_ns}});
  };
  if (phase_ == Phase::kForward && plan_->deadline() > Duration{0}) {
    arm(TimerKind::kDeadline, kNoStep, 0, (TimePoint{started_ns_} + plan_->deadline()).count());
  }
  for (StepIndex s = 0; s < steps_.size(); ++s) {
    const StepRuntime& st = steps_[s];
    const Duration to_start = plan_->schedule_to_start(s);
    const Duration to_close = plan_->timeout(s);
    if (st.state == StepState::kRunning || st.state == StepState::kBackoff) {
      if (plan_->schedule_to_close(s) > Duration{0}) {
        arm(TimerKind::kForwardScheduleToClose, s, 1,
            st.first_scheduled_ns + plan_->schedule_to_close(s).count());
      }
      if (st.state == StepState::kBackoff) {
        arm(TimerKind::kForwardBackoff, s, st.attempt, st.retry_at_ns);
      } else if (!st.attempt_started && to_start > Duration{0}) {
        arm(TimerKind::kForwardScheduleToStart, s, st.attempt,
            st.attempt_scheduled_ns + to_start.count());
      } else if (st.attempt_started && to_close > Duration{0}) {
        arm(TimerKind::kForwardTimeout, s, st.attempt, st.attempt_start_ns + to_close.count());
      }
    } else if (st.state == StepState::kCompensating) {
      if (!st.attempt_running) {
        arm(TimerKind::kCompensationBackoff, s, st.comp_attempt, st.retry_at_ns);
      } else if (!st.attempt_started && to_start > Duration{0}) {
        arm(TimerKind::kCompensationScheduleToStart, s, st.comp_attempt,
            st.attempt_scheduled_ns + to_start.count());
      } else if (st.attempt_started && to_close > Duration{0}) {
        arm(TimerKind::kCompensationTimeout, s, st.comp_attempt,
            st.attempt_start_ns + to_close.count());
      }
    }
  }
  return timers;
}

std::vector<TraceRecord> Orchestrator::TakeTrace() {
  std::vector<TraceRecord> taken;
  taken.swap(trace_);
  return taken;
}

SagaStats Orchestrator::stats() const {
  SagaStats stats;
  stats.started_at = TimePoint{started_ns_};
  stats.finished_at = TimePoint{finished_ns_};
  const std::int64_t end_ns = phase_ == Phase::kFinished ? finished_ns_ : last_now_ns_;
  stats.wall = started() ? Duration{end_ns - started_ns_} : Duration{0};
  stats.levels = plan_->graph().depth();
  stats.max_parallelism = max_parallelism_;
  // Busy time includes attempts still running, up to the last event.
  std::int64_t busy_ns = busy_ns_;
  std::vector<Duration> weight(steps_.size(), Duration{0});
  std::uint32_t not_started = 0;
  for (StepIndex s = 0; s < steps_.size(); ++s) {
    const StepRuntime& st = steps_[s];
    if (st.attempt == 0) {
      ++not_started;
      continue;
    }
    const bool forward_open = st.state == StepState::kRunning || st.state == StepState::kBackoff;
    if (st.state == StepState::kRunning && st.attempt_started) {
      busy_ns += last_now_ns_ - st.attempt_start_ns;
    }
    // A step whose attempts never really started weighs nothing.
    if (st.ever_started) {
      weight[s] = Duration{(forward_open ? last_now_ns_ : st.end_ns) - st.first_start_ns};
    }
  }
  stats.busy = Duration{busy_ns};
  stats.avg_parallelism =
      stats.wall.count() > 0 ? static_cast<double>(busy_ns) / stats.wall.count() : 0.0;
  stats.critical_path = plan_->graph().CriticalPath(weight);
  stats.attempts = attempts_total_;
  stats.retries = attempts_total_ - (steps_.size() - not_started);
  stats.compensation_attempts = comp_attempts_total_;
  stats.stale_results_ignored = stale_ignored_;
  stats.steps_succeeded = count_succeeded_;
  stats.steps_failed = count_failed_;
  stats.steps_timed_out = count_timed_out_;
  stats.steps_cancelled = count_cancelled_;
  stats.steps_not_started = not_started;
  stats.steps_compensated = count_compensated_;
  stats.steps_compensation_failed = count_compensation_failed_;
  stats.stop_cause = stop_cause_;
  return stats;
}

}  // namespace tri::saga
