#include "sim/sim_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "base/assert.h"

namespace tri::sim {
namespace {

constexpr std::string_view kProbePrefix = "probe:";

}  // namespace

struct SimCluster::Node {
  SimNodeId id = 0;
  bool up = false;
  raft::MemoryStorage storage;  // the disk (what Ready handling persisted)
  raft::MemoryStorage synced;   // kLazyFsync only: what truly reached the platter
  SeededRng rng;                // election jitter of the core
  TickClock clock;
  std::unique_ptr<raft::RawNode> raw;
  // Volatile, lost on a crash.
  KvStateMachine state_machine;
  raft::Index applied = 0;
  std::set<std::pair<std::uint32_t, std::uint64_t>> pending_writes;  // (client, seq)
  std::map<std::string, KvCommand> pending_reads;                    // ReadIndex context
  std::vector<raft::ReadState> read_states;                          // answered, waiting for apply
  std::vector<std::pair<KvCommand, KvResult>> immediate_answers;     // kStaleRead only
  raft::Index last_snapshot_index = 0;
  // Majority size and voters of the node's configuration as of its last Ready.
  std::size_t quorum = 1;
  std::set<raft::NodeId> voters;
  // The term in which the node was last seen leading, and its commit index at its
  // last Ready as that leader (the base of the next commit advance checked).
  raft::Term checked_leader_term = 0;
  raft::Index checked_leader_commit = 0;
  // The last append, heartbeat or snapshot chunk received (see NodeView).
  SimTimeUs leader_contact_us = -1;
  raft::NodeId leader_contact_from = raft::kNoNode;
  raft::Term leader_contact_term = 0;
  // The term the node last led, and which of its first steps in that term are still
  // to come (for set_new_leader_crash_probability).
  raft::Term leading_term = 0;
  bool first_append_pending = false;
  bool first_commit_pending = false;

