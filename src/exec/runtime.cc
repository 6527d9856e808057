#include "exec/runtime.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/assert.h"
#include "base/rng.h"
#include "exec/blocking_pool.h"
#include "saga/dsl/template.h"
#include "saga/saga_id.h"

namespace tri::exec {

using saga::AttemptPhase;
using saga::Command;
using saga::CommandKind;
using saga::StepIndex;

namespace {

// Noop completions are produced on the loop in long bursts (a chain of empty
// steps never waits); they reuse one clock reading for this many inputs so
// the clock is not the cost of an empty step. Timestamps lag by at most a
// few microseconds.
constexpr std::uint32_t kNowReuseLimit = 32;

// Cap on one wait of the loop, so a custom (manual) clock is re-read.
constexpr auto kMaxLoopWait = std::chrono::milliseconds(100);

void RecordStepTime(std::vector<StepTimes>& times, const saga::TraceRecord& record,
                    std::int64_t unix_ms) {
  if (record.step == saga::kNoStep) return;
  StepTimes& step = times[record.step];
  switch (record.event) {
    case saga::TraceEvent::kStepStarted:
      if (step.started_unix_ms == 0) step.started_unix_ms = unix_ms;
      return;
    case saga::TraceEvent::kStepSucceeded:
    case saga::TraceEvent::kStepFailed:
    case saga::TraceEvent::kStepTimedOut:
    case saga::TraceEvent::kStepCancelled:
      step.ended_unix_ms = unix_ms;  // the last one is the phase's end
      return;
    case saga::TraceEvent::kCompensationStarted:
      if (step.compensation_started_unix_ms == 0) step.compensation_started_unix_ms = unix_ms;
      return;
    case saga::TraceEvent::kCompensationSucceeded:
    case saga::TraceEvent::kCompensationFailed:
      step.compensation_ended_unix_ms = unix_ms;
      return;
    default:
      return;
  }
}

}  // namespace

bool WillRetry(const SagaEvent& event) {
  const bool attempt_failed = event.record.event == saga::TraceEvent::kStepFailed ||
                              event.record.event == saga::TraceEvent::kStepTimedOut;
  return attempt_failed && (event.step_state == saga::StepState::kBackoff ||
                            event.step_state == saga::StepState::kRunning);
}

// --- loop state ------------------------------------------------------------------

struct Runtime::BlockingJob {
  AttemptPhase phase;
  std::uint32_t attempt;
  std::shared_ptr<CancelToken> token;
};

// A finished saga whose cancelled jobs are still running: reported once the
// last of them has completed.
struct Runtime::Draining {
  SagaResult result;
  std::function<void(SagaResult)> on_finished;
  std::map<StepIndex, BlockingJob> blocking;
};

struct Runtime::SagaRun {
  SagaRun(std::uint64_t key_in, std::string id_in, std::shared_ptr<const SagaDefinition> def_in,
          SagaInputs inputs_in, std::uint64_t seed, bool trace)
      : key(key_in),
        id(std::move(id_in)),
        def(std::move(def_in)),
        inputs(std::move(inputs_in)),
        rng(seed),
        orch(def->plan, rng, saga::OrchestratorOptions{.trace = trace}) {}

  std::uint64_t key;
  std::string id;
  std::shared_ptr<const SagaDefinition> def;
  SagaInputs inputs;
  SeededRng rng;  // before orch: the orchestrator keeps a reference
  saga::Orchestrator orch;
  std::function<void(const SagaEvent&)> on_event;
  std::function<void(SagaResult)> on_finished;
  TimePoint started{0};
  std::int64_t started_unix_ms = 0;
  std::vector<StepTimes> times;  // sized when recorded (record_step_times)

  std::int64_t UnixMs(TimePoint t) const {
    return started_unix_ms +
           std::chrono::duration_cast<std::chrono::milliseconds>(t - started).count();
  }

