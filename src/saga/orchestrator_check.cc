// Orchestrator::CheckState: Restore's validation of a decoded state. Bytes
// read back from disk or a snapshot may be corrupt or forged; a state this
// orchestrator could not have reached must be refused here, or a later input
// trips an assertion (or worse, silently misbehaves). Every derived counter is
// recomputed from the per-step state and compared, and every per-step state
// is checked against the saga's phase, the graph and the plan.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "saga/orchestrator.h"

namespace tri::saga {
namespace {

// Times are nanoseconds on the driver's clock; a bound far in the future
// (2116 as Unix time) keeps `now + timeout` and duration sums from overflowing.
constexpr std::int64_t kMaxTimeNs = std::int64_t{1} << 62;
// BackoffDelay's cap: a backoff timer fires at most this long after the failure.
constexpr std::int64_t kMaxBackoffNs = 4'000'000'000'000'000'000;

bool IsForwardFinal(StepState s) {
  return s == StepState::kSucceeded || s == StepState::kFailed || s == StepState::kTimedOut ||
         s == StepState::kCancelled;
}

bool IsCompensationDone(StepState s) {
  return s == StepState::kCompensated || s == StepState::kCompensationFailed;
}

Status Bad(const std::string& what) {
  return Corruption("orchestrator state: " + what);
}

Status BadStep(StepIndex s, const std::string& what) {
  return Bad("step " + std::to_string(s) + ": " + what);
}

}  // namespace

// What CheckStep counts over the steps, for CheckState to compare with the
// counters it keeps.
struct Orchestrator::StateTally {
  std::uint32_t running = 0, in_flight = 0, forward_unfinished = 0, comp_unfinished = 0;
  std::uint32_t succeeded = 0, failed = 0, timed_out = 0, cancelled = 0;
  std::uint32_t compensated = 0, compensation_failed = 0, set_size = 0, ever_started = 0;
  std::uint64_t attempts = 0, comp_attempts = 0;
};

Status Orchestrator::CheckState() const {
  const auto n = static_cast<StepIndex>(steps_.size());
  if (phase_ == Phase::kNotStarted) return CheckNotStartedState();

  // --- saga-level times and outcome ------------------------------------------
  if (started_ns_ < 0 || last_now_ns_ < started_ns_ || last_now_ns_ > kMaxTimeNs) {
    return Bad("start time and last input time out of order or range");
  }
  const bool finished = phase_ == Phase::kFinished;
  if (finished ? (finished_ns_ < started_ns_ || finished_ns_ > last_now_ns_) : finished_ns_ != 0) {
    return Bad("finish time inconsistent with the phase");
  }
  if (finished == (outcome_ == SagaOutcome::kRunning)) {
    return Bad("outcome " + std::string(SagaOutcomeName(outcome_)) +
               " inconsistent with the phase");
  }
  if (n == 0 && !(finished && outcome_ == SagaOutcome::kCompleted)) {
    return Bad("an empty saga that did not complete");
  }
  const bool completed = finished && outcome_ == SagaOutcome::kCompleted;
  const bool forward = phase_ == Phase::kForward;
  // BeginCompensation ran: the compensation set and order exist.
  const bool stopped = !forward && !completed;
  if (stopped == (stop_cause_ == StopCause::kNone)) {
    return Bad("stop cause " + std::string(StopCauseName(stop_cause_)) +
               " inconsistent with the phase");
  }

  // --- per step ----------------------------------------------------------------
  StateTally tally;
  for (StepIndex s = 0; s < n; ++s) {
    TRI_RETURN_IF_ERROR(CheckStep(s, stopped, completed, tally));
  }
  const auto& [running, in_flight, forward_unfinished, comp_unfinished, succeeded, failed,
               timed_out, cancelled, compensated, compensation_failed, set_size, ever_started,
               attempts, comp_attempts] = tally;

  // --- derived counters ----------------------------------------------------------
  if (running_ != running || in_flight_ != in_flight || forward_unfinished_ != forward_unfinished ||
      comp_unfinished_ != comp_unfinished) {
    return Bad("running, in-flight or unfinished counters disagree with the steps");
  }
  if (count_succeeded_ != succeeded || count_failed_ != failed || count_timed_out_ != timed_out ||
      count_cancelled_ != cancelled || count_compensated_ != compensated ||
      count_compensation_failed_ != compensation_failed) {
    return Bad("step statistics disagree with the steps");
  }
  if (attempts_total_ != attempts || comp_attempts_total_ != comp_attempts) {
    return Bad("attempt totals disagree with the steps");
  }
  if (max_parallelism_ < running_ || max_parallelism_ > n ||
      (ever_started > 0) != (max_parallelism_ > 0)) {
    return Bad("peak parallelism inconsistent");
  }

  // --- phase ----------------------------------------------------------------------
  if (forward && forward_unfinished == 0) return Bad("every step succeeded but the saga goes on");
  if (!stopped && (!comp_before_offsets_.empty() || !comp_before_.empty())) {
    return Bad("a compensation order before forward progress stopped");
  }
  if (stopped) {
    switch (stop_cause_) {
      case StopCause::kStepFailed:
        if (failed + timed_out != 1)
          return Bad("stopped by a step failure, but not one step failed");
        break;
      case StopCause::kDeadline:
        if (failed != 0 || cancelled != 0 || timed_out == 0) {
          return Bad("stopped by the deadline, but steps did not time out");
        }
        break;
      case StopCause::kAbort:
        if (failed != 0 || timed_out != 0 || cancelled == 0) {
          return Bad("stopped by an abort, but steps were not cancelled");
        }
        break;
      case StopCause::kNone:
        return Bad("stopped without a cause");
    }
    if (phase_ == Phase::kCompensating) {
      if (comp_unfinished == 0) return Bad("compensating with nothing left to compensate");
    } else {
      const SagaOutcome expected = set_size == 0             ? SagaOutcome::kFailed
                                   : compensation_failed > 0 ? SagaOutcome::kCompensationFailed
                                                             : SagaOutcome::kCompensated;
      if (comp_unfinished != 0 || outcome_ != expected) {
        return Bad("outcome " + std::string(SagaOutcomeName(outcome_)) +
                   " disagrees with the compensations");
      }
    }
    TRI_RETURN_IF_ERROR(CheckCompensationOrder(set_size));
  } else if (completed && forward_unfinished != 0) {
    return Bad("completed with unfinished steps");
  }

  // --- statistics must not overflow when computed -------------------------------------
  if (busy_ns_ < 0) return Bad("negative busy time");
  __int128 busy = busy_ns_;
  __int128 weights = 0;
  for (const StepRuntime& st : steps_) {
    if (st.state == StepState::kRunning && st.attempt_started) {
      busy += last_now_ns_ - st.attempt_start_ns;
    }
    if (st.ever_started) weights += last_now_ns_ - st.first_start_ns;
  }
  constexpr __int128 kMax = std::numeric_limits<std::int64_t>::max();
  if (busy > kMax || weights > kMax) return Bad("durations overflow");
  return Status::Ok();
}

// The compensation order is a function of the graph and the set: rebuild it
// as BeginCompensation does and compare, then recompute the counters of set
// steps still waiting for dependents.
Status Orchestrator::CheckCompensationOrder(std::uint32_t set_size) const {
  const SagaGraph& graph = plan_->graph();
  const auto n = static_cast<StepIndex>(steps_.size());
  if (set_size == 0) {
    if (!comp_before_offsets_.empty() || !comp_before_.empty()) {
      return Bad("a compensation order with an empty compensation set");
    }
    return Status::Ok();
  }
  std::vector<std::uint32_t> offsets(n + 1, 0);
  std::vector<StepIndex> before;
  std::vector<std::uint32_t> waiting(n, 0);
  std::vector<StepIndex> visited_by(n, kNoStep);
  std::vector<StepIndex> stack;
  for (StepIndex c = 0; c < n; ++c) {
    offsets[c] = static_cast<std::uint32_t>(before.size());
    if (!steps_[c].in_comp_set) continue;
    const bool c_done = IsCompensationDone(steps_[c].state);
    stack.assign(graph.needs(c).begin(), graph.needs(c).end());
    while (!stack.empty()) {
      const StepIndex at = stack.back();
      stack.pop_back();
      if (visited_by[at] == c) continue;
      visited_by[at] = c;
      if (steps_[at].in_comp_set) {
        before.push_back(at);
        if (!c_done) ++waiting[at];
      } else {
        for (StepIndex need : graph.needs(at)) {
          if (visited_by[need] != c) stack.push_back(need);
        }
      }
    }
  }
  offsets[n] = static_cast<std::uint32_t>(before.size());
  if (offsets != comp_before_offsets_ || before != comp_before_) {
    return Bad("compensation order disagrees with the graph and the compensation set");
  }
  for (StepIndex s = 0; s < n; ++s) {
    if (steps_[s].in_comp_set && pending_[s] != waiting[s]) {
      return BadStep(s, "compensation counter disagrees with its dependents");
    }
  }
  return Status::Ok();
}

// Only ignored inputs (stale timers or started reports) can precede Start.
Status Orchestrator::CheckNotStartedState() const {
  const SagaGraph& graph = plan_->graph();
  const auto n = static_cast<StepIndex>(steps_.size());
  const bool has_outputs = !outputs_.empty();
  const bool has_messages = !messages_.empty();
  if (started_ns_ != 0 || finished_ns_ != 0 || last_now_ns_ < 0 || last_now_ns_ > kMaxTimeNs ||
      outcome_ != SagaOutcome::kRunning || stop_cause_ != StopCause::kNone ||
      forward_unfinished_ != n || comp_unfinished_ != 0 || running_ != 0 || in_flight_ != 0 ||
      max_parallelism_ != 0 || busy_ns_ != 0 || attempts_total_ != 0 || comp_attempts_total_ != 0 ||
      count_succeeded_ != 0 || count_failed_ != 0 || count_timed_out_ != 0 ||
      count_cancelled_ != 0 || count_compensated_ != 0 || count_compensation_failed_ != 0 ||
      has_outputs || has_messages || !comp_before_offsets_.empty() || !comp_before_.empty()) {
    return Bad("a saga that has not started has progress");
  }
  for (StepIndex s = 0; s < n; ++s) {
    const StepRuntime& st = steps_[s];
    if (st.attempt != 0 || st.comp_attempt != 0 || st.last_code != 0 ||
        st.state != StepState::kPending || st.forward_state != StepState::kPending ||
        st.in_comp_set || st.attempt_running || st.attempt_started || st.ever_started ||
        st.first_scheduled_ns != 0 || st.first_start_ns != 0 || st.attempt_scheduled_ns != 0 ||
        st.attempt_start_ns != 0 || st.end_ns != 0 || st.retry_at_ns != 0 ||
        pending_[s] != graph.needs(s).size()) {
      return BadStep(s, "has progress before the saga started");
    }
  }
  return Status::Ok();
}

// One step against the phase, the graph and the plan; counts it in `tally`.
Status Orchestrator::CheckStep(StepIndex s, bool stopped, bool completed, StateTally& tally) const {
  const SagaGraph& graph = plan_->graph();
  const bool has_outputs = !outputs_.empty();
  const bool has_messages = !messages_.empty();
  const auto in_range = [&](std::int64_t t) { return t >= started_ns_ && t <= last_now_ns_; };
  const StepRuntime& st = steps_[s];
  const StepState state = st.state;
  const StepState fwd = st.forward_state;
  const bool scheduled = st.attempt > 0;
  if (scheduled == (fwd == StepState::kPending)) {
    return BadStep(s, "forward state " + std::string(StepStateName(fwd)) + " with " +
                          std::to_string(st.attempt) + " attempts");
  }
  // Times: unused ones are zero, used ones within the saga and ordered.
  if (!scheduled) {
    if (st.first_scheduled_ns != 0 || st.first_start_ns != 0 || st.attempt_scheduled_ns != 0 ||
        st.attempt_start_ns != 0 || st.end_ns != 0 || st.retry_at_ns != 0 || st.ever_started ||
        st.last_code != 0 || (has_messages && !messages_[s].empty())) {
      return BadStep(s, "never scheduled but has attempt data");
    }
  } else {
    if (!in_range(st.first_scheduled_ns) || !in_range(st.attempt_scheduled_ns) ||
        st.attempt_scheduled_ns < st.first_scheduled_ns) {
      return BadStep(s, "scheduling times out of order or range");
    }
    if (st.ever_started ? !in_range(st.first_start_ns) || st.first_start_ns < st.first_scheduled_ns
                        : st.first_start_ns != 0) {
      return BadStep(s, "first start time inconsistent");
    }
    if (!in_range(st.attempt_start_ns) && st.attempt_start_ns != 0) {
      return BadStep(s, "attempt start time out of range");
    }
    if (IsForwardFinal(fwd) ? !in_range(st.end_ns) || st.end_ns < st.first_scheduled_ns ||
                                  (st.ever_started && st.end_ns < st.first_start_ns)
                            : st.end_ns != 0) {
      return BadStep(s,
                     "end time inconsistent with forward state " + std::string(StepStateName(fwd)));
    }
  }
  if (st.attempt_started &&
      (!st.attempt_running || st.attempt_start_ns < st.attempt_scheduled_ns)) {
    return BadStep(s, "attempt started but not in flight, or before it was scheduled");
  }
  if (st.attempt_started && state == StepState::kRunning && !st.ever_started) {
    return BadStep(s, "a forward attempt running but no start recorded");
  }
  if (st.attempt_running && state != StepState::kRunning && state != StepState::kCompensating) {
    return BadStep(s, "an attempt in flight in state " + std::string(StepStateName(state)));
  }
  if (state == StepState::kRunning && !st.attempt_running) {
    return BadStep(s, "running without an attempt in flight");
  }
  if (state == StepState::kBackoff && st.attempt >= plan_->retry(s).max_attempts) {
    return BadStep(s, "waiting to retry with no attempt left");
  }
  // A backoff timer's fire time is kept while waiting to retry, and only then.
  const bool waiting_to_retry =
      state == StepState::kBackoff || (state == StepState::kCompensating && !st.attempt_running);
  if (waiting_to_retry ? st.retry_at_ns < st.attempt_scheduled_ns || st.retry_at_ns <= 0 ||
                             st.retry_at_ns - last_now_ns_ > kMaxBackoffNs
                       : st.retry_at_ns != 0) {
    return BadStep(s, "retry time inconsistent with state " + std::string(StepStateName(state)));
  }
  if (has_outputs && !outputs_[s].empty() && fwd != StepState::kSucceeded) {
    return BadStep(s, "an output but it did not succeed");
  }
  if (stopped && !IsForwardFinal(fwd) && fwd != StepState::kPending) {
    return BadStep(
        s, "forward state " + std::string(StepStateName(fwd)) + " after forward progress stopped");
  }

  if (!stopped) {
    // Forward phase, or completed: no compensation, the needs counters are
    // the needs that have not succeeded.
    if (state != fwd || st.in_comp_set || st.comp_attempt != 0) {
      return BadStep(s, "compensation state before forward progress stopped");
    }
    if (state != StepState::kPending && state != StepState::kRunning &&
        state != StepState::kBackoff && state != StepState::kSucceeded) {
      return BadStep(s, "state " + std::string(StepStateName(state)) + " while going forward");
    }
    if (completed && state != StepState::kSucceeded) {
      return BadStep(s, "not succeeded in a completed saga");
    }
    std::uint32_t unmet = 0;
    for (StepIndex need : graph.needs(s)) {
      if (steps_[need].forward_state != StepState::kSucceeded) ++unmet;
    }
    if (pending_[s] != unmet) return BadStep(s, "needs counter disagrees with its needs");
    // A step is scheduled in the input that makes its last need succeed.
    if ((state == StepState::kPending) != (unmet > 0)) {
      return BadStep(s, unmet > 0 ? "scheduled before its needs succeeded"
                                  : "its needs succeeded but it was never scheduled");
    }
  } else {
    bool in_set = false;
    if (plan_->has_compensate(s)) {
      in_set = fwd == StepState::kSucceeded ||
               (plan_->compensate_when(s) == CompensateWhen::kAttempted &&
                (fwd == StepState::kTimedOut || fwd == StepState::kCancelled));
    }
    if (st.in_comp_set != in_set) {
      return BadStep(s, in_set ? "belongs to the compensation set but is not in it"
                               : "in the compensation set but does not belong to it");
    }
    if (!in_set) {
      if (state != fwd || st.comp_attempt != 0 || st.attempt_running || pending_[s] != 0) {
        return BadStep(s, "compensation state outside the compensation set");
      }
    } else if (st.comp_attempt == 0) {
      // Waiting for dependents to compensate first.
      if (state != fwd || st.attempt_running || pending_[s] == 0 || phase_ == Phase::kFinished) {
        return BadStep(s, "compensation neither started nor waiting for a dependent");
      }
    } else {
      if (state != StepState::kCompensating && !IsCompensationDone(state)) {
        return BadStep(
            s, "state " + std::string(StepStateName(state)) + " after compensation attempts");
      }
      if (pending_[s] != 0) return BadStep(s, "compensating before a dependent finished");
      if (IsCompensationDone(state) && st.attempt_running) {
        return BadStep(s, "compensation done with an attempt in flight");
      }
      if (state == StepState::kCompensating && !st.attempt_running &&
          st.comp_attempt >= plan_->compensate_retry(s).max_attempts) {
        return BadStep(s, "compensation waiting to retry with no attempt left");
      }
    }
    if (in_set) {
      ++tally.set_size;
      if (!IsCompensationDone(state)) ++tally.comp_unfinished;
    }
  }

  tally.running += state == StepState::kRunning && st.attempt_started ? 1 : 0;
  tally.in_flight += state == StepState::kRunning || state == StepState::kBackoff ? 1 : 0;
  tally.forward_unfinished += fwd != StepState::kSucceeded ? 1 : 0;
  tally.succeeded += fwd == StepState::kSucceeded ? 1 : 0;
  tally.failed += fwd == StepState::kFailed ? 1 : 0;
  tally.timed_out += fwd == StepState::kTimedOut ? 1 : 0;
  tally.cancelled += fwd == StepState::kCancelled ? 1 : 0;
  tally.compensated += state == StepState::kCompensated ? 1 : 0;
  tally.compensation_failed += state == StepState::kCompensationFailed ? 1 : 0;
  tally.ever_started += st.ever_started ? 1 : 0;
  tally.attempts += st.attempt;
  tally.comp_attempts += st.comp_attempt;
  return Status::Ok();
}

}  // namespace tri::saga
