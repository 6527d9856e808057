#include "sim/coord_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "rsm/command.h"
#include "server/barrier_timer.h"
#include "server/lease_executor.h"
#include "sim/coord_checkers.h"
#include "sim/coord_workload.h"
#include "sim/node_checkers.h"
#include "sim/node_cluster.h"
#include "sim/node_nemesis.h"
#include "sim/workload.h"

namespace tri::sim {
namespace {

constexpr SimTimeUs kStepUs = 1'000;
// The log keeps every entry (no compaction below a snapshot): the observer
// reads every committed entry from some node's log.
constexpr std::uint64_t kCatchupEntries = std::uint64_t{1} << 30;
// The observer keeps at most this many entries past its index from one read.
constexpr std::uint64_t kMaxKeptEntries = 4096;

rsm::LeaseOptions MakeLeaseOptions(const CoordSimOptions& o) {
  rsm::LeaseOptions l;
  l.testing_bugs.ignore_keep_alives = o.bug == CoordInjectedBug::kIgnoreKeepAlives;
  return l;
}

rsm::CoordinationOptions MakeCoordinationOptions(const CoordSimOptions& o) {
  rsm::CoordinationOptions c;
  c.locks.testing_bugs.grant_to_last_waiter = o.bug == CoordInjectedBug::kGrantToLastWaiter;
  c.locks.testing_bugs.stale_fence_on_handover = o.bug == CoordInjectedBug::kStaleFenceOnHandover;
  return c;
}

rsm::KvOptions MakeKvOptions() {
  rsm::KvOptions kv;
  kv.watch_events.record = true;
  return kv;
}

// The node side: on every node the leader's lease executor and barrier timer,
// the watcher, the clients' requests; the committed log fed to the observer.
class CoordDriver final : public NodeClusterHooks, public CoordRequestSink {
 public:
  CoordDriver(const CoordSimOptions& options, Rng* rng, CoordLogObserver* observer,
              CoordHistoryChecker* checker)
      : options_(options), rng_(rng), observer_(observer), checker_(checker) {}

  void SetCluster(NodeCluster* cluster) { cluster_ = cluster; }

  // NodeClusterHooks.
  void ConfigureNode(SimNodeId, server::NodeCoreOptions& o) override {
    o.state_machine = MakeKvOptions();
    o.leases = MakeLeaseOptions(options_);
    o.coordination = MakeCoordinationOptions(options_);
    o.snapshot_catchup_entries = kCatchupEntries;
  }
  void OnNodeUp(SimNodeId id) override {
    PerNode& n = nodes_[id];
    n.proposer = std::make_unique<Proposer>(this, id);
    n.executor = std::make_unique<server::LeaseExecutor>(
        server::LeaseExecutorOptions{}, n.proposer.get(), [this, id]() -> const rsm::LeaseTable& {
          return cluster_->core(id)->state_machine().leases();
        });
    n.barrier_timer = std::make_unique<server::BarrierTimer>(
        [this, id](std::string payload, ExecutorDone done) {
          ProposeFromExecutor(id, rsm::CommandKind::kBarrier, std::move(payload), std::move(done));
        },
        [this, id]() -> const rsm::BarrierTable& {
          return cluster_->core(id)->state_machine().barriers();
        });
    // A watcher reconnects: it resumes from history after what it received.
    n.watcher_resuming = true;
    checker_->WatcherStarts(WatcherName(id));
  }
  void OnNodeDown(SimNodeId id) override {
    PerNode& n = nodes_[id];
    n.executor_pending.clear();  // the executor's callbacks die with it
    n.executor.reset();
    n.barrier_timer.reset();
    n.proposer.reset();
    auto pending = std::move(n.client_pending);
    n.client_pending.clear();
    for (auto& [token, done] : pending)
      done(Unavailable("the member went down"), nullptr);
  }
  void OnProcessed(SimNodeId id, const server::NodeCore& core) override { ReadCommitted(id, core); }
  bool AfterProcess(SimNodeId id, server::NodeCore& core, std::uint64_t local_ms) override {
    PerNode& n = nodes_.at(id);
    const std::uint64_t before = proposals_;
    n.executor->Round(core.LeaderReady(), core.term(), local_ms);
    n.barrier_timer->Round(core.LeaderReady(), core.term(), local_ms);
    Watch(id, n, core);
    return proposals_ != before;
  }
  void OnCompletion(SimNodeId id, server::Completion c) override {
    PerNode& n = nodes_.at(id);
    const rsm::Applied* applied = c.applied ? &*c.applied : nullptr;
    for (auto* pending : {&n.executor_pending, &n.client_pending}) {
      if (auto it = pending->find(c.token); it != pending->end()) {
        auto done = std::move(it->second);
        pending->erase(it);
        return done(c.status, applied);
      }
    }
  }
  std::uint64_t NextWakeMs(SimNodeId id) const override {
    auto it = nodes_.find(id);
    if (it == nodes_.end() || !it->second.executor) return UINT64_MAX;
    std::uint64_t wake = it->second.executor->next_wake_ms();
    wake = std::min(wake, it->second.barrier_timer->next_wake_ms());
    return wake;
  }

