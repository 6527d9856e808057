#include "sim/steal_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <queue>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "routing/steal_node.h"

namespace tri::sim {

namespace {

using routing::StealKind;
using routing::StealMessage;
using routing::StealNode;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

enum class EventKind : std::uint8_t { kTaskDone, kDeliver, kReturn, kWake };

struct Event {
  std::int64_t at_ms = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::kWake;
  std::uint32_t node = 0;
  std::uint32_t slot = 0;  // kDeliver / kReturn: the message's slot
  bool operator>(const Event& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
};

// One run of a workload over the cluster: with stealing or without.
class StealCluster {
 public:
  StealCluster(const StealSimOptions& options, const StealWorkloadSpec& spec, bool stealing,
               std::int64_t give_up_ms)
      : options_(options),
        spec_(spec),
        give_up_ms_(give_up_ms),
        network_rng_(options.seed ^ 0x5bd1e995ULL),
        policy_rng_(options.seed ^ 0x2545f4914f6cdd1dULL) {
    routing::StealOptions policy = options.policy;
    if (!stealing) {
      policy.max_inflight_steals = 0;  // static hashing: every task runs on its home
      policy.share_min_run_ms = 0;
    }
    policy.bugs.keep_granted_tasks = options.bug == StealInjectedBug::kKeepGrantedTasks;
    policy.bugs.grant_pinned_tasks = options.bug == StealInjectedBug::kGrantPinnedTasks;
    policy.bugs.grant_everything = options.bug == StealInjectedBug::kGrantEverything;
    policy.bugs.keep_offered_tasks = options.bug == StealInjectedBug::kKeepOfferedTasks;
    policy_ = policy;
    std::vector<routing::StealPeer> all;
    all.reserve(spec.nodes.size());
    for (const SimNode& n : spec.nodes)
      all.push_back({n.name, n.zone, n.speed});
    nodes_.reserve(spec.nodes.size());
    for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
      auto node = StealNode::Create(policy, all[i], &policy_rng_);
      TRI_ASSERT_MSG(node.ok(), "tri-sim steal: invalid policy options");
      std::vector<routing::StealPeer> peers = all;
      peers.erase(peers.begin() + static_cast<std::ptrdiff_t>(i));
      TRI_ASSERT(node->SetPeers(peers).ok());
      nodes_.push_back(std::move(*node));
    }
    running_.assign(nodes_.size(), false);
    wake_ms_.assign(nodes_.size(), kNever);
    starts_.assign(spec.tasks.size() + 1, 0);
  }

  StealRunResult Run() {
    SeededRng estimate_rng(options_.seed ^ 0x9e3779b97f4a7c15ULL);
    for (const SimTask& task : spec_.tasks) {
      if (longest_id_ == 0 || task.work > spec_.tasks[longest_id_ - 1].work) longest_id_ = task.id;
      std::uint64_t cost = task.work;
      if (options_.estimates == CostEstimates::kNone) cost = 0;
      if (options_.estimates == CostEstimates::kNoisy) {
        cost = static_cast<std::uint64_t>(static_cast<double>(task.work) *
                                          (0.5 + 1.5 * estimate_rng.NextDouble())) +
               1;
      }
      Status st = nodes_[task.home].Enqueue({task.id, cost, task.pinned}, 0);
      if (!st.ok()) {
        Fail("simulator", st.message());
        return result_;
      }
    }
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      Flush(i, std::nullopt);
      Pump(i);
    }
    while (result_.ok && completed_ < spec_.tasks.size() && !events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      now_ms_ = e.at_ms;
      if (now_ms_ > give_up_ms_) break;
      switch (e.kind) {
        case EventKind::kTaskDone:
          OnTaskDone(e.node);
          break;
        case EventKind::kDeliver:
          OnDeliver(e.slot);
          break;
        case EventKind::kReturn:
          OnReturn(e.slot);
          break;
        case EventKind::kWake:
          OnWake(e.node, e.at_ms);
          break;
      }
    }
    if (result_.ok && completed_ < spec_.tasks.size()) {
      std::uint64_t never = 0;
      for (std::size_t id = 1; id < starts_.size(); ++id)
        never += starts_[id] == 0 ? 1 : 0;
      Fail("task lost",
           fmt::format("{} of {} tasks never ran by {} ms", never, spec_.tasks.size(), now_ms_));
    }
    if (result_.ok) Audit();
    result_.makespan_ms = now_ms_;
    result_.tasks_run = completed_;
    for (const StealNode& n : nodes_) {
      result_.grants_returned += n.stats().grants_returned;
      result_.requests_timed_out += n.stats().requests_timed_out;
      result_.shares_declined += n.stats().shares_declined;
    }
    return result_;
  }

