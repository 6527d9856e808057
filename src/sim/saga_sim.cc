#include "sim/saga_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "rsm/command.h"
#include "rsm/saga_codec.h"
#include "server/saga_executor.h"
#include "sim/node_checkers.h"
#include "sim/node_cluster.h"
#include "sim/node_nemesis.h"
#include "sim/saga_checkers.h"
#include "sim/saga_workload.h"
#include "sim/workload.h"

namespace tri::sim {
namespace {

constexpr SimTimeUs kStepUs = 1'000;
// A client retries a failed start or abort after 50..300 ms, on a random member.
constexpr SimTimeUs kRetryMinUs = 50'000;
constexpr SimTimeUs kRetryMaxUs = 300'000;
// Every replica's histories are checked this often while the run goes on.
constexpr SimTimeUs kHistoryCheckUs = 250'000;
// The late fault: this share of the executors' entries has its dispatches and
// results proposed again, 10 ms..1 s later, through a random member.
constexpr double kLateReportProbability = 0.5;
constexpr SimTimeUs kLateMinUs = 10'000;
constexpr SimTimeUs kLateMaxUs = 1'000'000;
// Entries the log keeps below a snapshot: the observer reads every committed
// entry from some node's log, so none may be compacted before one node read it.
constexpr std::uint64_t kCatchupEntries = 512;
// The observer keeps at most this many entries past its index from one read.
constexpr std::uint64_t kMaxKeptEntries = 4096;

rsm::SagaOptions MakeSagaOptions(const SagaSimOptions& o) {
  rsm::SagaOptions s;
  s.testing_bugs.accept_stale_results = o.bug == SagaInjectedBug::kAcceptStaleResult;
  return s;
}

// The clients of the workload: one start (and maybe one abort) per planned
// saga, each retried until the cluster answers it.
struct ClientSaga {
  const PlannedSaga* plan = nullptr;
  bool defined = false;  // a registered saga's definition was applied
  bool define_in_flight = false;
  bool started = false;  // the start was applied (or the saga existed)
  bool start_in_flight = false;
  SimTimeUs next_start_us = 0;
  bool abort_done = false;
  bool abort_in_flight = false;
  SimTimeUs next_abort_us = 0;
};

// The saga side of every node: the executor and its proposer while the node is
// up, the clients' requests, the log observer and the late fault.
class SagaDriver final : public NodeClusterHooks {
 public:
  SagaDriver(const SagaSimOptions& options, Rng* rng, const std::vector<PlannedSaga>& plan,
             SagaLogObserver* observer)
      : options_(options), rng_(rng), observer_(observer) {
    for (const PlannedSaga& p : plan) {
      ClientSaga c;
      c.plan = &p;
      c.next_start_us = p.start_at_us;
      c.defined = !p.registered;
      c.abort_done = !p.abort_at_us.has_value();
      c.next_abort_us = p.abort_at_us.value_or(0);
      clients_.push_back(c);
    }
  }

  void SetCluster(NodeCluster* cluster) { cluster_ = cluster; }
  void StopLateReports() {
    late_enabled_ = false;
    late_.clear();
  }