  // A founding member gets the initial membership; a spare starts empty and joins later.
  Node(SimNodeId node_id, const raft::ConfState* founding, SeededRng node_rng, TickClock tick_clock)
      : id(node_id),
        storage(founding ? raft::MemoryStorage(*founding) : raft::MemoryStorage()),
        synced(storage),
        rng(node_rng),
        clock(tick_clock) {}
};

SimCluster::SimCluster(const RaftSimOptions& options, Rng* rng, Workload* workload,
                       RaftInvariants* invariants)
    : options_(options),
      rng_(rng),
      workload_(workload),
      invariants_(invariants),
      message_checks_(invariants),
      network_(
          [&] {
            std::vector<SimNodeId> ids;
            const int spares = options.faults.membership ? kSpareNodes : 0;
            for (int i = 1; i <= options.nodes + spares; ++i)
              ids.push_back(static_cast<SimNodeId>(i));
            return ids;
          }(),
          NetworkConfig{}, rng) {
  TRI_ASSERT(options_.nodes >= 1);
  raft::ConfState conf;
  for (int i = 1; i <= options_.nodes; ++i)
    conf.voters.insert(static_cast<raft::NodeId>(i));
  const int total = options_.nodes + (options_.faults.membership ? kSpareNodes : 0);
  for (int i = 1; i <= total; ++i) {
    const double drift =
        options_.faults.drift ? DriftFromUniform(rng_->NextDouble(), max_drift()) : 0.0;
    TickClock clock(options_.tick_us, drift, rng_->Range(0, options_.tick_us));
    SeededRng node_rng(rng_->Next());
    nodes_.push_back(std::make_unique<Node>(
        static_cast<SimNodeId>(i), i <= options_.nodes ? &conf : nullptr, node_rng, clock));
  }
  // Randomized knobs (FoundationDB's "buggify"): small messages and windows
  // exercise batching limits, flow control and partial appends.
  constexpr std::uint64_t kMsgSizes[] = {1 << 20, 4096, 200};
  constexpr std::uint32_t kInflight[] = {64, 4, 1};
  max_msg_size_bytes_ = kMsgSizes[rng_->Uniform(3)];
  max_inflight_msgs_ = kInflight[rng_->Uniform(3)];
  // Compaction in half the runs: lagging and restarted nodes then need snapshots.
  constexpr raft::Index kCompactEvery[] = {0, 0, 20, 100};
  compact_every_entries_ = kCompactEvery[rng_->Uniform(4)];
  compact_keep_entries_ = rng_->Bernoulli(0.5) ? 0 : 5;
  for (auto& n : nodes_)
    Restart(n->id, 0);
}

SimCluster::~SimCluster() = default;

double SimCluster::max_drift() const {
  if (!options_.lease_reads || options_.drift_beyond_lease_bound) return kMaxDrift;
  raft::Config config;
  config.election_ticks = options_.election_ticks;
  // 10% below the core's bound: tick periods are rounded to whole microseconds.
  return std::min(kMaxDrift, 0.9 * MaxDriftForRateRatio(raft::LeaseMaxClockRateRatio(config)));
}

SimCluster::Node& SimCluster::node(SimNodeId id) {
  TRI_ASSERT(id >= 1 && id <= nodes_.size());
  return *nodes_[id - 1];
}

const SimCluster::Node& SimCluster::node(SimNodeId id) const {
  TRI_ASSERT(id >= 1 && id <= nodes_.size());
  return *nodes_[id - 1];
}

bool SimCluster::IsUp(SimNodeId id) const {
  return node(id).up;
}

TickClock& SimCluster::clock(SimNodeId id) {
  return node(id).clock;
}

std::vector<SimNodeId> SimCluster::node_ids() const {
  std::vector<SimNodeId> ids;
  for (const auto& n : nodes_)
    ids.push_back(n->id);
  return ids;
}

std::optional<SimNodeId> SimCluster::Leader() const {
  std::optional<SimNodeId> best;
  raft::Term best_term = 0;
  for (const auto& n : nodes_) {
    if (n->up && n->raw->role() == raft::Role::kLeader && n->raw->term() >= best_term) {
      best = n->id;
      best_term = n->raw->term();
    }
  }
  return best;
}

void SimCluster::Crash(SimNodeId id) {
  Node& n = node(id);
  if (!n.up) return;
  ++crashes_;
  // Half the time the crash strikes after persisting a Ready but before its
  // messages leave and its entries are applied.
  if (rng_->Bernoulli(0.5) && n.raw->HasReady()) HandleReadies(n, 0, /*crash_midway=*/true);
  DropVolatileState(n);
}

void SimCluster::DropVolatileState(Node& n) {
  const SimNodeId id = n.id;
  n.raw.reset();
  n.up = false;
  network_.links().SetUp(id, false);
  n.state_machine = KvStateMachine();
  n.applied = 0;
  n.pending_writes.clear();
  n.pending_reads.clear();
  n.read_states.clear();
  n.immediate_answers.clear();
  if (options_.bug == InjectedBug::kLazyFsync) n.storage = n.synced;  // the page cache is gone
}

void SimCluster::Restart(SimNodeId id, SimTimeUs now_us) {
  Node& n = node(id);
  TRI_ASSERT(!n.up);
  if (options_.bug == InjectedBug::kForgetVote) {
    raft::HardState hs = n.storage.hard_state();
    hs.vote = raft::kNoNode;
    n.storage.SetHardState(hs);
  }
  raft::Config config;
  config.id = id;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.storage = &n.storage;
  config.rng = &n.rng;
  // The state machine restarts from the storage's snapshot and replays the log after it.
  auto snapshot_on_disk = n.storage.GetSnapshot();
  TRI_ASSERT(snapshot_on_disk.ok());
  config.applied = snapshot_on_disk->metadata.index;
  config.max_msg_size_bytes = max_msg_size_bytes_;
  config.max_inflight_msgs = max_inflight_msgs_;
  config.read_only =
      options_.lease_reads ? raft::ReadOnlyOption::kLeaseBased : raft::ReadOnlyOption::kSafe;
  config.pre_vote = true;
  config.check_quorum = true;
  config.testing_bugs.count_duplicate_votes = options_.bug == InjectedBug::kDoubleVote;
  config.testing_bugs.commit_previous_term_by_count = options_.bug == InjectedBug::kCommitByCount;
  config.testing_bugs.vote_not_persisted_same_term =
      options_.bug == InjectedBug::kVoteNotPersistedSameTerm;
  config.testing_bugs.accept_stale_term_append =
      options_.bug == InjectedBug::kAcceptStaleTermAppend;
  config.testing_bugs.heartbeat_no_timer_reset =
      options_.bug == InjectedBug::kHeartbeatNoTimerReset;
  config.testing_bugs.learners_count_for_commit =
      options_.bug == InjectedBug::kLearnersCountForCommit;
  config.testing_bugs.read_before_own_term_commit =
      options_.bug == InjectedBug::kReadBeforeOwnTermCommit;
  auto raw = raft::RawNode::Create(config);
  TRI_ASSERT_MSG(raw.ok(), "RawNode::Create failed on the simulator's storage");
  n.raw = std::move(raw).value();
  // The log starts after the storage's snapshot (a bootstrap snapshot, or one
  // received from a leader); the application state starts from its data.
  auto snapshot = n.storage.GetSnapshot();
  TRI_ASSERT(snapshot.ok());
  n.applied = snapshot->metadata.index;
  n.last_snapshot_index = snapshot->metadata.index;
  TRI_ASSERT_MSG(n.state_machine.Restore(snapshot->data), "a snapshot does not decode");
  n.voters = n.raw->status().conf_state.voters;
  n.quorum = n.voters.size() / 2 + 1;
  n.checked_leader_term = 0;
  n.leader_contact_us = -1;
  invariants_->ObserveRestart(id, n.storage.hard_state().commit);
  n.up = true;
  network_.links().SetUp(id, true);
  n.clock.ResumeAt(now_us + n.clock.period_us());
}

bool SimCluster::Submit(SimNodeId id, const KvCommand& command) {
  Node& n = node(id);
  if (!n.up) return false;
  if (command.kind == OpKind::kGet) {
    if (options_.bug == InjectedBug::kStaleRead) {
      n.immediate_answers.push_back(
          {command, KvResult{OpOutcome::kOk, n.state_machine.Get(command.key)}});
      return true;
    }
    std::string context =
        fmt::format("read:{}:{}:{}", command.client_id, command.seq, ++read_counter_);
    if (!n.raw->ReadIndex(context).ok()) return false;
    n.pending_reads.emplace(std::move(context), command);
    return true;
  }
  if (!n.raw->Propose(EncodeKvCommand(command)).ok()) return false;
  n.pending_writes.insert({command.client_id, command.seq});
  return true;
}

void SimCluster::Step(SimTimeUs now_us) {
  now_us_ = now_us;
  SimNetwork<raft::Message>::Delivery delivery;
  while (network_.PopDue(now_us, &delivery)) {
    Node& n = node(delivery.to);
    TRI_ASSERT(n.up);  // the network drops messages to down nodes
    message_checks_.ObserveDelivered(delivery.to, delivery.message);
    const raft::MessageType type = delivery.message.type;
    if (type == raft::MessageType::kApp || type == raft::MessageType::kHeartbeat ||
        type == raft::MessageType::kSnap) {
      n.leader_contact_us = now_us;
      n.leader_contact_from = delivery.message.from;
      n.leader_contact_term = delivery.message.term;
    }
    // An append from an older term must leave the node as it was.
    std::optional<raft::NodeStatus> before_stale_append;
    raft::Message stale_append;
    if (type == raft::MessageType::kApp && delivery.message.term < n.raw->term()) {
      before_stale_append = n.raw->status();
      stale_append.type = type;
      stale_append.from = delivery.message.from;
      stale_append.term = delivery.message.term;
    }
    const Status s = n.raw->Step(std::move(delivery.message));
    TRI_ASSERT_MSG(s.ok() || s.code() != StatusCode::kInternal, "RawNode::Step internal error");
    if (before_stale_append) {
      message_checks_.CheckStaleAppendIgnored(delivery.to, stale_append, *before_stale_append,
                                              n.raw->status());
    }
  }
  for (auto& n : nodes_) {
    if (!n->up) continue;
    while (n->clock.Due(now_us)) {
      n->raw->Tick();
      n->clock.OnTick();
    }
  }
  for (auto& n : nodes_) {
    if (!n->up) continue;
    HandleReadies(*n, now_us);
    if (!sudden_crashes_.empty() && sudden_crashes_.back() == n->id) {
      ++crashes_;
      DropVolatileState(*n);
      continue;
    }
    for (auto& [command, result] : n->immediate_answers) {
      workload_->OnResponse(command.client_id, command.seq, result, now_us);
    }
    n->immediate_answers.clear();
  }
}

void SimCluster::ObserveRole(Node& n) {
  if (n.raw->role() != raft::Role::kLeader) return;
  invariants_->ObserveLeaderIsVoter(n.id, n.raw->term(), n.raw->status().conf_state.IsVoter(n.id));
  invariants_->ObserveLeader(n.id, n.raw->term());
  invariants_->CheckLeaderCompleteness(n.id, n.raw->term(), n.storage);
}

bool SimCluster::SuddenLeaderCrash(Node& n, const raft::Ready& rd, raft::Index commit_before) {
  if (n.raw->role() != raft::Role::kLeader) return false;
  if (n.raw->term() != n.leading_term) {
    n.leading_term = n.raw->term();
    n.first_append_pending = true;
    n.first_commit_pending = true;
  }
  if (new_leader_crash_probability_ > 0) {
    if (n.first_append_pending && !rd.entries.empty()) {
      n.first_append_pending = false;
      if (rng_->Bernoulli(new_leader_crash_probability_)) return true;
    } else if (n.first_commit_pending && rd.hard_state && rd.hard_state->commit > commit_before) {
      n.first_commit_pending = false;
      if (rng_->Bernoulli(new_leader_crash_probability_)) return true;
    }
  }
  return leader_crash_after_append_probability_ > 0 && !rd.entries.empty() &&
         rng_->Bernoulli(leader_crash_after_append_probability_);
}

void SimCluster::HandleReadies(Node& n, SimTimeUs now_us, bool crash_midway) {
  while (n.raw->HasReady() && invariants_->ok()) {
    raft::Ready rd = n.raw->GetReady();
    const raft::Index commit_before = n.storage.hard_state().commit;
    // 1. Persist (snapshots are not produced in the simulator yet: no compaction).
    if (rd.snapshot) {
      const raft::Snapshot& snap = *rd.snapshot;
      const Status s = n.storage.ApplySnapshot(snap);
      TRI_ASSERT_MSG(s.ok(), "MemoryStorage::ApplySnapshot refused the core's snapshot");
      invariants_->ObserveSnapshotInstalled(n.id, snap.metadata.index, snap.metadata.term);
      ++snapshots_installed_;
    }
    if (!rd.entries.empty()) {
      const Status s = n.storage.Append(rd.entries);
      TRI_ASSERT_MSG(s.ok(), "MemoryStorage::Append refused the core's entries");
      invariants_->ObservePersisted(n.id, rd.entries, n.storage);
    }
    if (rd.hard_state) {
      raft::HardState hs = *rd.hard_state;
      n.storage.SetHardState(hs);
      invariants_->ObserveHardState(n.id, hs);
      // The core applies membership changes while handing out committed entries
      // and may then commit more under the new configuration, so entries newly
      // committed in this Ready were decided under the old or the new one.
      const std::size_t quorum =
          rd.conf_state ? std::min(n.quorum, rd.conf_state->voters.size() / 2 + 1) : n.quorum;
      invariants_->ObserveCommit(n.id, hs.term, hs.commit, n.storage, quorum);
    }
    ObserveRole(n);
    const std::set<raft::NodeId>& voters_now = rd.conf_state ? rd.conf_state->voters : n.voters;
    CheckLeaderReady(n, rd, voters_now);
    if (crash_midway) return;
    if (SuddenLeaderCrash(n, rd, commit_before)) {
      // The leader dies with entries or a commit index only it has (Figure 8).
      sudden_crashes_.push_back(n.id);
      return;
    }
    // 2. Send, each message checked against what its sender made durable.
    const raft::MemoryStorage& disk = durable(n);
    const SenderView sender{
        n.id,          &disk,         disk.hard_state(),
        n.raw->role(), n.raw->term(), voters_now.size() == 1 && voters_now.count(n.id) == 1};
    for (raft::Message& m : rd.messages) {
      const SimNodeId to = m.to;
      message_checks_.CheckSend(sender, m);
      if (m.type == raft::MessageType::kVoteResp && !m.reject) recent_voters_.push_back(n.id);
      if (m.type == raft::MessageType::kVote || m.type == raft::MessageType::kPreVote) {
        campaigns_.push_back(Campaign{n.id, m.type, m.term});
      }
      if (m.type == raft::MessageType::kTimeoutNow) last_timeout_now_us_ = now_us;
      network_.Send(n.id, to, std::move(m), now_us);
    }
    // 3. Apply and answer.
    if (rd.snapshot && rd.snapshot->metadata.index > n.applied) {
      TRI_ASSERT_MSG(n.state_machine.Restore(rd.snapshot->data), "a snapshot does not decode");
      n.applied = rd.snapshot->metadata.index;
      n.last_snapshot_index = n.applied;
    }
    for (const raft::Entry& e : rd.committed_entries) {
      invariants_->ObserveApplied(n.id, e);
      Apply(n, e);
    }
    for (raft::ReadState& rs : rd.read_states)
      n.read_states.push_back(std::move(rs));
    n.raw->Advance();
    if (rd.conf_state) {
      n.voters = rd.conf_state->voters;
      n.quorum = n.voters.size() / 2 + 1;
    }
    ServeReads(n);
    MaybeCompact(n);
  }
}

const raft::MemoryStorage& SimCluster::durable(const Node& n) const {
  return options_.bug == InjectedBug::kLazyFsync ? n.synced : n.storage;
}

void SimCluster::CheckLeaderReady(Node& n, const raft::Ready& rd,
                                  const std::set<raft::NodeId>& voters) {
  if (n.raw->role() != raft::Role::kLeader) return;
  const raft::Term term = n.raw->term();
  const raft::Index commit = n.storage.hard_state().commit;
  if (n.checked_leader_term != term) message_checks_.CheckElected(n.id, term, n.voters, voters);
  // The first Ready of a leadership only sets the base: a commit index reached as a
  // follower (in the same Ready) is not the leader's doing.
  if (n.checked_leader_term == term && commit > n.checked_leader_commit) {
    invariants_->CheckLeaderCommit(n.id, term, n.checked_leader_commit, commit, n.storage, n.voters,
                                   voters, DurableStorages());
  }
  n.checked_leader_term = term;
  n.checked_leader_commit = commit;
  const bool sole_voter = voters.size() == 1 && voters.count(n.id) == 1;
  for (const raft::ReadState& rs : rd.read_states) {
    invariants_->CheckLeaderRead(n.id, term, rs.index, n.storage, sole_voter);
  }
}

void SimCluster::Apply(Node& n, const raft::Entry& e) {
  TRI_ASSERT(e.index == n.applied + 1);
  n.applied = e.index;
  if (e.type != raft::EntryType::kNormal || e.data.empty()) return;
  if (std::string_view(e.data).substr(0, kProbePrefix.size()) == kProbePrefix) {
    const std::uint64_t probe = std::stoull(e.data.substr(kProbePrefix.size()));
    probe_index_.emplace(probe, e.index);
    const std::uint64_t digest = n.state_machine.Digest();
    auto [it, inserted] = probe_digest_.emplace(probe, digest);
    if (!inserted && it->second != digest) {
      invariants_->ObserveDivergence(
          fmt::format("node {} reached probe {} (index {}) with a state that differs from "
                      "another node's at the same entry",
                      n.id, probe, e.index));
    }
    return;
  }
  KvCommand command;
  TRI_ASSERT_MSG(DecodeKvCommand(e.data, &command), "a log entry is not a KV command");
  const std::optional<KvResult> result = n.state_machine.Apply(command);
  auto pending = n.pending_writes.find({command.client_id, command.seq});
  if (pending == n.pending_writes.end()) return;
  n.pending_writes.erase(pending);
  if (result) workload_->OnResponse(command.client_id, command.seq, *result, now_us_);
}

void SimCluster::MaybeCompact(Node& n) {
  if (compact_every_entries_ == 0 || n.applied < n.last_snapshot_index + compact_every_entries_) {
    return;
  }
  const raft::ConfState conf = n.raw->status().conf_state;
  auto snapshot = n.storage.CreateSnapshot(n.applied, conf, n.state_machine.Serialize());
  TRI_ASSERT_MSG(snapshot.ok(), "MemoryStorage::CreateSnapshot failed at the applied index");
  n.last_snapshot_index = n.applied;
  ++compactions_;
  if (n.applied > compact_keep_entries_) {
    const Status s = n.storage.Compact(n.applied - compact_keep_entries_);
    TRI_ASSERT_MSG(s.ok(), "MemoryStorage::Compact failed below the applied index");
  }
}

void SimCluster::ServeReads(Node& n) {
  auto it = n.read_states.begin();
  while (it != n.read_states.end()) {
    if (it->index > n.applied) {
      ++it;
      continue;
    }
    auto pending = n.pending_reads.find(it->context);
    if (pending != n.pending_reads.end()) {
      const KvCommand& cmd = pending->second;
      workload_->OnResponse(cmd.client_id, cmd.seq,
                            KvResult{OpOutcome::kOk, n.state_machine.Get(cmd.key)}, now_us_);
      n.pending_reads.erase(pending);
    }
    it = n.read_states.erase(it);
  }
}

std::string SimCluster::ChangeMembership() {
  const auto leader = Leader();
  if (!leader) return "";
  const raft::ConfState conf = node(*leader).raw->status().conf_state;
  std::vector<raft::ConfChange> choices;
  for (const auto& n : nodes_) {
    if (!conf.IsMember(n->id) && conf.removed.count(n->id) == 0) {
      choices.push_back({raft::ConfChangeType::kAddLearner, n->id, ""});
    }
  }
  for (raft::NodeId learner : conf.learners) {
    choices.push_back({raft::ConfChangeType::kAddVoter, learner, ""});
  }
  if (conf.voters.size() > 3) {
    for (raft::NodeId voter : conf.voters) {
      choices.push_back({raft::ConfChangeType::kRemoveNode, voter, ""});
    }
  }
  if (choices.empty()) return "";
  const raft::ConfChange cc = choices[rng_->Uniform(choices.size())];
  const Status s = node(*leader).raw->ProposeConfChange(cc);
  static constexpr const char* kNames[] = {"add voter", "add learner", "remove"};
  return fmt::format("membership: {} node {} at leader {}{}", kNames[static_cast<int>(cc.type)],
                     cc.node_id, *leader, s.ok() ? "" : " (refused: " + s.message() + ")");
}

bool SimCluster::TransferLeader(SimNodeId leader, SimNodeId target) {
  Node& n = node(leader);
  if (!n.up) return false;
  return n.raw->TransferLeader(target).ok();
}

bool SimCluster::ProposeProbe(std::uint64_t probe_number) {
  const auto leader = Leader();
  if (!leader) return false;
  return node(*leader).raw->Propose(fmt::format("{}{}", kProbePrefix, probe_number)).ok();
}

bool SimCluster::ProbeAppliedEverywhere(std::uint64_t probe_number) const {
  // Every current member (voter or learner) must apply it; removed and never
  // added nodes are not expected to.
  const auto leader = Leader();
  if (!leader) return false;
  const raft::ConfState conf = node(*leader).raw->status().conf_state;
  for (const auto& n : nodes_) {
    if (!conf.IsMember(n->id)) continue;
    auto it = probe_index_.lower_bound(probe_number);
    if (it == probe_index_.end() || !n->up || n->applied < it->second) return false;
  }
  return true;
}

std::map<raft::NodeId, const raft::Storage*> SimCluster::DurableStorages() const {
  std::map<raft::NodeId, const raft::Storage*> out;
  const bool lazy = options_.bug == InjectedBug::kLazyFsync;
  for (const auto& n : nodes_)
    out[n->id] = lazy ? &n->synced : &n->storage;
  return out;
}

std::map<raft::NodeId, const raft::Storage*> SimCluster::Storages() const {
  std::map<raft::NodeId, const raft::Storage*> out;
  for (const auto& n : nodes_)
    out[n->id] = &n->storage;
  return out;
}

std::vector<SimNodeId> SimCluster::TakeSuddenCrashes() {
  std::vector<SimNodeId> out;
  out.swap(sudden_crashes_);
  return out;
}

std::vector<SimCluster::Campaign> SimCluster::TakeCampaigns() {
  std::vector<Campaign> out;
  out.swap(campaigns_);
  return out;
}

std::optional<SimCluster::NodeView> SimCluster::View(SimNodeId id, SimTimeUs now_us) const {
  const Node& n = node(id);
  if (!n.up) return std::nullopt;
  const raft::NodeStatus st = n.raw->status();
  NodeView v;
  v.term = st.hard_state.term;
  v.role = st.soft_state.role;
  v.leader = st.soft_state.leader;
  v.commit = st.hard_state.commit;
  v.last_index = st.last_index;
  v.applied = n.applied;
  v.lead_transferee = st.lead_transferee;
  v.conf_state = st.conf_state;
  v.clock_paused = n.clock.next_tick_us() > now_us + 2 * n.clock.period_us();
  v.leader_contact_us = n.leader_contact_us;
  v.leader_contact_from = n.leader_contact_from;
  v.leader_contact_term = n.leader_contact_term;
  return v;
}

void SimCluster::UnpauseClocks(SimTimeUs now_us) {
  for (auto& n : nodes_) {
    if (n->clock.next_tick_us() > now_us + n->clock.period_us()) {
      n->clock.ResumeAt(now_us + n->clock.period_us());
    }
  }
}

std::vector<SimNodeId> SimCluster::TakeRecentVoters() {
  std::vector<SimNodeId> out;
  out.swap(recent_voters_);
  return out;
}

void SimCluster::SyncAll() {
  for (auto& n : nodes_)
    n->synced = n->storage;
}

}  // namespace tri::sim
