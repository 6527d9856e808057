#include "server/saga_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <random>
#include <utility>

#include "base/assert.h"
#include "exec/blocking_actions.h"
#include "exec/blocking_pool.h"
#include "saga/saga_id.h"
#include "server/node.h"

namespace tri::server {

namespace {

std::uint64_t WallMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

SagaEventView MakeEventView(const rsm::SagaInstance& instance, std::uint64_t position,
                            const rsm::SagaEventRecord& e) {
  SagaEventView v;
  v.position = position;
  v.time_ms = e.time_ms;
  v.event = saga::TraceEventName(e.event);
  if (e.step != saga::kNoStep && e.step < instance.def().step_ids.size()) {
    v.step = std::string(instance.def().step_ids[e.step]);
  }
  v.attempt = e.attempt;
  v.code = e.code;
  return v;
}

}  // namespace

SagaView MakeSagaView(const rsm::SagaInstance& instance, bool summary) {
  const saga::Orchestrator& orch = *instance.orchestrator;
  const saga::SagaDefinition& def = instance.def();
  SagaView v;
  v.id = instance.id;
  v.definition_name = instance.definition->name;
  v.definition_version = instance.definition->version;
  v.state = saga::SagaOutcomeName(orch.outcome());
  v.stop_cause = saga::StopCauseName(orch.stop_cause());
  v.compensating = orch.compensating();
  v.created_ms = instance.created_ms;
  v.finished_ms = instance.finished_ms;
  v.inputs.insert(instance.inputs.begin(), instance.inputs.end());
  for (saga::StepIndex s : orch.compensation_failed_steps())
    v.compensation_failed_steps.emplace_back(def.step_ids[s]);
  v.events = instance.next_event_position();
  const saga::SagaStats stats = orch.stats();
  v.attempts = stats.attempts;
  v.retries = stats.retries;
  v.compensation_attempts = stats.compensation_attempts;
  v.stale_results_dropped = instance.stale_results_dropped;
  v.max_parallelism = stats.max_parallelism;
  v.avg_parallelism = stats.avg_parallelism;
  v.wall_us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, stats.wall.count() / 1000));
  if (summary) return v;
  v.steps.resize(def.step_ids.size());
  for (saga::StepIndex s = 0; s < def.step_ids.size(); ++s) {
    SagaStepView& step = v.steps[s];
    step.id = std::string(def.step_ids[s]);
    step.state = saga::StepStateName(orch.step_state(s));
    step.forward_state = saga::StepStateName(orch.forward_state(s));
    step.attempts = orch.attempts(s);
    step.compensation_attempts = orch.compensation_attempts(s);
    step.code = orch.last_code(s);
    step.message = orch.last_message(s);
    step.output = orch.output(s);
  }
  // Step times from the recorded events (the oldest may have been dropped).
  for (const rsm::SagaEventRecord& e : instance.events) {
    if (e.step == saga::kNoStep || e.step >= v.steps.size()) continue;
    SagaStepView& step = v.steps[e.step];
    switch (e.event) {
      case saga::TraceEvent::kStepStarted:
        if (step.started_ms == 0) step.started_ms = e.time_ms;
        break;
      case saga::TraceEvent::kStepSucceeded:
      case saga::TraceEvent::kStepTimedOut:
      case saga::TraceEvent::kStepCancelled:
        step.finished_ms = e.time_ms;
        break;
      case saga::TraceEvent::kStepFailed:
        step.finished_ms = e.time_ms;  // the last failed attempt's time
        break;
      default:
        break;
    }
  }
  return v;
}

// --- the action runner: exec and http on a blocking pool -----------------------

class NodeSagas::Runner final : public ActionRunner {
 public:
  Runner(Node& node, NodeSagas& sagas, std::uint32_t threads)
      : node_(node), sagas_(sagas), pool_(threads) {}
  ~Runner() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (auto& [id, token] : tokens_)
        token->Cancel();
    }
    // ~BlockingPool runs what is queued (each sees its token cancelled) and joins.
  }

  void Start(AttemptJob job) override {
    auto token = std::make_shared<exec::CancelToken>();
    {
      std::lock_guard lock(mu_);
      tokens_[job.job_id] = token;
      if (stopping_) token->Cancel();
    }
    pool_.Submit([this, token, job = std::move(job)] {
      exec::ActionOutcome outcome;
      if (token->cancelled()) {
        outcome = exec::FailedOutcome(saga::kCodeCancelled, false, "cancelled before it started");
      } else if (const auto* e = std::get_if<saga::ExecAction>(&job.action)) {
        outcome = exec::RunProcess(*e, exec::ProcessOptions{}, *token);
      } else if (const auto* h = std::get_if<saga::HttpAction>(&job.action)) {
        outcome = exec::RunHttp(*h, exec::HttpOptions{}, *token);
      } else {
        outcome = exec::FailedOutcome(500, false, "not an exec or http action");
      }
      {
        std::lock_guard lock(mu_);
        tokens_.erase(job.job_id);
        if (stopping_) return;
      }
      AttemptOutcome result{.succeeded = outcome.succeeded,
                            .code = outcome.code,
                            .retryable = outcome.retryable,
                            .output = std::move(outcome.output),
                            .message = std::move(outcome.message)};
      node_.Post([this, id = job.job_id, result = std::move(result)](NodeCore&) mutable {
        sagas_.executor_->OnActionDone(id, std::move(result));
      });
    });
  }

  void Cancel(std::uint64_t job_id) override {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(job_id);
    if (it != tokens_.end()) it->second->Cancel();
  }

 private:
  Node& node_;
  NodeSagas& sagas_;
  std::mutex mu_;
  std::map<std::uint64_t, std::shared_ptr<exec::CancelToken>> tokens_;
  bool stopping_ = false;
  exec::BlockingPool pool_;  // last: its threads end before the members above go
};