  // NodeClusterHooks.
  void ConfigureNode(SimNodeId, server::NodeCoreOptions& o) override {
    o.sagas = MakeSagaOptions(options_);
    o.snapshot_catchup_entries = kCatchupEntries;
  }
  void OnNodeUp(SimNodeId id) override {
    PerNode& n = nodes_[id];
    n.proposer = std::make_unique<Proposer>(this, id);
    server::SagaExecutorOptions eo;
    eo.redispatch_grace_ms = options_.redispatch_grace_ms;
    n.executor = std::make_unique<server::SagaExecutor>(
        eo, /*runner=*/nullptr, n.proposer.get(), [this, id]() -> const rsm::SagaTable& {
          return cluster_->core(id)->state_machine().sagas();
        });
  }
  void OnNodeDown(SimNodeId id) override {
    PerNode& n = nodes_[id];
    n.executor_pending.clear();  // the executor's callbacks die with it
    if (n.executor) Accumulate(n.executor->stats());
    n.executor.reset();
    n.proposer.reset();
    // The clients' requests died with the process: they hear nothing and retry.
    auto pending = std::move(n.client_pending);
    n.client_pending.clear();
    for (auto& [token, done] : pending)
      done(Unavailable("the member went down"), nullptr);
  }
  void OnProcessed(SimNodeId id, const server::NodeCore& core) override { ReadCommitted(id, core); }
  bool AfterProcess(SimNodeId id, server::NodeCore& core, std::uint64_t local_ms) override {
    PerNode& n = nodes_.at(id);
    const std::uint64_t before = proposals_;
    n.executor->Round(core.LeaderReady(), local_ms,
                      core.mutable_state_machine().TakeChangedSagas());
    (void)core.mutable_state_machine().TakeSweptSagas();
    return proposals_ != before;
  }
  void OnCompletion(SimNodeId id, server::Completion c) override {
    PerNode& n = nodes_.at(id);
    const Status status = c.status;
    const rsm::Applied* applied = c.applied ? &*c.applied : nullptr;
    if (auto it = n.executor_pending.find(c.token); it != n.executor_pending.end()) {
      auto done = std::move(it->second);
      n.executor_pending.erase(it);
      if (!status.ok()) return done(status, nullptr);
      if (applied == nullptr || !applied->result.ok() || !applied->saga) {
        return done(Internal("saga command not applied"), nullptr);
      }
      return done(Status::Ok(), &*applied->saga);
    }
    if (auto it = n.client_pending.find(c.token); it != n.client_pending.end()) {
      auto done = std::move(it->second);
      n.client_pending.erase(it);
      done(status, applied);
    }
  }
  std::uint64_t NextWakeMs(SimNodeId id) const override {
    auto it = nodes_.find(id);
    if (it == nodes_.end() || !it->second.executor) return UINT64_MAX;
    return it->second.executor->next_wake_ms();
  }

  // The clients' starts and aborts, and late reports, due at `now_us`.
  void Tick(SimTimeUs now_us) {
    now_us_ = now_us;
    for (ClientSaga& c : clients_) {
      if (!c.defined && !c.define_in_flight && now_us >= c.next_start_us) SendDefine(c);
      if (c.defined && !c.started && !c.start_in_flight && now_us >= c.next_start_us) {
        SendStart(c);
      }
      if (c.started && !c.abort_done && !c.abort_in_flight && now_us >= c.next_abort_us) {
        SendAbort(c);
      }
    }
    while (!late_.empty() && late_.front().first <= now_us) {
      std::string payload = std::move(late_.front().second);
      late_.erase(late_.begin());
      const auto id = RandomUpNode();
      if (!id) continue;
      ++result_.late_reports_sent;
      cluster_->mutable_core(*id)->Propose(cluster_->NewToken(), rsm::CommandKind::kSaga,
                                           std::move(payload));
      cluster_->MarkDirty(*id);
    }
  }

  bool ClientsDone() const {
    return std::all_of(clients_.begin(), clients_.end(),
                       [](const ClientSaga& c) { return c.started && c.abort_done; });
  }
  const std::optional<SagaViolation>& refusal() const { return refusal_; }

  // Executor statistics of every node, past and present, and the clients'.
  void AddStats(SagaSimResult& r) const {
    r.dispatches = dispatches_;
    r.redispatches = redispatches_;
    for (const auto& [id, n] : nodes_) {
      if (!n.executor) continue;
      r.dispatches += n.executor->stats().dispatches;
      r.redispatches += n.executor->stats().redispatches;
    }
    r.definitions = result_.definitions;
    r.starts_sent = result_.starts_sent;
    r.aborts_accepted = result_.aborts_accepted;
    r.aborts_too_late = result_.aborts_too_late;
    r.late_reports_sent = result_.late_reports_sent;
  }