  // CoordRequestSink: a client request through a random up member.
  bool Send(rsm::CommandKind kind, std::string payload, RequestDone done) override {
    std::vector<SimNodeId> up;
    for (SimNodeId id : cluster_->node_ids()) {
      if (cluster_->IsUp(id)) up.push_back(id);
    }
    if (up.empty()) return false;
    const SimNodeId id = up[rng_->Uniform(up.size())];
    const server::RequestToken token = cluster_->NewToken();
    nodes_.at(id).client_pending.emplace(token, std::move(done));
    cluster_->mutable_core(id)->Propose(token, kind, std::move(payload));
    cluster_->MarkDirty(id);
    return true;
  }
  const rsm::StateMachine* AnyReplica() override {
    std::vector<SimNodeId> up;
    for (SimNodeId id : cluster_->node_ids()) {
      if (cluster_->IsUp(id)) up.push_back(id);
    }
    if (up.empty()) return nullptr;
    return &cluster_->core(up[rng_->Uniform(up.size())])->state_machine();
  }

  // Judges what the watchers received against the committed log read so far.
  void CheckWatchers(bool final) {
    checker_->CheckWatchers(observer_->reference().store().current_revision(), final);
  }
  const std::optional<CoordViolation>& simulator_violation() const { return simulator_; }

 private:
  using ExecutorDone = std::function<void(Status, const rsm::Applied*)>;

  class Proposer final : public server::LeaseProposer {
   public:
    Proposer(CoordDriver* driver, SimNodeId id) : driver_(driver), id_(id) {}
    void ProposeLease(std::string payload, ExecutorDone done) override {
      driver_->ProposeFromExecutor(id_, rsm::CommandKind::kLease, std::move(payload),
                                   std::move(done));
    }

   private:
    CoordDriver* driver_;
    SimNodeId id_;
  };

  struct PerNode {
    std::unique_ptr<Proposer> proposer;
    std::unique_ptr<server::LeaseExecutor> executor;
    std::unique_ptr<server::BarrierTimer> barrier_timer;
    std::map<server::RequestToken, ExecutorDone> executor_pending;
    std::map<server::RequestToken, RequestDone> client_pending;
    // The watcher: the last revision it received; resuming after a restart
    // (or an overflow of the event buffer) until the store has reached it.
    std::int64_t watcher_received = 0;
    bool watcher_resuming = false;
    std::uint64_t watcher_epoch = 0;
  };

  static std::string WatcherName(SimNodeId id) { return fmt::format("node-{}", id); }

  // A proposal of the leader's lease executor or barrier timer.
  void ProposeFromExecutor(SimNodeId id, rsm::CommandKind kind, std::string payload,
                           ExecutorDone done) {
    ++proposals_;
    const server::RequestToken token = cluster_->NewToken();
    nodes_.at(id).executor_pending.emplace(token, std::move(done));
    cluster_->mutable_core(id)->Propose(token, kind, std::move(payload));
    cluster_->MarkDirty(id);
  }