  // The exec/http job of each step whose completion has not been posted back
  // yet (at most one per step). A cancelled job stays here until its runner
  // returns, i.e. until its process group is reaped or its request ended.
  std::map<StepIndex, BlockingJob> blocking;
  // Attempts of a step that has a job in `blocking`, started in order once it
  // completes: a retry or a compensation never overlaps the attempt before.
  std::map<StepIndex, std::vector<Command>> deferred;

  // Step outputs parsed for templates, filled on first use.
  std::vector<std::unique_ptr<nlohmann::json>> parsed_outputs;

  const nlohmann::json* StepOutput(std::string_view step_id) {
    auto it = def->step_index.find(step_id);
    if (it == def->step_index.end()) return nullptr;
    const StepIndex s = it->second;
    if (orch.forward_state(s) != saga::StepState::kSucceeded) return nullptr;
    const std::string& raw = orch.output(s);
    if (raw.empty()) return nullptr;
    if (parsed_outputs.empty()) parsed_outputs.resize(def->spec.steps.size());
    if (!parsed_outputs[s]) {
      auto parsed = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        // Not JSON: the output is its text, without the trailing newline.
        std::string text = raw;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
          text.pop_back();
        parsed = nlohmann::json(std::move(text));
      }
      parsed_outputs[s] = std::make_unique<nlohmann::json>(std::move(parsed));
    }
    return parsed_outputs[s].get();
  }
};

struct Runtime::LoopItem {
  // kStarted: an attempt really started (OnAttemptStarted); kCompletion: its result.
  enum class Kind : std::uint8_t { kStartSaga, kAbort, kCompletion, kStarted };
  Kind kind = Kind::kCompletion;
  std::uint64_t key = 0;
  std::unique_ptr<SagaRun> run;  // kStartSaga
  AttemptPhase phase = AttemptPhase::kForward;
  StepIndex step = 0;
  std::uint32_t attempt = 0;
  bool from_pool = false;  // a BlockingJob's completion (releases its step)
  ActionOutcome outcome;
};

struct Runtime::Timer {
  enum class Kind : std::uint8_t { kOrchestrator, kSleepDone, kFailDone };
  TimePoint fire_at{0};
  std::uint64_t seq = 0;
  std::uint64_t key = 0;
  Kind kind = Kind::kOrchestrator;
  saga::TimerId timer = 0;
  AttemptPhase phase = AttemptPhase::kForward;
  StepIndex step = 0;
  std::uint32_t attempt = 0;
};

bool Runtime::TimerLater::operator()(const Timer& a, const Timer& b) const {
  if (a.fire_at != b.fire_at) return a.fire_at > b.fire_at;
  return a.seq > b.seq;
}

// --- public API ------------------------------------------------------------------

Runtime::Runtime(RuntimeOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Instance()),
      // Apart from the per-saga jitter streams (seed + k).
      id_rng_(options_.seed ^ 0x5a6a'1d5e'ed00'0000ull),
      pool_(std::make_unique<BlockingPool>(options_.blocking_threads)) {
  TRI_ASSERT_MSG(options_.max_running_sagas > 0, "max_running_sagas must be positive");
  options_.process.max_output_bytes =
      std::min(options_.process.max_output_bytes, options_.limits.max_step_output_bytes);
  options_.http.max_output_bytes =
      std::min(options_.http.max_output_bytes, options_.limits.max_step_output_bytes);
  loop_ = std::thread([this] { LoopMain(); });
}

Runtime::~Runtime() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  loop_.join();
  // Attempts were cancelled by the loop on its way out; the pool's tasks now
  // return promptly, and their completions land in an inbox nobody reads.
  pool_.reset();
}