// --- service -------------------------------------------------------------------

NodeSagas::NodeSagas(Node& node, NodeSagasOptions options)
    : node_(node), options_(options), ids_rng_(std::random_device{}() ^ WallMs()) {
  runner_ = std::make_unique<Runner>(node, *this, options_.blocking_threads);
  executor_ = std::make_unique<SagaExecutor>(
      options_.executor, runner_.get(), this,
      [this]() -> const rsm::SagaTable& { return core_->state_machine().sagas(); });
}

NodeSagas::~NodeSagas() {
  runner_.reset();  // cancels and joins: no Post after this
}

void NodeSagas::AfterRound(NodeCore& core, std::uint64_t now_ms) {
  core_ = &core;
  proposed_ = false;
  now_ms_ = now_ms;
  rsm::StateMachine& sm = core.mutable_state_machine();
  for (const rsm::SagaSweepRecord& r : sm.TakeSweptSagas()) {
    spdlog::info("saga {} ({}, finished at {} ms) dropped: {}", r.saga_id, r.outcome, r.finished_ms,
                 r.reason);
  }
  const std::vector<std::string> changed = sm.TakeChangedSagas();
  for (const std::string& saga_id : changed) {
    auto [first, last] = watchers_by_saga_.equal_range(saga_id);
    std::vector<WatchId> ids;
    for (auto it = first; it != last; ++it)
      ids.push_back(it->second);
    for (WatchId id : ids) {
      auto w = watchers_.find(id);
      if (w != watchers_.end() && !Feed(core, id, w->second)) CancelWatch(id);
    }
  }
  for (const std::string& saga_id : changed)
    FinishWaiters(core, saga_id);
  executor_->Round(core.LeaderReady(), now_ms, changed);
}

void NodeSagas::FinishWaiters(NodeCore& core, const std::string& saga_id) {
  auto [first, last] = finish_waiters_.equal_range(saga_id);
  if (first == last) return;
  const rsm::SagaInstance* instance = core.state_machine().sagas().Find(saga_id);
  if (instance != nullptr && !instance->finished()) return;
  std::vector<std::function<void(Result<SagaStartReply>)>> done;
  for (auto it = first; it != last; ++it)
    done.push_back(std::move(it->second));
  finish_waiters_.erase(first, last);
  for (auto& d : done) {
    if (instance == nullptr) {
      d(NotFound("saga '" + saga_id + "' was dropped before its end was seen"));
    } else {
      d(SagaStartReply{.state = saga::SagaOutcomeName(instance->orchestrator->outcome())});
    }
  }
}

std::uint64_t NodeSagas::next_wake_ms() const {
  // Proposals made after the core's Process wait for the next one: at once.
  return proposed_ ? 0 : executor_->next_wake_ms();
}

void NodeSagas::Stop(NodeCore& core) {
  core_ = &core;
  executor_->Round(false, now_ms_, {});
  auto waiters = std::move(finish_waiters_);
  for (auto& [id, d] : waiters)
    d(Unavailable("this member is stopping"));
  auto watchers = std::move(watchers_);
  watchers_by_saga_.clear();
  for (auto& [id, w] : watchers)
    w.on_error(Unavailable("this member is stopping"));
}

void NodeSagas::ProposeSaga(std::string payload,
                            std::function<void(Status, const rsm::SagaReply*)> done) {
  TRI_ASSERT(core_ != nullptr);
  const RequestToken token = node_.Track([done = std::move(done)](NodeCore&, const Completion& c) {
    if (!c.status.ok()) return done(c.status, nullptr);
    if (!c.applied.has_value()) return done(Internal("no apply result"), nullptr);
    if (!c.applied->result.ok()) return done(rsm::ToStatus(c.applied->result.error()), nullptr);
    done(Status::Ok(), c.applied->saga ? &*c.applied->saga : nullptr);
  });
  core_->Propose(token, rsm::CommandKind::kSaga, std::move(payload));
  proposed_ = true;
}