 private:
  void Fail(const std::string& rule, const std::string& details) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.violated = rule;
    result_.details = details;
  }

  void Schedule(std::int64_t at_ms, EventKind kind, std::uint32_t node, std::uint32_t slot = 0) {
    events_.push({at_ms, next_seq_++, kind, node, slot});
  }

  std::uint32_t IndexOf(const std::string& name) const {
    return static_cast<std::uint32_t>(std::stoul(name.substr(1)));
  }

  std::int64_t DelayMs(std::uint32_t from, std::uint32_t to) {
    return spec_.nodes[from].zone == spec_.nodes[to].zone ? network_rng_.Range(1, 3)
                                                          : network_rng_.Range(5, 15);
  }

  std::uint32_t Store(StealMessage m) {
    if (!free_slots_.empty()) {
      const std::uint32_t slot = free_slots_.back();
      free_slots_.pop_back();
      slots_[slot] = std::move(m);
      return slot;
    }
    slots_.push_back(std::move(m));
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }

  StealMessage Release(std::uint32_t slot) {
    StealMessage m = std::move(slots_[slot]);
    free_slots_.push_back(slot);
    return m;
  }

  // Sends node i's messages. `stealable_before`: the victim's stealable count
  // before the request its grant answers.
  void Flush(std::uint32_t i, std::optional<std::size_t> stealable_before) {
    for (StealMessage& m : nodes_[i].TakeMessages()) {
      ++result_.messages;
      const std::uint32_t to = IndexOf(m.to);
      if (m.kind == StealKind::kRequest) {
        ++result_.requests;
        if (spec_.nodes[to].zone == spec_.nodes[i].zone) ++result_.same_zone_requests;
      }
      if (m.kind == StealKind::kGrant) CheckGrant(i, m, stealable_before);
      if (m.kind == StealKind::kShare || m.kind == StealKind::kDecline) CheckShare(m);
      const std::int64_t at = now_ms_ + DelayMs(i, to);
      const bool lost = options_.loss > 0 && network_rng_.Bernoulli(options_.loss);
      if (lost && m.tasks.empty()) continue;  // a request or refusal vanishes
      const std::uint32_t slot = Store(std::move(m));
      Schedule(at, lost ? EventKind::kReturn : EventKind::kDeliver, to, slot);
    }
  }

  void CheckGrant(std::uint32_t victim, const StealMessage& m,
                  std::optional<std::size_t> stealable_before) {
    result_.tasks_moved += m.tasks.size();
    for (const routing::StealTask& t : m.tasks) {
      if (t.pinned) {
        Fail("pinned task moved",
             fmt::format("{} granted pinned task {} to {} at {} ms", m.from, t.id, m.to, now_ms_));
      }
    }
    const std::size_t half = stealable_before ? (*stealable_before + 1) / 2 : 0;
    if (m.tasks.size() > policy_.max_tasks_per_steal ||
        (stealable_before && m.tasks.size() > half)) {
      Fail("grant bound",
           fmt::format("{} granted {} tasks to {} at {} ms: {} stealable before, at most {} "
                       "(half rounded up, max_tasks_per_steal {})",
                       spec_.nodes[victim].name, m.tasks.size(), m.to, now_ms_,
                       stealable_before.value_or(0),
                       std::min<std::size_t>(half, policy_.max_tasks_per_steal),
                       policy_.max_tasks_per_steal));
    }
  }