Result<std::string> Runtime::Submit(std::shared_ptr<const SagaDefinition> definition,
                                    SubmitOptions options) {
  TRI_ASSERT_MSG(definition != nullptr, "Submit of a null saga definition");
  TRI_ASSIGN_OR_RETURN(SagaInputs inputs, ResolveInputs(definition->spec, options.inputs));
  std::uint64_t key = 0;
  std::string id = std::move(options.saga_id);
  if (!id.empty()) TRI_RETURN_IF_ERROR(saga::ValidateSagaId(id));
  if (options.already_running != nullptr) *options.already_running = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Unavailable("the runtime is shutting down");
    if (!id.empty() && running_ids_.count(id) != 0) {
      if (options.already_running == nullptr) {
        return AlreadyExists("a saga with id '" + id + "' is already running");
      }
      *options.already_running = true;
      return id;
    }
    if (running_ids_.size() >= options_.max_running_sagas) {
      return ResourceExhausted("too many running sagas: " + std::to_string(running_ids_.size()) +
                               " are running and the limit is " +
                               std::to_string(options_.max_running_sagas) +
                               " (max_running_sagas); retry when some finish");
    }
    key = next_key_++;
    if (id.empty()) {
      const auto unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
      // 80 random bits: a collision with a running saga is practically
      // impossible, but cheap to rule out.
      do {
        id = saga::NewSagaId(static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0)),
                             id_rng_);
      } while (running_ids_.count(id) != 0);
    }
    running_ids_.emplace(id, key);
  }
  const bool trace = static_cast<bool>(options.on_event) || options.record_step_times;
  auto run = std::make_unique<SagaRun>(key, id, std::move(definition), std::move(inputs),
                                       options_.seed + key, trace);
  run->on_event = std::move(options.on_event);
  run->on_finished = std::move(options.on_finished);
  if (options.record_step_times) run->times.resize(run->def->spec.steps.size());
  LoopItem item;
  item.kind = LoopItem::Kind::kStartSaga;
  item.key = key;
  item.run = std::move(run);
  Post(std::move(item));
  return id;
}

Status Runtime::Abort(std::string_view saga_id) {
  LoopItem item;
  item.kind = LoopItem::Kind::kAbort;
  {
    std::lock_guard lock(mutex_);
    auto it = running_ids_.find(saga_id);
    if (it == running_ids_.end()) {
      return NotFound("no running saga with id '" + std::string(saga_id) + "'");
    }
    item.key = it->second;
  }
  Post(std::move(item));
  return Status::Ok();
}

std::uint32_t Runtime::running_sagas() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint32_t>(running_ids_.size());
}

Result<SagaResult> Runtime::Run(std::shared_ptr<const SagaDefinition> definition,
                                SubmitOptions options) {
  TRI_ASSERT_MSG(std::this_thread::get_id() != loop_.get_id(),
                 "Runtime::Run would wait on its own loop");
  auto done = std::make_shared<std::promise<SagaResult>>();
  auto future = done->get_future();
  options.already_running = nullptr;  // a running id is an error here
  auto user_on_finished = std::move(options.on_finished);
  options.on_finished = [done, user_on_finished](SagaResult result) {
    if (user_on_finished) user_on_finished(result);
    done->set_value(std::move(result));
  };
  TRI_RETURN_IF_ERROR(Submit(std::move(definition), std::move(options)).status());
  return future.get();
}

void Runtime::Post(LoopItem item) {
  {
    std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(item));
  }
  wake_.notify_one();
}

// --- the loop --------------------------------------------------------------------

TimePoint Runtime::Now() {
  if (now_reuses_ > 0 && now_reuses_ < kNowReuseLimit) {
    ++now_reuses_;
    return last_now_;
  }
  now_reuses_ = 1;
  last_now_ = std::max(last_now_, clock_.Now());
  return last_now_;
}