 private:
  using ExecutorDone = std::function<void(Status, const rsm::SagaReply*)>;
  using ClientDone = std::function<void(Status, const rsm::Applied*)>;

  class Proposer final : public server::SagaProposer {
   public:
    Proposer(SagaDriver* driver, SimNodeId id) : driver_(driver), id_(id) {}
    void ProposeSaga(std::string payload, ExecutorDone done) override {
      driver_->ProposeFromExecutor(id_, std::move(payload), std::move(done));
    }

   private:
    SagaDriver* driver_;
    SimNodeId id_;
  };

  struct PerNode {
    std::unique_ptr<Proposer> proposer;
    std::unique_ptr<server::SagaExecutor> executor;
    std::map<server::RequestToken, ExecutorDone> executor_pending;
    std::map<server::RequestToken, ClientDone> client_pending;
  };

  // The statistics of an executor that goes away.
  void Accumulate(const server::SagaExecutorStats& s) {
    dispatches_ += s.dispatches;
    redispatches_ += s.redispatches;
  }

  void ProposeFromExecutor(SimNodeId id, std::string payload, ExecutorDone done) {
    ++proposals_;
    if (late_enabled_) MaybeKeepLate(payload);
    const server::RequestToken token = cluster_->NewToken();
    nodes_.at(id).executor_pending.emplace(token, std::move(done));
    cluster_->mutable_core(id)->Propose(token, rsm::CommandKind::kSaga, std::move(payload));
    // Also when the executor proposes from a completion: the entry goes out
    // with the node's next Process, not its next tick.
    cluster_->MarkDirty(id);
  }

  // Maybe keeps a copy of the dispatches and results among `payload`'s
  // inputs, to propose later.
  void MaybeKeepLate(const std::string& payload) {
    auto command = rsm::DecodeSagaCommand(payload);
    TRI_ASSERT(command.ok());
    const auto* inputs = std::get_if<rsm::SagaInputsCommand>(&*command);
    if (inputs == nullptr) return;
    rsm::SagaInputsCommand reports;
    for (const rsm::SagaInput& input : inputs->inputs) {
      if (input.kind != rsm::SagaInput::Kind::kTimerFired) reports.inputs.push_back(input);
    }
    if (reports.inputs.empty() || !rng_->Bernoulli(kLateReportProbability)) return;
    const SimTimeUs due = now_us_ + rng_->Range(kLateMinUs, kLateMaxUs);
    auto at = std::upper_bound(late_.begin(), late_.end(), due,
                               [](SimTimeUs t, const auto& e) { return t < e.first; });
    late_.emplace(at, due, rsm::EncodeSagaCommand(reports));
  }

  std::optional<SimNodeId> RandomUpNode() {
    std::vector<SimNodeId> up;
    for (SimNodeId id : cluster_->node_ids()) {
      if (cluster_->IsUp(id)) up.push_back(id);
    }
    if (up.empty()) return std::nullopt;
    return up[rng_->Uniform(up.size())];
  }

  bool SendClient(const rsm::SagaCommand& command, ClientDone done) {
    const auto id = RandomUpNode();
    if (!id) return false;
    const server::RequestToken token = cluster_->NewToken();
    nodes_.at(*id).client_pending.emplace(token, std::move(done));
    cluster_->mutable_core(*id)->Propose(token, rsm::CommandKind::kSaga,
                                         rsm::EncodeSagaCommand(command));
    cluster_->MarkDirty(*id);
    return true;
  }

  SimTimeUs RetryAt() { return now_us_ + rng_->Range(kRetryMinUs, kRetryMaxUs); }

