#pragma once

// A small discrete-event driver for orchestrator tests: a manual clock, a
// queue of future events (attempt results, timers, abort) ordered by (time,
// sequence), and a script deciding what each attempt does. It records every
// command with the index of the input that produced it, so tests can check
// ordering properties. Every scheduled attempt reports started after the
// script's start_delay (unless it never starts), then its result. Results of cancelled attempts are
// still delivered (late), to exercise the orchestrator's staleness checks.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "saga/orchestrator.h"

namespace tri::saga::testing {

struct AttemptScript {
  // kHang: started, never a result; kNeverStarts: not even a started report.
  enum class Result { kSucceed, kFail, kHang, kNeverStarts };
  Result result = Result::kSucceed;
  Duration start_delay{0};  // scheduled -> started (waiting for an executor)
  Duration duration{0};     // started -> result
  int code = 500;
  bool retryable = true;
};

using Script = std::function<AttemptScript(AttemptPhase, StepIndex, std::uint32_t attempt)>;

struct RecordedCommand {
  std::uint64_t input_index;  // which input (0-based) produced it
  TimePoint time;
  Command command;
  friend bool operator==(const RecordedCommand&, const RecordedCommand&) = default;
};

class SimDriver {
 public:
  SimDriver(std::shared_ptr<const SagaPlan> plan, std::uint64_t seed, Script script,
            bool trace = true)
      : rng_(seed),
        script_(std::move(script)),
        orch_(std::make_unique<Orchestrator>(std::move(plan), rng_,
                                             OrchestratorOptions{.trace = trace})) {}

  // A copy of this driver (queue, clock, rng, records) whose orchestrator was
  // rebuilt through Serialize/Restore.
  std::unique_ptr<SimDriver> Fork() const {
    auto copy = std::unique_ptr<SimDriver>(new SimDriver(*this));
    copy->orch_ = std::make_unique<Orchestrator>(orch_->shared_plan(), copy->rng_,
                                                 OrchestratorOptions{.trace = true});
    Status status = copy->orch_->Restore(orch_->Serialize());
    TRI_ASSERT_MSG(status.ok(), "restore failed");
    return copy;
  }

  void Start(TimePoint at = TimePoint{0}) {
    now_ = at;
    Call([&](std::vector<Command>& out) { orch_->Start(now_, out); });
  }
  void AbortAt(TimePoint at) { Push(at, Pending{.kind = Pending::kAbort}); }

  // Processes one queued event; false when the queue is empty.
  bool Step() {
    if (queue_.empty()) return false;
    const TimePoint at = std::get<0>(queue_.top());
    const Pending p = std::get<2>(queue_.top());
    queue_.pop();
    TRI_ASSERT(at >= now_);
    now_ = at;
    switch (p.kind) {
      case Pending::kAbort:
        Call([&](std::vector<Command>& out) { orch_->Abort(now_, out); });
        break;
      case Pending::kTimer:
        Call([&](std::vector<Command>& out) { orch_->OnTimerFired(p.timer, now_, out); });
        break;
      case Pending::kStarted:
        Call([&](std::vector<Command>& out) {
          orch_->OnAttemptStarted(p.phase, p.step, p.attempt, now_, out);
        });
        break;
      case Pending::kSuccess:
        Call([&](std::vector<Command>& out) {
          orch_->OnAttemptSucceeded(p.phase, p.step, p.attempt, now_, out,
                                    "out" + std::to_string(p.step));
        });
        break;
      case Pending::kFailure:
        Call([&](std::vector<Command>& out) {
          orch_->OnAttemptFailed(p.phase, p.step, p.attempt, p.code, p.retryable, "boom", now_,
                                 out);
        });
        break;
    }
    return true;
  }

  // Runs until the queue is empty or `max_inputs` inputs were processed.
  void Run(std::uint64_t max_inputs = 1'000'000) {
    while (inputs_ < max_inputs && Step()) {
    }
  }

  // Timers armed and not yet fired (stale ones included), by (time, arming order).
  std::vector<std::pair<TimerId, TimePoint>> QueuedTimers() const {
    std::vector<std::pair<TimerId, TimePoint>> timers;
    auto queue = queue_;
    while (!queue.empty()) {
      const auto& [at, seq, p] = queue.top();
      if (p.kind == Pending::kTimer) timers.emplace_back(p.timer, at);
      queue.pop();
    }
    return timers;
  }