void Runtime::LoopMain() {
  std::vector<LoopItem> batch;
  std::vector<LoopItem> draining_items;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (inbox_.empty() && !stopping_) {
        now_reuses_ = 0;  // waiting: the next input reads the clock
        if (timers_.empty()) {
          wake_.wait(lock, [this] { return stopping_ || !inbox_.empty(); });
        } else {
          const Duration until = timers_.front().fire_at - clock_.Now();
          if (until > Duration{0}) {
            const auto wait = std::min<std::chrono::nanoseconds>(until, kMaxLoopWait);
            wake_.wait_for(lock, wait, [this] { return stopping_ || !inbox_.empty(); });
          }
        }
      }
      if (stopping_) break;
      batch.swap(inbox_);
    }
    for (auto& item : batch)
      HandleItem(item);
    batch.clear();

    now_reuses_ = 0;
    const TimePoint now = Now();
    while (!timers_.empty() && timers_.front().fire_at <= now) {
      std::pop_heap(timers_.begin(), timers_.end(), TimerLater{});
      const Timer timer = timers_.back();
      timers_.pop_back();
      FireTimer(timer);
    }

    // Completions made on the loop (noop) may start more steps that complete
    // on the loop: drain until quiet.
    while (!ready_.empty() || !ready_items_.empty()) {
      // By index and by value: handling an entry appends to ready_.
      for (std::size_t i = 0; i < ready_.size(); ++i) {
        const LocalSuccess done = ready_[i];
        if (SagaRun* run = FindRun(done.key)) {
          commands_.clear();
          run->orch.OnAttemptSucceeded(done.phase, done.step, done.attempt, Now(), commands_);
          AfterInput(*run);
        }
      }
      ready_.clear();
      draining_items.swap(ready_items_);
      for (auto& item : draining_items)
        HandleItem(item);
      draining_items.clear();
    }
  }

  // Shutting down: stop every child process and request in flight.
  for (auto& [key, run] : sagas_) {
    for (auto& [step, job] : run->blocking)
      job.token->Cancel();
  }
  sagas_.clear();
  draining_.clear();
  cached_key_ = 0;
  cached_run_ = nullptr;
  timers_.clear();
  ready_.clear();
  ready_items_.clear();
}

Runtime::SagaRun* Runtime::FindRun(std::uint64_t key) {
  if (key == cached_key_) return cached_run_;
  auto it = sagas_.find(key);
  if (it == sagas_.end()) return nullptr;  // finished: a late result or timer
  cached_key_ = key;
  cached_run_ = it->second.get();
  return cached_run_;
}

void Runtime::HandleItem(LoopItem& item) {
  switch (item.kind) {
    case LoopItem::Kind::kStartSaga: {
      SagaRun& run = *item.run;
      sagas_.emplace(item.key, std::move(item.run));
      commands_.clear();
      run.started = Now();
      run.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
      run.orch.Start(run.started, commands_);
      AfterInput(run);
      return;
    }
    case LoopItem::Kind::kAbort: {
      SagaRun* run = FindRun(item.key);
      if (run == nullptr) return;  // finished meanwhile
      commands_.clear();
      run->orch.Abort(Now(), commands_);
      AfterInput(*run);
      return;
    }
    case LoopItem::Kind::kCompletion:
      Complete(item);
      return;
    case LoopItem::Kind::kStarted: {
      SagaRun* run = FindRun(item.key);
      if (run == nullptr) return;  // finished meanwhile
      commands_.clear();
      run->orch.OnAttemptStarted(item.phase, item.step, item.attempt, Now(), commands_);
      AfterInput(*run);
      return;
    }
  }
  TRI_UNREACHABLE();
}

namespace {

// Removes the job of (step, phase, attempt) from `jobs` if it is there.
template <typename Jobs>
bool ReleaseJob(Jobs& jobs, StepIndex step, AttemptPhase phase, std::uint32_t attempt) {
  auto it = jobs.find(step);
  if (it == jobs.end() || it->second.phase != phase || it->second.attempt != attempt) return false;
  jobs.erase(it);
  return true;
}

}  // namespace

void Runtime::Complete(LoopItem& item) {
  SagaRun* run = FindRun(item.key);
  if (run == nullptr) {
    if (item.from_pool) ReleaseDrainingJob(item);
    return;
  }
  if (item.from_pool && ReleaseJob(run->blocking, item.step, item.phase, item.attempt)) {
    StartDeferred(*run, item.step);
  }
  Complete(*run, item.phase, item.step, item.attempt, item.outcome);
}