  // An offer or a decline moves one unpinned task, offered at most
  // max_share_offers times.
  void CheckShare(const StealMessage& m) {
    if (m.kind == StealKind::kShare) result_.tasks_shared += m.tasks.size();
    for (const routing::StealTask& t : m.tasks) {
      if (t.pinned) {
        Fail("pinned task moved",
             fmt::format("{} handed pinned task {} to {} at {} ms", m.from, t.id, m.to, now_ms_));
      }
      if (t.offers == 0 || t.offers > policy_.max_share_offers) {
        Fail("share bound",
             fmt::format("{} handed task {} to {} at {} ms after {} offers, max {}", m.from, t.id,
                         m.to, now_ms_, t.offers, policy_.max_share_offers));
      }
    }
    if (m.tasks.size() != 1) {
      Fail("share bound", fmt::format("{} handed {} tasks to {} at {} ms in one message, not one",
                                      m.from, m.tasks.size(), m.to, now_ms_));
    }
  }

  // Starts a task on an idle node, sends what that caused, re-arms its timer.
  void Pump(std::uint32_t i) {
    StealNode& node = nodes_[i];
    if (!running_[i]) {
      if (std::optional<routing::StealTask> task = node.TakeNext(now_ms_)) {
        Start(i, *task);
      }
      Flush(i, std::nullopt);
    }
    if (node.inflight_steals() > policy_.max_inflight_steals) {
      Fail("in-flight bound", fmt::format("{} has {} steals in flight, max {}", node.name(),
                                          node.inflight_steals(), policy_.max_inflight_steals));
    }
    const std::int64_t deadline = node.NextDeadline();
    if (deadline < wake_ms_[i]) {
      wake_ms_[i] = deadline;
      Schedule(std::max(deadline, now_ms_), EventKind::kWake, i);
    }
  }

  void Start(std::uint32_t i, const routing::StealTask& task) {
    TRI_ASSERT(task.id >= 1 && task.id < starts_.size());
    const SimTask& spec_task = spec_.tasks[task.id - 1];
    if (++starts_[task.id] > 1) {
      Fail("task duplicated", fmt::format("task {} started a second time, on {} at {} ms", task.id,
                                          spec_.nodes[i].name, now_ms_));
    }
    if (spec_task.pinned && spec_task.home != i) {
      Fail("pinned task moved",
           fmt::format("pinned task {} of {} started on {} at {} ms", task.id,
                       spec_.nodes[spec_task.home].name, spec_.nodes[i].name, now_ms_));
    }
    if (task.id == longest_id_) {
      result_.longest_task_speed = spec_.nodes[i].speed;
      result_.longest_task_start_ms = now_ms_;
    }
    running_[i] = true;
    Schedule(now_ms_ + RunTimeMs(spec_task.work, spec_.nodes[i].speed), EventKind::kTaskDone, i);
  }

  void OnTaskDone(std::uint32_t i) {
    TRI_ASSERT(running_[i]);
    running_[i] = false;
    ++completed_;
    Pump(i);
  }

  void OnDeliver(std::uint32_t slot) {
    const StealMessage m = Release(slot);
    const std::uint32_t to = IndexOf(m.to);
    const std::size_t before = nodes_[to].queue().stealable();
    Status st = nodes_[to].Receive(m, now_ms_);
    if (!st.ok()) {
      if (m.tasks.empty()) {
        Fail("protocol", st.message());
        return;
      }
      // The transport hands a refused transfer back to its sender.
      const std::uint32_t from = IndexOf(m.from);
      Schedule(now_ms_ + DelayMs(to, from), EventKind::kReturn, from, Store(m));
    }
    Flush(to, m.kind == StealKind::kRequest ? std::optional<std::size_t>(before) : std::nullopt);
    Pump(to);
  }

  void OnReturn(std::uint32_t slot) {
    const StealMessage m = Release(slot);
    const std::uint32_t from = IndexOf(m.from);
    nodes_[from].Undeliverable(m, now_ms_);
    Flush(from, std::nullopt);
    Pump(from);
  }

  void OnWake(std::uint32_t i, std::int64_t at_ms) {
    if (at_ms < wake_ms_[i]) return;  // superseded: the node was woken since
    wake_ms_[i] = kNever;
    nodes_[i].Tick(now_ms_);
    Flush(i, std::nullopt);
    Pump(i);
  }