  // A registered saga's definition: registering the same document again is
  // answered with its version, so a retry is harmless.
  void SendDefine(ClientSaga& c) {
    ClientSaga* saga = &c;
    const bool sent = SendClient(
        rsm::SagaDefineCommand{.document = c.plan->document, .source_name = c.plan->name},
        [this, saga](Status s, const rsm::Applied* applied) {
          saga->define_in_flight = false;
          if (!s.ok() || applied == nullptr) {
            saga->next_start_us = RetryAt();
            return;
          }
          if (!applied->result.ok()) {
            Refused(*saga, "the definition", applied->result.error().message);
            return;
          }
          saga->defined = true;
          ++result_.definitions;
        });
    if (sent) {
      c.define_in_flight = true;
    } else {
      c.next_start_us = RetryAt();
    }
  }

  // The workload's documents are valid and its requests well formed: a refusal
  // is a bug (reported as "simulator"); the saga is given up.
  void Refused(ClientSaga& c, std::string_view what, const std::string& message) {
    if (!refusal_) {
      refusal_ = SagaViolation{"simulator", c.plan->id, "",
                               fmt::format("{} was refused: {}", what, message)};
    }
    c.defined = true;
    c.started = true;
    c.abort_done = true;
  }

  void SendStart(ClientSaga& c) {
    rsm::SagaStartCommand start;
    start.saga_id = c.plan->id;
    if (c.plan->registered) {
      start.definition_name = c.plan->name;
    } else {
      start.inline_document = c.plan->document;
    }
    ClientSaga* saga = &c;
    const bool sent = SendClient(start, [this, saga](Status s, const rsm::Applied* applied) {
      saga->start_in_flight = false;
      if (!s.ok()) {
        saga->next_start_us = RetryAt();
        return;
      }
      if (applied == nullptr) {
        saga->next_start_us = RetryAt();
        return;
      }
      if (!applied->result.ok()) {
        Refused(*saga, "the start", applied->result.error().message);
        return;
      }
      saga->started = true;
    });
    if (sent) {
      c.start_in_flight = true;
      ++result_.starts_sent;
    } else {
      c.next_start_us = RetryAt();
    }
  }

  void SendAbort(ClientSaga& c) {
    ClientSaga* saga = &c;
    const bool sent = SendClient(
        rsm::SagaAbortCommand{.saga_id = c.plan->id},
        [this, saga](Status s, const rsm::Applied* applied) {
          saga->abort_in_flight = false;
          if (!s.ok() || applied == nullptr) {
            saga->next_abort_us = RetryAt();
            return;
          }
          if (applied->result.ok()) {
            ++result_.aborts_accepted;
          } else if (applied->result.error().grpc_code == rsm::GrpcCode::kFailedPrecondition) {
            ++result_.aborts_too_late;  // finished before the abort applied
          } else {
            Refused(*saga, "the abort", applied->result.error().message);
          }
          saga->abort_done = true;
        });
    if (sent) {
      c.abort_in_flight = true;
    } else {
      c.next_abort_us = RetryAt();
    }
  }

  // Feeds the observer the committed log in order. Every entry past what the
  // observer read is kept as soon as some node holds it, by (index, term), so
  // that an entry a node commits, snapshots and then loses from its log (a
  // restart keeps only what follows the snapshot) can still be read: once a
  // node has index i committed, the entry it committed there is the kept one
  // of its term at i (Raft's log matching).
  void ReadCommitted(SimNodeId id, const server::NodeCore& core) {
    const storage::WalRaftStorage* storage = cluster_->storage(id);
    if (storage == nullptr) return;
    const std::uint64_t from = std::max(observer_->observed_index() + 1, storage->FirstIndex());
    const std::uint64_t to = std::min(storage->LastIndex(), from + kMaxKeptEntries);
    if (from <= to) {
      auto entries = storage->Entries(from, to + 1, UINT64_MAX);
      if (entries.ok()) {
        for (raft::Entry& e : *entries) {
          const auto key = std::make_pair(e.index, e.term);
          kept_.try_emplace(key, std::move(e));
        }
      }
    }
    for (std::uint64_t i = observer_->observed_index() + 1; i <= core.committed_index(); ++i) {
      auto term = storage->TermAt(i);
      auto it = term.ok() ? kept_.find({i, *term}) : kept_.end();
      if (it == kept_.end()) {
        if (InNoLog(i) && core.applied_index() >= i) {
          observer_->ResyncFrom(core.state_machine());
          kept_.erase(kept_.begin(), kept_.upper_bound({observer_->observed_index(), UINT64_MAX}));
        }
        return;
      }
      observer_->Observe(it->second);
      kept_.erase(kept_.begin(), kept_.upper_bound({i, UINT64_MAX}));
    }
  }