void Runtime::StartDeferred(SagaRun& run, StepIndex step) {
  auto it = run.deferred.find(step);
  if (it == run.deferred.end()) return;
  // Each start may put a new job in flight; the rest then wait for that one.
  while (!it->second.empty() && run.blocking.count(step) == 0) {
    const Command command = it->second.front();
    it->second.erase(it->second.begin());
    StartAttempt(run, command);
  }
  if (it->second.empty()) run.deferred.erase(it);
}

void Runtime::ReleaseDrainingJob(const LoopItem& item) {
  auto it = draining_.find(item.key);
  if (it == draining_.end()) return;
  ReleaseJob(it->second->blocking, item.step, item.phase, item.attempt);
  if (!it->second->blocking.empty()) return;
  Draining done = std::move(*it->second);
  draining_.erase(it);
  ReportFinished(std::move(done.result), std::move(done.on_finished));
}

void Runtime::Complete(SagaRun& run, AttemptPhase phase, StepIndex step, std::uint32_t attempt,
                       ActionOutcome& outcome) {
  if (outcome.succeeded && outcome.output.size() > options_.limits.max_step_output_bytes) {
    outcome = FailedOutcome(saga::kCodeFailed, false,
                            "step output of " + std::to_string(outcome.output.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(options_.limits.max_step_output_bytes) + " bytes");
  }
  commands_.clear();
  if (outcome.succeeded) {
    run.orch.OnAttemptSucceeded(phase, step, attempt, Now(), commands_, outcome.output);
  } else {
    run.orch.OnAttemptFailed(phase, step, attempt, outcome.code, outcome.retryable, outcome.message,
                             Now(), commands_);
  }
  AfterInput(run);
}

void Runtime::FireTimer(const Timer& timer) {
  SagaRun* found = FindRun(timer.key);
  if (found == nullptr) return;
  SagaRun& run = *found;
  if (timer.kind == Timer::Kind::kOrchestrator) {
    commands_.clear();
    run.orch.OnTimerFired(timer.timer, Now(), commands_);
    AfterInput(run);
    return;
  }
  ActionOutcome outcome;
  if (timer.kind == Timer::Kind::kSleepDone) {
    outcome.succeeded = true;
  } else {
    const auto& step = run.def->spec.steps[timer.step];
    const saga::Action& action =
        timer.phase == AttemptPhase::kForward ? step.run : *step.compensate;
    const auto& fail = std::get<saga::FailAction>(action);
    outcome = FailedOutcome(fail.code, fail.retryable, fail.message);
  }
  Complete(run, timer.phase, timer.step, timer.attempt, outcome);
}

void Runtime::PushTimer(const Timer& timer) {
  timers_.push_back(timer);
  timers_.back().seq = timer_seq_++;
  std::push_heap(timers_.begin(), timers_.end(), TimerLater{});
}

void Runtime::AfterInput(SagaRun& run) {
  if (!run.times.empty()) {
    for (const saga::TraceRecord& record : run.orch.trace())
      RecordStepTime(run.times, record, run.UnixMs(record.time));
  }
  if (run.on_event) {
    for (const saga::TraceRecord& record : run.orch.trace()) {
      run.on_event(SagaEvent{.saga_id = run.id,
                             .definition = *run.def,
                             .record = record,
                             .since_start = record.time - run.started,
                             .unix_ms = run.UnixMs(record.time),
                             .step_state = record.step == saga::kNoStep
                                               ? saga::StepState::kPending
                                               : run.orch.step_state(record.step)});
    }
  }
  run.orch.ClearTrace();
  bool finished = false;
  for (const Command& command : commands_) {
    if (command.kind == CommandKind::kSagaFinished) {
      finished = true;
      continue;
    }
    Execute(run, command);
  }
  if (finished) FinishSaga(run);
}

void Runtime::Execute(SagaRun& run, const Command& command) {
  switch (command.kind) {
    case CommandKind::kStartAttempt:
      if (run.blocking.count(command.step) != 0) {
        // The step's previous attempt is still being stopped: this one starts
        // once that job has completed (StartDeferred).
        run.deferred[command.step].push_back(command);
        return;
      }
      StartAttempt(run, command);
      return;
    case CommandKind::kCancelAttempt: {
      auto it = run.blocking.find(command.step);
      if (it != run.blocking.end() && it->second.phase == command.phase &&
          it->second.attempt == command.attempt) {
        // The job stays in `blocking` until its runner returns (the process
        // group reaped, the request ended): the next attempt waits for that.
        it->second.token->Cancel();
        return;
      }
      // An attempt still waiting behind another job is dropped unstarted.
      if (auto waiting = run.deferred.find(command.step); waiting != run.deferred.end()) {
        std::erase_if(waiting->second, [&command](const Command& deferred) {
          return deferred.phase == command.phase && deferred.attempt == command.attempt;
        });
        if (waiting->second.empty()) run.deferred.erase(waiting);
      }
      // sleep/fail timers of a cancelled attempt still fire; the orchestrator
      // ignores their stale results.
      return;
    }
    case CommandKind::kArmTimer:
      PushTimer(Timer{.fire_at = command.fire_at,
                      .key = run.key,
                      .kind = Timer::Kind::kOrchestrator,
                      .timer = command.timer});
      return;
    case CommandKind::kSagaFinished:
      break;
  }
  TRI_UNREACHABLE();
}

void Runtime::StartAttempt(SagaRun& run, const Command& command) {
  // The attempt really starts (OnAttemptStarted) when the loop runs it (noop:
  // right here; sleep, fail: later in this pass) or when a pool thread picks
  // it up (exec, http), so time waiting for a free thread counts against
  // schedule_to_start, not against the attempt.
  const std::uint8_t noop_bit = command.phase == AttemptPhase::kForward ? 1 : 2;
  if ((run.def->noop_actions[command.step] & noop_bit) != 0) {
    // Inside the batch AfterInput is executing: OnAttemptStarted can only arm
    // the attempt's timeout, which needs no reentry into that batch. Its trace
    // record is reported with the noop's result, later in this pass.
    static thread_local std::vector<Command> armed;  // the loop thread's
    armed.clear();
    run.orch.OnAttemptStarted(command.phase, command.step, command.attempt, Now(), armed);
    for (const Command& timer : armed) {
      TRI_ASSERT(timer.kind == CommandKind::kArmTimer);
      Execute(run, timer);
    }
    ready_.push_back(LocalSuccess{
        .key = run.key, .phase = command.phase, .step = command.step, .attempt = command.attempt});
    return;
  }
  const saga::StepSpec& step = run.def->spec.steps[command.step];
  const bool forward = command.phase == AttemptPhase::kForward;
  TRI_ASSERT_MSG(forward || step.compensate.has_value(),
                 "compensation started for a step without a compensate action");
  const saga::Action& action = forward ? step.run : *step.compensate;

  auto fail_now = [&](ActionOutcome outcome) {
    LoopItem item;
    item.key = run.key;
    item.phase = command.phase;
    item.step = command.step;
    item.attempt = command.attempt;
    item.outcome = std::move(outcome);
    ready_items_.push_back(std::move(item));
  };
  auto finish_at = [&](Duration after, Timer::Kind kind) {
    PushTimer(Timer{.fire_at = last_now_ + after,
                    .key = run.key,
                    .kind = kind,
                    .phase = command.phase,
                    .step = command.step,
                    .attempt = command.attempt});
  };

  const auto started_item = [](std::uint64_t key, AttemptPhase phase, StepIndex step,
                               std::uint32_t attempt) {
    LoopItem item;
    item.kind = LoopItem::Kind::kStarted;
    item.key = key;
    item.phase = phase;
    item.step = step;
    item.attempt = attempt;
    return item;
  };
  TRI_DASSERT(!std::holds_alternative<saga::NoopAction>(action));
  if (const auto* sleep = std::get_if<saga::SleepAction>(&action)) {
    ready_items_.push_back(started_item(run.key, command.phase, command.step, command.attempt));
    finish_at(sleep->duration, Timer::Kind::kSleepDone);
    return;
  }
  if (const auto* fail = std::get_if<saga::FailAction>(&action)) {
    ready_items_.push_back(started_item(run.key, command.phase, command.step, command.attempt));
    finish_at(fail->after, Timer::Kind::kFailDone);
    return;
  }

  // exec / http: render the templates, then run on the blocking pool.
  saga::TemplateContext context;
  context.saga_id = run.id;
  context.step_id = step.id;
  context.attempt = command.attempt;
  // Unique per attempt (and per run: saga ids are unique): a re-dispatch of
  // the same attempt reuses it, a retry does not.
  context.idempotency_key =
      run.id + "/" + step.id + (forward ? "/" : "/compensate/") + std::to_string(command.attempt);
  context.inputs = &run.inputs;
  context.step_output = [&run](std::string_view id) { return run.StepOutput(id); };
  auto rendered = saga::RenderAction(action, context);
  if (!rendered.ok()) {
    fail_now(FailedOutcome(400, false,
                           std::string(forward ? "run" : "compensate") + " of step '" + step.id +
                               "': " + rendered.status().message()));
    return;
  }
  auto token = std::make_shared<CancelToken>();
  run.blocking[command.step] = BlockingJob{command.phase, command.attempt, token};
  pool_->Submit([this, key = run.key, phase = command.phase, step_index = command.step,
                 attempt = command.attempt, token, action = std::move(*rendered), started_item] {
    if (!token->cancelled()) Post(started_item(key, phase, step_index, attempt));
    LoopItem item;
    item.key = key;
    item.phase = phase;
    item.step = step_index;
    item.attempt = attempt;
    item.from_pool = true;
    if (token->cancelled()) {
      item.outcome = FailedOutcome(saga::kCodeCancelled, false, "cancelled before it started");
    } else if (const auto* exec = std::get_if<saga::ExecAction>(&action)) {
      item.outcome = RunProcess(*exec, options_.process, *token);
    } else {
      item.outcome = RunHttp(std::get<saga::HttpAction>(action), options_.http, *token);
    }
    Post(std::move(item));
  });
}

void Runtime::FinishSaga(SagaRun& run) {
  TRI_ASSERT(run.orch.finished());
  SagaResult result;
  result.definition = run.def;
  result.saga_id = run.id;
  result.name = run.def->spec.name;
  result.outcome = run.orch.outcome();
  result.stop_cause = run.orch.stop_cause();
  result.stats = run.orch.stats();
  result.step_times = std::move(run.times);
  result.started_unix_ms = run.started_unix_ms;
  for (StepIndex s : run.orch.compensation_failed_steps()) {
    result.compensation_failed_steps.push_back(run.def->spec.steps[s].id);
  }
  // Attempts still in flight were cancelled by the orchestrator; make sure.
  for (auto& [step, job] : run.blocking)
    job.token->Cancel();

  result.final_state = std::make_shared<const saga::Orchestrator>(std::move(run.orch));

  auto on_finished = std::move(run.on_finished);
  auto blocking = std::move(run.blocking);
  const std::uint64_t key = run.key;
  if (cached_key_ == key) {
    cached_key_ = 0;
    cached_run_ = nullptr;
  }
  sagas_.erase(key);  // `run` is gone from here on
  if (!blocking.empty()) {
    // Reported once every process it started is reaped (ReleaseDrainingJob).
    draining_.emplace(key, std::make_unique<Draining>(Draining{
                               std::move(result), std::move(on_finished), std::move(blocking)}));
    return;
  }
  ReportFinished(std::move(result), std::move(on_finished));
}

void Runtime::ReportFinished(SagaResult result, std::function<void(SagaResult)> on_finished) {
  {
    std::lock_guard lock(mutex_);
    running_ids_.erase(result.saga_id);
  }
  if (on_finished) on_finished(std::move(result));
}

}  // namespace tri::exec