void NodeSagas::Propose(NodeCore& core, const rsm::SagaCommand& command,
                        std::function<void(Result<rsm::SagaReply>)> done) {
  core_ = &core;
  ProposeSaga(rsm::EncodeSagaCommand(command),
              [done = std::move(done)](Status s, const rsm::SagaReply* reply) {
                if (!s.ok()) return done(std::move(s));
                if (reply == nullptr) return done(Internal("saga command applied without a reply"));
                done(*reply);
              });
}

void NodeSagas::Read(NodeCore& core, bool serializable, std::function<void(Status)> read) {
  core_ = &core;
  if (serializable) return read(Status::Ok());
  const RequestToken token =
      node_.Track([read = std::move(read)](NodeCore&, const Completion& c) { read(c.status); });
  core.ReadLinearizable(token);
}

void NodeSagas::DefineSaga(SagaDefineRequest request,
                           std::function<void(Result<SagaDefineReply>)> done) {
  node_.Post([this, request = std::move(request), done = std::move(done)](NodeCore& core) mutable {
    Propose(core,
            rsm::SagaDefineCommand{.document = std::move(request.document),
                                   .source_name = request.source_name.empty()
                                                      ? std::string("definition")
                                                      : std::move(request.source_name)},
            [done = std::move(done)](Result<rsm::SagaReply> r) {
              if (!r.ok()) return done(r.status());
              done(SagaDefineReply{
                  .name = r->name, .version = r->version, .already_existed = r->already_existed});
            });
  });
}

void NodeSagas::StartSaga(SagaStartRequest request,
                          std::function<void(Result<SagaStartReply>)> done) {
  if (request.definition_name.empty() == request.inline_document.empty()) {
    return done(InvalidArgument(
        "give either a definition name or an inline document to start a saga, not both"));
  }
  if (!request.saga_id.empty()) {
    if (Status s = saga::ValidateSagaId(request.saga_id); !s.ok()) return done(s);
  }
  node_.Post([this, request = std::move(request), done = std::move(done)](NodeCore& core) mutable {
    rsm::SagaStartCommand c;
    c.saga_id =
        request.saga_id.empty() ? saga::NewSagaId(WallMs(), ids_rng_) : std::move(request.saga_id);
    c.definition_name = std::move(request.definition_name);
    c.definition_version = request.definition_version;
    c.inline_document = std::move(request.inline_document);
    for (auto& [name, value] : request.inputs)
      c.inputs.emplace_back(name, std::move(value));
    const bool wait = request.wait;
    Propose(core, c, [this, wait, done = std::move(done)](Result<rsm::SagaReply> r) mutable {
      if (!r.ok()) return done(r.status());
      SagaStartReply reply{.saga_id = r->saga_id, .already_existed = r->already_existed};
      if (!wait) return done(std::move(reply));
      if (finish_waiters_.size() >= options_.max_watchers) {
        return done(
            ResourceExhausted("too many start requests waiting for their sagas (the "
                              "limit is " +
                              std::to_string(options_.max_watchers) + ")"));
      }
      finish_waiters_.emplace(reply.saga_id,
                              [reply, done = std::move(done)](Result<SagaStartReply> r) {
                                if (!r.ok()) return done(r.status());
                                SagaStartReply out = reply;
                                out.state = r->state;
                                done(std::move(out));
                              });
      FinishWaiters(*core_, reply.saga_id);
    });
  });
}

void NodeSagas::GetSaga(std::string saga_id, bool serializable,
                        std::function<void(Result<SagaView>)> done) {
  node_.Post([this, saga_id = std::move(saga_id), serializable,
              done = std::move(done)](NodeCore& core) mutable {
    Read(core, serializable,
         [this, saga_id = std::move(saga_id), done = std::move(done)](Status s) {
           if (!s.ok()) return done(s);
           const rsm::SagaInstance* instance = core_->state_machine().sagas().Find(saga_id);
           if (instance == nullptr) return done(NotFound("unknown saga '" + saga_id + "'"));
           done(MakeSagaView(*instance, /*summary=*/false));
         });
  });
}