  // Node `id`'s watcher: the events its state machine applied since the last
  // round, or, while resuming, the store's history once it has caught up.
  void Watch(SimNodeId id, PerNode& n, server::NodeCore& core) {
    rsm::TakenEvents taken = core.mutable_state_machine().TakeEvents();
    // As the node's watch hub does: an overflow, or a snapshot that replaced
    // the state (its restore epoch moved), may have lost live events.
    const std::uint64_t epoch = core.state_machine().restore_epoch();
    const bool replaced =
        epoch != n.watcher_epoch && options_.bug != CoordInjectedBug::kWatcherIgnoresRestoreEpoch;
    if (taken.dropped || replaced) n.watcher_resuming = true;
    n.watcher_epoch = epoch;
    const rsm::MvccStore& store = core.state_machine().store();
    if (n.watcher_resuming) {
      // Events of entries replayed after a restart (already received) and any
      // buffered ones are superseded by the history read below.
      if (store.current_revision() < n.watcher_received) return;
      rsm::EventsQuery query;
      query.key = std::string(1, '\0');
      query.range_end = std::string(1, '\0');
      query.from_revision = n.watcher_received + 1;
      auto page = store.Events(query);
      if (!page.ok()) {
        if (!simulator_) {
          simulator_ = CoordViolation{
              std::string(kRuleWatchOrder),
              fmt::format("watcher {} cannot resume after revision {}: {}", WatcherName(id),
                          n.watcher_received, page.error().message)};
        }
        return;
      }
      taken.events = std::move(page->events);
      n.watcher_resuming = false;
    }
    if (taken.events.empty()) return;
    n.watcher_received = taken.events.back().revision();
    checker_->WatcherReceived(WatcherName(id), taken.events);
  }

  // Feeds the observer the committed log in order, keeping every entry past
  // what it read as soon as some node holds it, by (index, term) (Raft's log
  // matching makes the kept entry of the committed term the committed one).
  void ReadCommitted(SimNodeId id, const server::NodeCore& core) {
    const storage::WalRaftStorage* storage = cluster_->storage(id);
    if (storage == nullptr) return;
    const std::uint64_t from = std::max(observer_->observed_index() + 1, storage->FirstIndex());
    const std::uint64_t to = std::min(storage->LastIndex(), from + kMaxKeptEntries);
    if (from <= to) {
      auto entries = storage->Entries(from, to + 1, UINT64_MAX);
      if (entries.ok()) {
        for (raft::Entry& e : *entries)
          kept_.try_emplace(std::make_pair(e.index, e.term), std::move(e));
      }
    }
    const std::uint64_t before = observer_->observed_index();
    for (std::uint64_t i = observer_->observed_index() + 1; i <= core.committed_index(); ++i) {
      auto term = storage->TermAt(i);
      auto it = term.ok() ? kept_.find({i, *term}) : kept_.end();
      if (it == kept_.end()) {
        if (InNoLog(i) && core.applied_index() >= i) {
          observer_->ResyncFrom(core.state_machine());
          kept_.erase(kept_.begin(), kept_.upper_bound({observer_->observed_index(), UINT64_MAX}));
        }
        break;
      }
      observer_->Observe(it->second);
      kept_.erase(kept_.begin(), kept_.upper_bound({i, UINT64_MAX}));
    }
    if (observer_->observed_index() != before) CheckWatchers(false);
  }

  // True when no node's log holds index `i` (only snapshots cover it).
  bool InNoLog(std::uint64_t i) const {
    for (SimNodeId id : cluster_->node_ids()) {
      const storage::WalRaftStorage* s = cluster_->storage(id);
      if (s == nullptr || i >= s->FirstIndex()) return false;  // down, or has it
    }
    return true;
  }