  // After the last task: nothing may be left anywhere.
  void Audit() {
    std::uint64_t left = 0;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      left += nodes_[i].queue().size() + (running_[i] ? 1 : 0);
    }
    while (!events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      if ((e.kind == EventKind::kDeliver || e.kind == EventKind::kReturn) &&
          !slots_[e.slot].tasks.empty()) {
        left += slots_[e.slot].tasks.size();
      }
    }
    if (left > 0) {
      Fail("task duplicated",
           fmt::format("every task ran, yet {} task copies are still queued or in transit", left));
    }
  }

  const StealSimOptions& options_;
  const StealWorkloadSpec& spec_;
  std::int64_t give_up_ms_;
  routing::StealOptions policy_;
  SeededRng network_rng_;
  SeededRng policy_rng_;
  std::vector<StealNode> nodes_;
  std::vector<bool> running_;
  std::vector<std::int64_t> wake_ms_;
  std::vector<std::uint32_t> starts_;
  std::vector<StealMessage> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t longest_id_ = 0;
  std::int64_t now_ms_ = 0;
  StealRunResult result_;
};

}  // namespace

Result<CostEstimates> ParseCostEstimates(const std::string& text) {
  if (text == "exact") return CostEstimates::kExact;
  if (text == "noisy") return CostEstimates::kNoisy;
  if (text == "none") return CostEstimates::kNone;
  return InvalidArgument("unknown --estimates '" + text + "' (exact, noisy, none)");
}

Result<StealInjectedBug> ParseStealInjectedBug(const std::string& text) {
  if (text == "none") return StealInjectedBug::kNone;
  if (text == "keep-granted-tasks") return StealInjectedBug::kKeepGrantedTasks;
  if (text == "grant-pinned-tasks") return StealInjectedBug::kGrantPinnedTasks;
  if (text == "grant-everything") return StealInjectedBug::kGrantEverything;
  if (text == "keep-offered-tasks") return StealInjectedBug::kKeepOfferedTasks;
  return InvalidArgument("unknown --inject-bug '" + text +
                         "' (keep-granted-tasks, grant-pinned-tasks, grant-everything, "
                         "keep-offered-tasks, none)");
}

StealSimResult RunStealSim(const StealSimOptions& options) {
  SeededRng workload_rng(options.seed);
  const StealWorkloadSpec spec = MakeStealWorkload(options.workload, options.shape, workload_rng);
  StealSimResult r;
  r.lower_bound_ms = spec.LowerBoundMs();
  r.total_work = spec.total_work;
  r.longest_work = spec.longest_work;
  r.fastest_speed = spec.fastest_speed;
  r.static_run = StealCluster(options, spec, /*stealing=*/false, kNever).Run();
  const double give_up =
      static_cast<double>(r.static_run.makespan_ms) * options.give_up_factor + 60'000.0;
  r.stealing_run =
      StealCluster(options, spec, /*stealing=*/true, static_cast<std::int64_t>(give_up)).Run();
  const StealRunResult& failed = !r.static_run.ok ? r.static_run : r.stealing_run;
  r.ok = failed.ok;
  r.violated = failed.violated;
  r.details = failed.details;
  return r;
}

std::string FormatStealSimResult(const StealSimOptions& o, const StealSimResult& r) {
  const auto ratio = [&](const StealRunResult& run) {
    return r.lower_bound_ms > 0 ? static_cast<double>(run.makespan_ms) / r.lower_bound_ms : 0.0;
  };
  std::string line = fmt::format(
      "steal seed={} workload={} nodes={} tasks={}: lower bound {:.0f} ms, static {} ms "
      "({:.2f}x), stealing {} ms ({:.2f}x), {} tasks moved, {} messages: ",
      o.seed, StealWorkloadName(o.workload), o.shape.nodes, o.shape.tasks, r.lower_bound_ms,
      r.static_run.makespan_ms, ratio(r.static_run), r.stealing_run.makespan_ms,
      ratio(r.stealing_run), r.stealing_run.tasks_moved, r.stealing_run.messages);
  if (r.ok) return line + "ok";
  line += "VIOLATION " + r.violated;
  if (!r.details.empty()) line += ": " + r.details;
  return line;
}

}  // namespace tri::sim