  // True when no node's log holds index `i` (only snapshots cover it).
  bool InNoLog(std::uint64_t i) const {
    for (SimNodeId id : cluster_->node_ids()) {
      const storage::WalRaftStorage* s = cluster_->storage(id);
      if (s == nullptr || i >= s->FirstIndex()) return false;  // down, or has it
    }
    return true;
  }

  const SagaSimOptions& options_;
  Rng* const rng_;
  SagaLogObserver* const observer_;
  NodeCluster* cluster_ = nullptr;
  std::map<SimNodeId, PerNode> nodes_;
  std::vector<ClientSaga> clients_;
  SimTimeUs now_us_ = 0;
  std::uint64_t proposals_ = 0;
  bool late_enabled_ = options_.late_reports;
  std::vector<std::pair<SimTimeUs, std::string>> late_;  // by due time
  // Entries past the observer's index, by (index, term), from any node's log.
  std::map<std::pair<std::uint64_t, std::uint64_t>, raft::Entry> kept_;
  std::uint64_t dispatches_ = 0;
  std::uint64_t redispatches_ = 0;
  SagaSimResult result_;  // client and fault counters
  std::optional<SagaViolation> refusal_;
};

}  // namespace

namespace {

// The first violation of any checker, in a fixed order.
struct Verdict {
  std::string violated;
  std::string details;
};

std::optional<Verdict> FirstViolation(const ReplicaAgreement& agreement, const NodeCluster& cluster,
                                      const SagaLogObserver& observer, const SagaDriver& driver,
                                      const std::optional<SagaViolation>& history) {
  if (!agreement.ok()) {
    return Verdict{std::string(kRuleReplicasAgree),
                   agreement.violation().invariant + ": " + agreement.violation().details};
  }
  if (cluster.recovery_violation()) {
    return Verdict{cluster.recovery_violation()->invariant, cluster.recovery_violation()->details};
  }
  for (const auto* v : {&observer.violation(), &history, &driver.refusal()}) {
    if (*v) return Verdict{(*v)->rule, (*v)->Describe()};
  }
  return std::nullopt;
}

// Checks every up node's saga histories.
std::optional<SagaViolation> CheckReplicaHistories(const NodeCluster& cluster,
                                                   std::uint64_t* checks) {
  for (SimNodeId id : cluster.node_ids()) {
    const server::NodeCore* core = cluster.core(id);
    if (core == nullptr) continue;
    ++*checks;
    if (auto bad = CheckSagaTable(core->state_machine().sagas())) {
      bad->details = fmt::format("on node {}: {}", id, bad->details);
      return bad;
    }
  }
  return std::nullopt;
}

// Why the run has not finished, for a liveness report.
std::string DescribeUnfinished(const NodeCluster& cluster, const std::vector<PlannedSaga>& plan,
                               const SagaDriver& driver, const SagaLogObserver& observer) {
  std::string out = cluster.Describe();
  if (!driver.ClientsDone()) out += "; client requests still unanswered";
  const auto leader = cluster.Leader();
  if (!leader) return out + "; no leader";
  if (observer.observed_index() < cluster.core(*leader)->applied_index()) {
    out += fmt::format("; the observer read the committed log up to {} only",
                       observer.observed_index());
  }
  const rsm::SagaTable& table = cluster.core(*leader)->state_machine().sagas();
  int shown = 0;
  for (const PlannedSaga& p : plan) {
    const rsm::SagaInstance* instance = table.Find(p.id);
    if (instance != nullptr && instance->finished()) continue;
    if (++shown > 3) break;
    if (instance == nullptr) {
      out += fmt::format("; saga '{}' unknown to the leader", p.id);
      continue;
    }
    out += fmt::format("; saga '{}' running ({} wanted attempts, {} timers)", p.id,
                       instance->wanted.size(), instance->timers.size());
  }
  return out;
}

bool AllFinished(const rsm::SagaTable& table, const std::vector<PlannedSaga>& plan) {
  return std::all_of(plan.begin(), plan.end(), [&](const PlannedSaga& p) {
    const rsm::SagaInstance* instance = table.Find(p.id);
    return instance != nullptr && instance->finished();
  });
}

// The end state: every replica has every saga, finished with the observer's
// outcome, and holds the observer's table byte for byte.
std::optional<Verdict> CheckFinalState(const NodeCluster& cluster, const SagaLogObserver& observer,
                                       const std::vector<PlannedSaga>& plan) {
  std::string expected;
  observer.table().EncodeTo(expected);
  for (SimNodeId id : cluster.node_ids()) {
    const server::NodeCore* core = cluster.core(id);
    if (core == nullptr) continue;
    const rsm::SagaTable& table = core->state_machine().sagas();
    for (const PlannedSaga& p : plan) {
      const rsm::SagaInstance* instance = table.Find(p.id);
      const rsm::SagaInstance* reference = observer.table().Find(p.id);
      if (instance == nullptr || !instance->finished()) {
        return Verdict{std::string(kRuleOneTerminalState),
                       fmt::format("saga '{}' is {} on node {} after the cluster settled", p.id,
                                   instance == nullptr ? "unknown" : "still running", id)};
      }
      if (reference == nullptr ||
          reference->orchestrator->outcome() != instance->orchestrator->outcome()) {
        return Verdict{
            std::string(kRuleOneTerminalState),
            fmt::format("saga '{}' ended {} on node {} but {} in the committed log", p.id,
                        saga::SagaOutcomeName(instance->orchestrator->outcome()), id,
                        reference == nullptr
                            ? "unknown"
                            : saga::SagaOutcomeName(reference->orchestrator->outcome()))};
      }
    }
    if (core->applied_index() != observer.observed_index()) {
      return Verdict{"simulator", fmt::format("node {} applied {} but the observer read {}", id,
                                              core->applied_index(), observer.observed_index())};
    }
    std::string encoded;
    table.EncodeTo(encoded);
    if (encoded != expected) {
      return Verdict{std::string(kRuleReplicasAgree),
                     fmt::format("node {}'s saga table at index {} differs from the one the "
                                 "committed log gives",
                                 id, core->applied_index())};
    }
  }
  return std::nullopt;
}

}  // namespace

Result<SagaInjectedBug> ParseSagaInjectedBug(std::string_view name) {
  if (name == "none") return SagaInjectedBug::kNone;
  if (name == "accept-stale-result") return SagaInjectedBug::kAcceptStaleResult;
  return InvalidArgument(
      fmt::format("--inject-bug: unknown bug '{}' (want accept-stale-result or none)", name));
}

std::string_view SagaInjectedBugName(SagaInjectedBug bug) {
  switch (bug) {
    case SagaInjectedBug::kNone:
      return "none";
    case SagaInjectedBug::kAcceptStaleResult:
      return "accept-stale-result";
  }
  return "unknown";
}

Status ParseSagaFaults(std::string_view list, SagaSimOptions* options) {
  if (list == "all") {
    options->faults = NodeFaultSet::All();
    options->late_reports = true;
    return Status::Ok();
  }
  options->late_reports = false;
  std::string rest;
  std::size_t start = 0;
  while (!list.empty() && start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view name = list.substr(start, comma - start);
    if (name == "late") {
      options->late_reports = true;
    } else {
      if (!rest.empty()) rest += ",";
      rest += name;
    }
    start = comma + 1;
  }
  auto faults = NodeFaultSet::Parse(rest);
  if (!faults.ok()) {
    return InvalidArgument(
        faults.status().message() +
        "; tri-sim saga also takes 'late' (delayed copies of dispatches and results)");
  }
  options->faults = *faults;
  return Status::Ok();
}

std::string SagaFaultsToString(const SagaSimOptions& o) {
  const std::string node = o.faults.ToString();
  if (node == "all" && o.late_reports) return "all";
  if (!o.late_reports) return node;
  if (node == "none") return "late";
  if (node == "all") return "loss,dup,reorder,partition,crash,disk,drift,late";
  return node + ",late";
}

SagaSimResult RunSagaSim(const SagaSimOptions& options) {
  SagaSimResult result;
  SeededRng rng(options.seed);
  // The plan has a generator of its own: the same sagas whatever the faults.
  SeededRng plan_rng(options.seed * 0x9E3779B97F4A7C15ull + 1);
  SagaWorkloadOptions wo;
  wo.sagas = options.sagas;
  wo.max_steps = options.max_steps;
  wo.start_window_us = std::max<SimTimeUs>(1'000'000, SimTimeUs{options.sagas} * 60'000);
  const std::vector<PlannedSaga> plan = PlanSagaWorkload(wo, plan_rng);
  for (const PlannedSaga& p : plan)
    result.steps += p.steps;

  NodeSimOptions no;
  no.seed = options.seed;
  no.nodes = options.nodes;
  no.faults = options.faults;
  no.snapshot_count = options.snapshot_count;
  no.settle_bound_ms = options.settle_bound_ms;
  no.verbose = options.verbose;
  std::vector<SimNodeId> ids;
  for (int i = 1; i <= options.nodes; ++i)
    ids.push_back(static_cast<SimNodeId>(i));
  WorkloadConfig no_kv;  // the KV workload stays idle
  no_kv.clients = 1;
  no_kv.total_ops = 0;
  Workload kv(no_kv, ids, &rng);
  ReplicaAgreement agreement;
  SerializableReadCheck serializable;
  SagaLogObserver observer(MakeSagaOptions(options));
  SagaDriver driver(options, &rng, plan, &observer);
  NodeCluster cluster(no, &rng, &kv, &agreement, &serializable, &driver);
  driver.SetCluster(&cluster);
  NodeNemesis nemesis(no, &rng, &cluster);

  SimTimeUs now = 0;
  std::optional<SagaViolation> history;
  SimTimeUs next_history_us = kHistoryCheckUs;
  auto failed = [&] {
    return FirstViolation(agreement, cluster, observer, driver, history).has_value();
  };
  auto step = [&] {
    now += kStepUs;
    cluster.Step(now);
    if (now >= next_history_us && !history) {
      history = CheckReplicaHistories(cluster, &result.history_checks);
      next_history_us = now + kHistoryCheckUs;
    }
  };

  // Phase 1: the sagas start and run under faults.
  const SimTimeUs faults_until = wo.start_window_us + wo.max_abort_delay_us + 500'000;
  while (!failed() && now < faults_until) {
    nemesis.Step(now);
    driver.Tick(now);
    step();
  }

  // Phase 2: every fault stops; the clients finish and every saga must end.
  if (!failed()) {
    nemesis.StopAll(now);
    driver.StopLateReports();
    const SimTimeUs stopped_at = now;
    const SimTimeUs bound_us = static_cast<SimTimeUs>(options.settle_bound_ms) * 1000;
    auto done = [&] {
      if (!driver.ClientsDone() || !cluster.Settled()) return false;
      const server::NodeCore* leader = cluster.core(*cluster.Leader());
      return AllFinished(leader->state_machine().sagas(), plan) &&
             observer.observed_index() >= leader->applied_index();
    };
    while (!failed() && now - stopped_at <= bound_us && !done()) {
      nemesis.RestartDue(now);
      driver.Tick(now);
      step();
    }
    if (!failed() && !done()) {
      result.ok = false;
      result.violated = "liveness";
      result.details =
          fmt::format("{} ms after every fault stopped, not every saga has finished everywhere: {}",
                      options.settle_bound_ms, DescribeUnfinished(cluster, plan, driver, observer));
    }
  }

  if (!failed() && result.ok) {
    cluster.RecordAllStateHashes();
    history = CheckReplicaHistories(cluster, &result.history_checks);
  }
  if (auto v = FirstViolation(agreement, cluster, observer, driver, history)) {
    result.ok = false;
    result.violated = v->violated;
    result.details = v->details;
  } else if (result.ok) {
    if (auto v = CheckFinalState(cluster, observer, plan)) {
      result.ok = false;
      result.violated = v->violated;
      result.details = v->details;
    }
  }

  result.simulated_us = now;
  result.committed_index = agreement.highest_committed();
  result.max_term = cluster.max_term();
  for (const auto& [id, instance] : observer.table().sagas())
    ++result.outcomes[saga::SagaOutcomeName(instance->orchestrator->outcome())];
  driver.AddStats(result);
  result.results_applied = observer.stats().results_applied;
  result.stale_results_refused = observer.stats().stale_results_refused;
  result.observer_resyncs = observer.stats().resyncs;
  result.hashes_compared = agreement.hashes_compared();
  result.crashes = cluster.crashes();
  result.fatal_stops = cluster.fatal_stops();
  result.partitions = nemesis.partitions();
  return result;
}

namespace {

std::string ReplayArguments(const SagaSimOptions& o) {
  std::string args = fmt::format("--seed {} --nodes {} --sagas {} --max-steps {} --faults {}",
                                 o.seed, o.nodes, o.sagas, o.max_steps, SagaFaultsToString(o));
  if (o.bug != SagaInjectedBug::kNone) {
    args += fmt::format(" --inject-bug {}", SagaInjectedBugName(o.bug));
  }
  return args;
}

}  // namespace

std::string FormatSagaSimResult(const SagaSimOptions& o, const SagaSimResult& r) {
  std::string outcomes;
  for (const auto& [name, count] : r.outcomes)
    outcomes += fmt::format("{}{} {}", outcomes.empty() ? "" : ", ", name, count);
  const std::string head = fmt::format("saga seed {} nodes {} sagas {} max-steps {} faults {}{}",
                                       o.seed, o.nodes, o.sagas, o.max_steps, SagaFaultsToString(o),
                                       o.bug == SagaInjectedBug::kNone
                                           ? std::string()
                                           : fmt::format(" bug {}", SagaInjectedBugName(o.bug)));
  const std::string stats = fmt::format(
      "sim {:.2f}s, steps {}, sagas: {}; entries {}, term {}, definitions {}, starts sent {}, "
      "aborts {} (too "
      "late {}), dispatches {} (re-dispatched {}), results applied {}, stale results refused {}, "
      "late reports {}, crashes {} (storage stops {}), partitions {}; checks: hashes {}, "
      "replica histories {}, observer resyncs {}",
      r.simulated_us / 1e6, r.steps, outcomes.empty() ? "none" : outcomes, r.committed_index,
      r.max_term, r.definitions, r.starts_sent, r.aborts_accepted, r.aborts_too_late, r.dispatches,
      r.redispatches, r.results_applied, r.stale_results_refused, r.late_reports_sent, r.crashes,
      r.fatal_stops, r.partitions, r.hashes_compared, r.history_checks, r.observer_resyncs);
  if (r.ok) return fmt::format("{}: ok ({})", head, stats);
  return fmt::format("{}: FAILED {}: {}\n  ({})\n  replay: tri-sim saga {}", head, r.violated,
                     r.details, stats, ReplayArguments(o));
}

}  // namespace tri::sim