  const CoordSimOptions& options_;
  Rng* const rng_;
  CoordLogObserver* const observer_;
  CoordHistoryChecker* const checker_;
  NodeCluster* cluster_ = nullptr;
  std::map<SimNodeId, PerNode> nodes_;
  std::uint64_t proposals_ = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, raft::Entry> kept_;
  std::optional<CoordViolation> simulator_;
};

struct Verdict {
  std::string violated;
  std::string details;
};

std::optional<Verdict> FirstViolation(const ReplicaAgreement& agreement, const NodeCluster& cluster,
                                      const CoordHistoryChecker& checker, const CoordDriver& driver,
                                      const CoordClients& clients) {
  if (!agreement.ok()) {
    return Verdict{std::string(kRuleReplicaStates),
                   agreement.violation().invariant + ": " + agreement.violation().details};
  }
  if (cluster.recovery_violation()) {
    return Verdict{cluster.recovery_violation()->invariant, cluster.recovery_violation()->details};
  }
  for (const auto* v : {&checker.violation(), &driver.simulator_violation(), &clients.refusal()}) {
    if (*v) return Verdict{(*v)->rule, (*v)->details};
  }
  return std::nullopt;
}

// The end: every replica at the reference's index with the reference's state.
std::optional<Verdict> CheckFinalState(const NodeCluster& cluster,
                                       const CoordLogObserver& observer) {
  const std::uint64_t expected = observer.reference().StateHash();
  for (SimNodeId id : cluster.node_ids()) {
    const server::NodeCore* core = cluster.core(id);
    if (core == nullptr) continue;
    if (core->applied_index() != observer.observed_index()) {
      return Verdict{"simulator", fmt::format("node {} applied {} but the observer read {}", id,
                                              core->applied_index(), observer.observed_index())};
    }
    if (core->state_machine().StateHash() != expected) {
      return Verdict{std::string(kRuleReplicaStates),
                     fmt::format("node {}'s state at index {} differs from the one the committed "
                                 "log gives",
                                 id, core->applied_index())};
    }
  }
  return std::nullopt;
}

}  // namespace

Result<CoordInjectedBug> ParseCoordInjectedBug(std::string_view name) {
  if (name == "none") return CoordInjectedBug::kNone;
  if (name == "ignore-keep-alives") return CoordInjectedBug::kIgnoreKeepAlives;
  if (name == "grant-to-last-waiter") return CoordInjectedBug::kGrantToLastWaiter;
  if (name == "stale-fence-on-handover") return CoordInjectedBug::kStaleFenceOnHandover;
  if (name == "watcher-ignores-restore-epoch") {
    return CoordInjectedBug::kWatcherIgnoresRestoreEpoch;
  }
  return InvalidArgument(
      fmt::format("--inject-bug: unknown bug '{}' (want ignore-keep-alives, grant-to-last-waiter, "
                  "stale-fence-on-handover, watcher-ignores-restore-epoch or none)",
                  name));
}

std::string_view CoordInjectedBugName(CoordInjectedBug bug) {
  switch (bug) {
    case CoordInjectedBug::kNone:
      return "none";
    case CoordInjectedBug::kIgnoreKeepAlives:
      return "ignore-keep-alives";
    case CoordInjectedBug::kGrantToLastWaiter:
      return "grant-to-last-waiter";
    case CoordInjectedBug::kStaleFenceOnHandover:
      return "stale-fence-on-handover";
    case CoordInjectedBug::kWatcherIgnoresRestoreEpoch:
      return "watcher-ignores-restore-epoch";
  }
  return "unknown";
}

CoordSimResult RunCoordSim(const CoordSimOptions& options) {
  CoordSimResult result;
  SeededRng rng(options.seed);

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
  CoordHistoryChecker checker;
  CoordLogObserver observer(MakeKvOptions(), MakeLeaseOptions(options),
                            MakeCoordinationOptions(options), &checker);
  CoordDriver driver(options, &rng, &observer, &checker);
  // The clients have a generator of their own: the same plan whatever the faults.
  SeededRng client_rng(options.seed * 0x9E3779B97F4A7C15ull + 3);
  CoordWorkloadOptions wo;
  wo.clients = options.clients;
  wo.locks = options.locks;
  wo.barriers = options.barriers;
  wo.duration_us = static_cast<SimTimeUs>(options.duration_ms) * 1000;
  CoordClients clients(wo, &client_rng, &driver);
  NodeCluster cluster(no, &rng, &kv, &agreement, &serializable, &driver);
  driver.SetCluster(&cluster);
  NodeNemesis nemesis(no, &rng, &cluster);

  SimTimeUs now = 0;
  auto failed = [&] {
    return FirstViolation(agreement, cluster, checker, driver, clients).has_value();
  };
  auto step = [&] {
    now += kStepUs;
    cluster.Step(now);
  };

  // Phase 1: the clients work under faults.
  while (!failed() && now < wo.duration_us) {
    nemesis.Step(now);
    clients.Tick(now);
    step();
  }

  // Phase 2: the faults stop and the clients go on (leases expire now that
  // leaders stop changing, paused holders come back to a lock that passed on).
  if (!failed()) nemesis.StopAll(now);
  const SimTimeUs quiet_until = now + static_cast<SimTimeUs>(options.quiet_ms) * 1000;
  while (!failed() && now < quiet_until) {
    nemesis.RestartDue(now);
    clients.Tick(now);
    step();
  }

  // Phase 3: the clients stop too; the cluster must settle with every replica
  // and the observer at one index.
  if (!failed()) {
    clients.Stop();
    const SimTimeUs stopped_at = now;
    const SimTimeUs bound_us = static_cast<SimTimeUs>(options.settle_bound_ms) * 1000;
    auto done = [&] {
      if (!cluster.Settled()) return false;
      // The leader's lease executor may still propose (expiries): every
      // replica and the observer must stand at one index.
      for (SimNodeId id : cluster.node_ids()) {
        if (cluster.core(id)->applied_index() != observer.observed_index()) return false;
      }
      return true;
    };
    while (!failed() && now - stopped_at <= bound_us && !done()) {
      nemesis.RestartDue(now);
      step();
    }
    if (!failed() && !done()) {
      result.ok = false;
      result.violated = "liveness";
      result.details = fmt::format(
          "{} ms after every fault stopped the cluster has not settled (the observer read the "
          "committed log up to {}): {}",
          options.settle_bound_ms, observer.observed_index(), cluster.Describe());
    }
  }

  if (!failed() && result.ok) {
    cluster.RecordAllStateHashes();
    driver.CheckWatchers(/*final=*/true);
  }
  if (auto v = FirstViolation(agreement, cluster, checker, driver, clients)) {
    result.ok = false;
    result.violated = v->violated;
    result.details = v->details;
  } else if (result.ok) {
    if (auto v = CheckFinalState(cluster, observer)) {
      result.ok = false;
      result.violated = v->violated;
      result.details = v->details;
    }
  }

  const CoordStats& s = checker.stats();
  result.simulated_us = now;
  result.committed_index = agreement.highest_committed();
  result.max_term = cluster.max_term();
  result.entries = s.entries;
  result.leases_granted = s.leases_granted;
  result.keep_alives = s.keep_alives;
  result.leases_expired = s.leases_expired;
  result.leases_revoked = s.leases_revoked;
  result.grants = s.grants;
  result.handovers = s.handovers;
  result.fenced_writes = s.fenced_writes;
  result.fenced_writes_refused = clients.fenced_writes_refused();
  result.barriers_released = s.barriers_released;
  result.barriers_timed_out = s.barriers_timed_out;
  result.arrivals = s.arrivals;
  result.watch_events_checked = s.watch_events_checked;
  result.watch_resumes = s.watch_resumes;
  result.observer_resyncs = s.resyncs;
  result.hashes_compared = agreement.hashes_compared();
  result.crashes = cluster.crashes();
  result.fatal_stops = cluster.fatal_stops();
  result.partitions = nemesis.partitions();
  return result;
}

std::string FormatCoordSimResult(const CoordSimOptions& o, const CoordSimResult& r) {
  const std::string bug = o.bug == CoordInjectedBug::kNone
                              ? std::string()
                              : fmt::format(" --inject-bug {}", CoordInjectedBugName(o.bug));
  const std::string args = fmt::format(
      "--seed {} --nodes {} --clients {} --locks {} --barriers {} --duration-ms {} --quiet-ms {} "
      "--faults {}{}",
      o.seed, o.nodes, o.clients, o.locks, o.barriers, o.duration_ms, o.quiet_ms,
      o.faults.ToString(), bug);
  const std::string stats = fmt::format(
      "sim {:.2f}s, entries {}, term {}; leases granted {}, keep-alives {}, expired {}, revoked "
      "{}; lock grants {} (handed over {}), fenced writes {} (refused {}); barriers released {}, "
      "timed out {}, arrivals {}; watch events checked {} (resumes {}); crashes {} (storage stops "
      "{}), partitions {}; hashes compared {}, observer resyncs {}",
      r.simulated_us / 1e6, r.entries, r.max_term, r.leases_granted, r.keep_alives,
      r.leases_expired, r.leases_revoked, r.grants, r.handovers, r.fenced_writes,
      r.fenced_writes_refused, r.barriers_released, r.barriers_timed_out, r.arrivals,
      r.watch_events_checked, r.watch_resumes, r.crashes, r.fatal_stops, r.partitions,
      r.hashes_compared, r.observer_resyncs);
  if (r.ok) return fmt::format("coord {}: ok ({})", args, stats);
  return fmt::format("coord {}: FAILED {}: {}\n  ({})\n  replay: tri-sim coord {}", args,
                     r.violated, r.details, stats, args);
}

}  // namespace tri::sim
