#include "server/saga_executor.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <variant>

#include "base/assert.h"
#include "saga/dsl/template.h"

namespace tri::server {

namespace {

bool IsNoop(const saga::Action& action) {
  return std::holds_alternative<saga::NoopAction>(action);
}

std::uint64_t Ms(Duration d) {
  return static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

// A step's output as templates see it: its JSON, or its text without the
// trailing newline when it is not JSON.
nlohmann::json OutputValue(const std::string& raw) {
  auto parsed = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) return parsed;
  std::string text = raw;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return nlohmann::json(std::move(text));
}

}  // namespace

SagaExecutor::SagaExecutor(SagaExecutorOptions options, ActionRunner* runner,
                           SagaProposer* proposer, std::function<const rsm::SagaTable&()> table)
    : options_(options), runner_(runner), proposer_(proposer), table_(std::move(table)) {
  TRI_ASSERT(proposer_ != nullptr);
}

void SagaExecutor::Reset() {
  for (auto& [key, job] : jobs_) {
    if (job.external && job.state == JobState::kRunning && !job.cancel_sent) {
      runner_->Cancel(job.id);
      ++stats_.cancelled;
    }
  }
  jobs_.clear();
  job_keys_.clear();
  revisit_.clear();
  pending_.clear();
  timers_proposed_.clear();
  redispatch_wake_ms_ = UINT64_MAX;
  ready_ = false;
  ++generation_;
}

void SagaExecutor::Round(bool leader_ready, std::uint64_t now_ms,
                         const std::vector<std::string>& changed) {
  const rsm::SagaTable& table = table_();
  now_ms_ = std::max(now_ms_, now_ms);
  if (!leader_ready) {
    if (ready_) Reset();
    return;
  }
  if (!ready_) {
    ready_ = true;
    ready_since_ms_ = now_ms_;
    revisit_.insert(table.running().begin(), table.running().end());
  }
  revisit_.insert(changed.begin(), changed.end());
  if (now_ms_ >= redispatch_wake_ms_) {
    redispatch_wake_ms_ = UINT64_MAX;
    revisit_.insert(table.running().begin(), table.running().end());
  }

  // sleep and fail actions that ended.
  for (auto& [key, job] : jobs_) {
    if (!job.external && job.state == JobState::kRunning && job.done_at_ms <= now_ms_) {
      Report(key, job, std::move(job.outcome));
    }
  }

  std::set<std::string> visit;
  visit.swap(revisit_);
  for (const std::string& saga_id : visit)
    Reconcile(table, saga_id);

  // Due timers.
  for (const auto& entry : table.timers()) {
    if (std::get<0>(entry) > now_ms_) break;
    auto [it, inserted] = timers_proposed_.try_emplace(entry, now_ms_);
    if (!inserted) {
      if (now_ms_ - it->second < options_.repropose_after_ms) continue;
      it->second = now_ms_;
    }
    rsm::SagaInput input;
    input.kind = rsm::SagaInput::Kind::kTimerFired;
    input.saga_id = std::get<1>(entry);
    input.timer = std::get<2>(entry);
    pending_.push_back(std::move(input));
    ++stats_.timers_proposed;
  }
  std::erase_if(timers_proposed_,
                [&](const auto& p) { return table.timers().count(p.first) == 0; });

  // Retention needs log time to pass: an empty entry carries the leader's clock.
  const bool sweep_due = table.next_sweep_ms() <= now_ms_ &&
                         now_ms_ - sweep_proposed_at_ms_ >= options_.repropose_after_ms;
  if (sweep_due) sweep_proposed_at_ms_ = now_ms_;
  if (!pending_.empty() || sweep_due) Flush();
}

void SagaExecutor::Reconcile(const rsm::SagaTable& table, const std::string& saga_id) {
  const rsm::SagaInstance* instance = table.Find(saga_id);
  const bool running = instance != nullptr && !instance->finished();
  // Jobs of attempts that are no longer wanted: stop what runs.
  auto first = jobs_.lower_bound(SlotKey{saga_id, saga::AttemptPhase::kForward, 0});
  for (auto it = first; it != jobs_.end() && std::get<0>(it->first) == saga_id;) {
    Job& job = it->second;
    bool current = false;
    if (running) {
      auto w = instance->wanted.find({std::get<1>(it->first), std::get<2>(it->first)});
      current = w != instance->wanted.end() && w->second.attempt == job.attempt;
    }
    if (!current && job.state == JobState::kRunning) {
      if (job.external) {
        if (!job.cancel_sent) {
          job.cancel_sent = true;
          runner_->Cancel(job.id);
          ++stats_.cancelled;
        }
      } else {
        ++stats_.cancelled;
        job_keys_.erase(job.id);
        it = jobs_.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (!running) return;
  for (const auto& [slot, wanted] : instance->wanted) {
    SlotKey key{saga_id, slot.first, slot.second};
    // Running here, or the step's previous attempt (a retry's, or the forward
    // attempt before its compensation) still ending: it starts once reaped.
    const SlotKey other{saga_id,
                        slot.first == saga::AttemptPhase::kForward ? saga::AttemptPhase::kCompensate
                                                                   : saga::AttemptPhase::kForward,
                        slot.second};
    if (jobs_.count(key) != 0 || jobs_.count(other) != 0) continue;
    if (wanted.dispatch != 0 && now_ms_ < ready_since_ms_ + options_.redispatch_grace_ms) {
      // Dispatched by an earlier leader: it may still be running there.
      redispatch_wake_ms_ =
          std::min(redispatch_wake_ms_, ready_since_ms_ + options_.redispatch_grace_ms);
      continue;
    }
    Job& job = jobs_[key];
    job.id = next_job_id_++;
    job_keys_[job.id] = key;
    StartSlot(*instance, key, wanted, job);
  }
}

void SagaExecutor::StartSlot(const rsm::SagaInstance& instance, const SlotKey& key,
                             const rsm::SagaWantedAttempt& wanted, Job& job) {
  const saga::StepSpec& step = instance.def().spec.steps[std::get<2>(key)];
  const bool forward = std::get<1>(key) == saga::AttemptPhase::kForward;
  TRI_ASSERT(forward || step.compensate.has_value());
  const saga::Action& action = forward ? step.run : *step.compensate;
  job.attempt = wanted.attempt;
  job.dispatch = wanted.dispatch;
  rsm::SagaInput input;
  input.saga_id = std::get<0>(key);
  input.phase = std::get<1>(key);
  input.step = std::get<2>(key);
  input.attempt = wanted.attempt;
  if (IsNoop(action)) {
    job.state = JobState::kReporting;
    input.kind = rsm::SagaInput::Kind::kSucceeded;
    input.dispatch = wanted.dispatch;
    ++stats_.results_proposed;
  } else {
    job.state = JobState::kDispatching;
    input.kind = rsm::SagaInput::Kind::kStarted;
    if (wanted.dispatch != 0) ++stats_.redispatches;
  }
  job.proposed_at_ms = now_ms_;
  pending_.push_back(std::move(input));
}

void SagaExecutor::RunAction(const SlotKey& key, Job& job) {
  job.state = JobState::kRunning;
  const rsm::SagaInstance* instance = table_().Find(std::get<0>(key));
  TRI_ASSERT(instance != nullptr);
  const saga::SagaDefinition& def = instance->def();
  const saga::StepIndex s = std::get<2>(key);
  const saga::StepSpec& step = def.spec.steps[s];
  const bool forward = std::get<1>(key) == saga::AttemptPhase::kForward;
  const saga::Action& action = forward ? step.run : *step.compensate;
  if (const auto* sleep = std::get_if<saga::SleepAction>(&action)) {
    job.done_at_ms = now_ms_ + Ms(sleep->duration);
    job.outcome = AttemptOutcome{.succeeded = true};
    return;
  }
  if (const auto* fail = std::get_if<saga::FailAction>(&action)) {
    job.done_at_ms = now_ms_ + Ms(fail->after);
    job.outcome = AttemptOutcome{.succeeded = false,
                                 .code = fail->code,
                                 .retryable = fail->retryable,
                                 .message = fail->message};
    return;
  }
  const std::string idempotency_key = instance->id + "/" + step.id +
                                      (forward ? "" : "/compensate") + "/" +
                                      std::to_string(job.attempt);
  std::vector<std::unique_ptr<nlohmann::json>> outputs(def.spec.steps.size());
  saga::TemplateContext context;
  context.saga_id = instance->id;
  context.step_id = step.id;
  context.attempt = job.attempt;
  context.idempotency_key = idempotency_key;
  context.inputs = &instance->inputs;
  context.step_output = [&](std::string_view id) -> const nlohmann::json* {
    auto it = def.step_index.find(id);
    if (it == def.step_index.end()) return nullptr;
    const saga::Orchestrator& orch = *instance->orchestrator;
    if (orch.forward_state(it->second) != saga::StepState::kSucceeded) return nullptr;
    const std::string& raw = orch.output(it->second);
    if (raw.empty()) return nullptr;
    auto& slot = outputs[it->second];
    if (!slot) slot = std::make_unique<nlohmann::json>(OutputValue(raw));
    return slot.get();
  };
  auto rendered = saga::RenderAction(action, context);
  if (!rendered.ok()) {
    Report(key, job,
           AttemptOutcome{.succeeded = false,
                          .code = 400,
                          .retryable = false,
                          .message = std::string(forward ? "run" : "compensate") + " of step '" +
                                     step.id + "': " + rendered.status().message()});
    return;
  }
  if (runner_ == nullptr) {
    Report(key, job,
           AttemptOutcome{.succeeded = false,
                          .code = 501,
                          .retryable = false,
                          .message = "this node runs no exec or http actions"});
    return;
  }
  if (auto* exec = std::get_if<saga::ExecAction>(&*rendered)) {
    // What an action needs to make its effect idempotent and fenced.
    exec->env["TRI_SAGA_ID"] = instance->id;
    exec->env["TRI_IDEMPOTENCY_KEY"] = idempotency_key;
    exec->env["TRI_FENCING_TOKEN"] = std::to_string(job.dispatch);
  }
  job.external = true;
  runner_->Start(AttemptJob{.job_id = job.id,
                            .saga_id = instance->id,
                            .step_id = step.id,
                            .phase = std::get<1>(key),
                            .attempt = job.attempt,
                            .dispatch = job.dispatch,
                            .idempotency_key = idempotency_key,
                            .action = std::move(*rendered)});
}

void SagaExecutor::Report(const SlotKey& key, Job& job, AttemptOutcome outcome) {
  job.state = JobState::kReporting;
  job.proposed_at_ms = now_ms_;
  rsm::SagaInput input;
  input.kind = outcome.succeeded ? rsm::SagaInput::Kind::kSucceeded : rsm::SagaInput::Kind::kFailed;
  input.saga_id = std::get<0>(key);
  input.phase = std::get<1>(key);
  input.step = std::get<2>(key);
  input.attempt = job.attempt;
  input.dispatch = job.dispatch;
  input.code = outcome.code;
  input.retryable = outcome.retryable;
  input.payload = outcome.succeeded ? std::move(outcome.output) : std::move(outcome.message);
  pending_.push_back(std::move(input));
  ++stats_.results_proposed;
}

void SagaExecutor::OnActionDone(std::uint64_t job_id, AttemptOutcome outcome) {
  auto k = job_keys_.find(job_id);
  if (k == job_keys_.end()) return;  // forgotten (leadership lost): nothing to report
  const SlotKey key = k->second;
  auto it = jobs_.find(key);
  TRI_ASSERT(it != jobs_.end() && it->second.id == job_id);
  Job& job = it->second;
  if (job.cancel_sent || job.state != JobState::kRunning) {
    // Reaped after a cancel: the step may now start its next attempt.
    job_keys_.erase(k);
    jobs_.erase(it);
    revisit_.insert(std::get<0>(key));
    return;
  }
  Report(key, job, std::move(outcome));
  Flush();
}

SagaExecutor::Job* SagaExecutor::FindJob(const SlotKey& key, std::uint32_t attempt) {
  auto it = jobs_.find(key);
  if (it == jobs_.end() || it->second.attempt != attempt) return nullptr;
  return &it->second;
}

void SagaExecutor::Flush() {
  const std::uint64_t generation = generation_;
  do {
    std::vector<rsm::SagaInput> chunk;
    const std::size_t n = std::min(pending_.size(), options_.max_inputs_per_entry);
    chunk.assign(std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(n)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    std::string payload = rsm::EncodeSagaCommand(rsm::SagaInputsCommand{chunk});
    // The callback keeps what identifies each input, not its payload.
    for (rsm::SagaInput& input : chunk)
      input.payload.clear();
    ++stats_.entries_proposed;
    proposer_->ProposeSaga(std::move(payload), [this, generation, inputs = std::move(chunk)](
                                                   Status status, const rsm::SagaReply* reply) {
      OnProposed(generation, inputs, std::move(status), reply);
    });
  } while (!pending_.empty());
}

void SagaExecutor::OnProposed(std::uint64_t generation, std::vector<rsm::SagaInput> inputs,
                              Status status, const rsm::SagaReply* reply) {
  if (generation != generation_) return;  // leadership was lost meanwhile: all forgotten
  const bool ok = status.ok() && reply != nullptr && reply->dispatch_tokens.size() == inputs.size();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const rsm::SagaInput& input = inputs[i];
    if (input.kind == rsm::SagaInput::Kind::kTimerFired) {
      if (!ok) timers_proposed_.clear();  // propose again next round
      continue;
    }
    const SlotKey key{input.saga_id, input.phase, input.step};
    Job* job = FindJob(key, input.attempt);
    if (input.kind == rsm::SagaInput::Kind::kStarted) {
      if (job == nullptr || job->state != JobState::kDispatching) continue;
      if (ok && reply->dispatch_tokens[i] != 0) {
        job->dispatch = reply->dispatch_tokens[i];
        ++stats_.dispatches;
        RunAction(key, *job);
        continue;
      }
    } else if (job == nullptr || job->state != JobState::kReporting) {
      continue;
    }
    // Result applied (or refused as stale), or the proposal failed: done here;
    // what the table wants next is looked at again.
    job_keys_.erase(job->id);
    jobs_.erase(key);
    revisit_.insert(input.saga_id);
  }
  if (!pending_.empty()) Flush();
}

std::uint64_t SagaExecutor::next_wake_ms() const {
  if (!ready_) return UINT64_MAX;
  std::uint64_t wake = redispatch_wake_ms_;
  if (!revisit_.empty()) return now_ms_;
  for (const auto& [key, job] : jobs_) {
    if (!job.external && job.state == JobState::kRunning) wake = std::min(wake, job.done_at_ms);
  }
  {
    const rsm::SagaTable& table = table_();
    int looked = 0;
    for (const auto& entry : table.timers()) {
      if (++looked > 64) break;
      auto p = timers_proposed_.find(entry);
      wake = std::min(wake, p == timers_proposed_.end() ? std::get<0>(entry)
                                                        : p->second + options_.repropose_after_ms);
    }
    const std::uint64_t sweep = table.next_sweep_ms();
    if (sweep != UINT64_MAX) {
      wake = std::min(wake, std::max(sweep, sweep_proposed_at_ms_ + options_.repropose_after_ms));
    }
  }
  return wake;
}

}  // namespace tri::server