void NodeSagas::ListSagas(SagaListRequest request,
                          std::function<void(Result<SagaListReply>)> done) {
  if (!request.state.empty()) {
    static const char* kStates[] = {"running", "completed", "compensated", "compensation_failed",
                                    "failed"};
    if (std::find(std::begin(kStates), std::end(kStates), request.state) == std::end(kStates)) {
      return done(InvalidArgument("unknown saga state '" + request.state +
                                  "' (running, completed, compensated, compensation_failed, "
                                  "failed)"));
    }
  }
  const std::uint32_t limit =
      request.limit == 0 ? 100 : std::min(request.limit, options_.max_list_limit);
  node_.Post(
      [this, request = std::move(request), limit, done = std::move(done)](NodeCore& core) mutable {
        const bool serializable = request.serializable;
        Read(core, serializable,
             [this, request = std::move(request), limit, done = std::move(done)](Status s) {
               if (!s.ok()) return done(s);
               const auto& sagas = core_->state_machine().sagas().sagas();
               SagaListReply reply;
               auto it = request.page_token.empty() ? sagas.begin()
                                                    : sagas.upper_bound(request.page_token);
               for (; it != sagas.end(); ++it) {
                 const rsm::SagaInstance& instance = *it->second;
                 if (!request.definition_name.empty() &&
                     instance.definition->name != request.definition_name) {
                   continue;
                 }
                 if (!request.state.empty() &&
                     request.state != saga::SagaOutcomeName(instance.orchestrator->outcome())) {
                   continue;
                 }
                 if (instance.created_ms < request.created_after_ms) continue;
                 if (request.created_before_ms != 0 &&
                     instance.created_ms >= request.created_before_ms) {
                   continue;
                 }
                 if (reply.sagas.size() == limit) {
                   reply.next_page_token = reply.sagas.back().id;
                   break;
                 }
                 reply.sagas.push_back(MakeSagaView(instance, /*summary=*/true));
               }
               done(std::move(reply));
             });
      });
}

void NodeSagas::AbortSaga(std::string saga_id, std::function<void(Result<SagaView>)> done) {
  node_.Post([this, saga_id = std::move(saga_id), done = std::move(done)](NodeCore& core) mutable {
    Propose(core, rsm::SagaAbortCommand{.saga_id = saga_id},
            [this, saga_id, done = std::move(done)](Result<rsm::SagaReply> r) {
              if (!r.ok()) return done(r.status());
              const rsm::SagaInstance* instance = core_->state_machine().sagas().Find(saga_id);
              if (instance == nullptr) return done(NotFound("unknown saga '" + saga_id + "'"));
              done(MakeSagaView(*instance, /*summary=*/false));
            });
  });
}

WatchId NodeSagas::WatchSaga(std::string saga_id, std::uint64_t from_position,
                             std::function<void(std::vector<SagaEventView>, bool)> on_events,
                             std::function<void(Status)> on_error) {
  const WatchId id = next_watch_id_.fetch_add(1);
  node_.Post([this, id, saga_id = std::move(saga_id), from_position,
              on_events = std::move(on_events),
              on_error = std::move(on_error)](NodeCore& core) mutable {
    core_ = &core;
    if (watchers_.size() >= options_.max_watchers) {
      return on_error(ResourceExhausted("too many saga watchers (the limit is " +
                                        std::to_string(options_.max_watchers) + ")"));
    }
    Watcher w{.saga_id = saga_id,
              .next_position = from_position,
              .on_events = std::move(on_events),
              .on_error = std::move(on_error)};
    auto [it, inserted] = watchers_.emplace(id, std::move(w));
    if (!inserted) return;
    watchers_by_saga_.emplace(saga_id, id);
    if (!Feed(core, id, it->second)) CancelWatch(id);
  });
  return id;
}

bool NodeSagas::Feed(NodeCore& core, WatchId, Watcher& w) {
  const rsm::SagaInstance* instance = core.state_machine().sagas().Find(w.saga_id);
  if (instance == nullptr) {
    w.on_error(NotFound("unknown saga '" + w.saga_id + "'"));
    return false;
  }
  if (w.next_position < instance->first_event_position) {
    w.on_error(OutOfRange("events of saga '" + w.saga_id + "' before position " +
                          std::to_string(instance->first_event_position) +
                          " were dropped (the per-saga event bound)"));
    return false;
  }
  std::vector<SagaEventView> batch;
  for (std::uint64_t p = w.next_position; p < instance->next_event_position(); ++p) {
    batch.push_back(
        MakeEventView(*instance, p, instance->events[p - instance->first_event_position]));
  }
  w.next_position = std::max(w.next_position, instance->next_event_position());
  const bool finished = instance->finished();
  if (!batch.empty() || finished) w.on_events(std::move(batch), finished);
  return !finished;
}

void NodeSagas::CancelWatch(WatchId id) {
  auto drop = [this, id] {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    auto [first, last] = watchers_by_saga_.equal_range(it->second.saga_id);
    for (auto b = first; b != last; ++b) {
      if (b->second == id) {
        watchers_by_saga_.erase(b);
        break;
      }
    }
    watchers_.erase(it);
  };
  if (node_.OnLoopThread()) {
    drop();
  } else {
    node_.Post([drop](NodeCore&) { drop(); });
  }
}

}  // namespace tri::server