  Orchestrator& orch() { return *orch_; }
  TimePoint now() const { return now_; }
  std::uint64_t inputs() const { return inputs_; }
  const std::vector<RecordedCommand>& commands() const { return commands_; }
  // Indices of inputs that were accepted results of attempts, per (phase, step):
  // when each step's forward success / compensation end was accepted.
  const std::map<StepIndex, std::uint64_t>& forward_success_input() const {
    return forward_success_input_;
  }
  const std::map<StepIndex, std::uint64_t>& compensation_end_input() const {
    return compensation_end_input_;
  }
  // Inputs after which the saga was no longer going forward (first one).
  std::uint64_t stop_input() const { return stop_input_; }

 private:
  struct Pending {
    enum Kind { kAbort, kTimer, kSuccess, kFailure, kStarted } kind;
    AttemptPhase phase = AttemptPhase::kForward;
    StepIndex step = kNoStep;
    std::uint32_t attempt = 0;
    int code = 0;
    bool retryable = true;
    TimerId timer = 0;
  };
  using Item = std::tuple<TimePoint, std::uint64_t, Pending>;
  struct Later {
    bool operator()(const Item& a, const Item& b) const {
      return std::tie(std::get<0>(a), std::get<1>(a)) > std::tie(std::get<0>(b), std::get<1>(b));
    }
  };

  SimDriver(const SimDriver& other)
      : rng_(other.rng_),
        script_(other.script_),
        now_(other.now_),
        queue_(other.queue_),
        seq_(other.seq_),
        inputs_(other.inputs_),
        commands_(other.commands_),
        forward_success_input_(other.forward_success_input_),
        compensation_end_input_(other.compensation_end_input_),
        stop_input_(other.stop_input_) {}

  void Push(TimePoint at, Pending p) { queue_.push(Item{at, seq_++, p}); }

  template <typename F>
  void Call(F&& f) {
    // Snapshot what we need to know whether this input was an accepted result.
    std::vector<StepState> before(orch_->plan().size());
    for (StepIndex s = 0; s < before.size(); ++s)
      before[s] = orch_->step_state(s);
    out_.clear();
    f(out_);
    const std::uint64_t index = inputs_++;
    for (StepIndex s = 0; s < before.size(); ++s) {
      const StepState after = orch_->step_state(s);
      if (after == before[s]) continue;
      if (after == StepState::kSucceeded && before[s] == StepState::kRunning) {
        forward_success_input_[s] = index;
      }
      if (after == StepState::kCompensated || after == StepState::kCompensationFailed) {
        compensation_end_input_[s] = index;
      }
    }
    if (stop_input_ == kNever &&
        (orch_->compensating() ||
         (orch_->finished() && orch_->outcome() != SagaOutcome::kCompleted))) {
      stop_input_ = index;
    }
    for (const Command& c : out_) {
      commands_.push_back(RecordedCommand{index, now_, c});
      switch (c.kind) {
        case CommandKind::kStartAttempt: {
          const AttemptScript a = script_(c.phase, c.step, c.attempt);
          if (a.result == AttemptScript::Result::kNeverStarts) break;
          Push(now_ + a.start_delay, Pending{.kind = Pending::kStarted,
                                             .phase = c.phase,
                                             .step = c.step,
                                             .attempt = c.attempt});
          if (a.result == AttemptScript::Result::kHang) break;
          Pending p{.kind = a.result == AttemptScript::Result::kSucceed ? Pending::kSuccess
                                                                        : Pending::kFailure,
                    .phase = c.phase,
                    .step = c.step,
                    .attempt = c.attempt,
                    .code = a.code,
                    .retryable = a.retryable};
          Push(now_ + a.start_delay + a.duration, p);
          break;
        }
        case CommandKind::kArmTimer:
          TRI_ASSERT(c.fire_at >= now_);
          Push(c.fire_at, Pending{.kind = Pending::kTimer, .timer = c.timer});
          break;
        case CommandKind::kCancelAttempt:
        case CommandKind::kSagaFinished:
          break;
      }
    }
  }

 public:
  static constexpr std::uint64_t kNever = ~std::uint64_t{0};

 private:
  SeededRng rng_;
  Script script_;
  std::unique_ptr<Orchestrator> orch_;
  TimePoint now_{0};
  std::priority_queue<Item, std::vector<Item>, Later> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t inputs_ = 0;
  std::vector<Command> out_;
  std::vector<RecordedCommand> commands_;
  std::map<StepIndex, std::uint64_t> forward_success_input_;
  std::map<StepIndex, std::uint64_t> compensation_end_input_;
  std::uint64_t stop_input_ = kNever;
};

}  // namespace tri::saga::testing
