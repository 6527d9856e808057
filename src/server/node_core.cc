#include "server/node_core.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/assert.h"
#include "base/coding.h"
#include "server/ids.h"

namespace tri::server {
namespace {

// Node-level commands travel in the same envelope as state-machine commands, with
// kinds the state machine never sees (rsm/command.h leaves 3..15 to saga and
// coordination; the node uses 16 and up).
constexpr auto kMemberAttributesKind = static_cast<rsm::CommandKind>(16);
constexpr auto kMemberPeerUrlsKind = static_cast<rsm::CommandKind>(17);

// The data of a snapshot: the member table and the state machine.
constexpr std::string_view kSnapshotDataMagic = "TRINODE1";

std::string EncodeSnapshotData(const MemberTable& members, const rsm::StateMachine& sm) {
  std::string out(kSnapshotDataMagic);
  coding::PutLengthPrefixed(out, members.Encode());
  coding::PutLengthPrefixed(out, sm.Snapshot());
  return out;
}

// A conf change's context: the request id (to route the result) and the member.
std::string EncodeConfContext(std::uint64_t request_id, const Member& m) {
  std::string out;
  coding::PutFixed64(out, request_id);
  out += EncodeMember(m);
  return out;
}

Result<std::pair<std::uint64_t, Member>> DecodeConfContext(std::string_view bytes) {
  if (bytes.size() < 8) return Corruption("conf change context: truncated");
  const std::uint64_t request_id = coding::DecodeFixed64(bytes.data());
  TRI_ASSIGN_OR_RETURN(Member m, DecodeMember(bytes.substr(8)));
  return std::make_pair(request_id, std::move(m));
}

Status TimedOut(bool has_leader) {
  return has_leader ? Unavailable("etcdserver: request timed out")
                    : Unavailable("etcdserver: no leader");
}

}  // namespace

NodeCore::NodeCore(const NodeCoreOptions& options, storage::WalRaftStorage* storage,
                   MessageSink* sink, std::uint64_t now_ms)
    : options_(options), storage_(storage), sink_(sink), now_ms_(now_ms) {}

NodeCore::~NodeCore() = default;

Result<std::unique_ptr<NodeCore>> NodeCore::Create(const NodeCoreOptions& options,
                                                   storage::WalRaftStorage* storage,
                                                   MessageSink* sink, Rng* rng,
                                                   std::uint64_t now_ms) {
  TRI_ASSERT(storage != nullptr && sink != nullptr && rng != nullptr);
  std::unique_ptr<NodeCore> core(new NodeCore(options, storage, sink, now_ms));
  // etcd's request id shape: 2 bytes of the member id, then 40 bits chosen at start
  // and a counter. The 40 bits are random, not the start time as in etcd, so that a
  // member restarted at the same millisecond (or after its clock stepped back) does
  // not reuse the ids of its previous run, whose entries may still be applied.
  core->request_id_base_ =
      ((options.id & 0xffff) << 48) | ((rng->Next() & ((std::uint64_t{1} << 40) - 1)) << 8);
  core->state_machine_ = std::make_unique<rsm::StateMachine>(options.state_machine, options.sagas,
                                                             options.leases, options.coordination);

  TRI_ASSIGN_OR_RETURN(raft::Snapshot snapshot, storage->GetSnapshot());
  // Index 0 is the founding snapshot (data only on a founding member, or on a joined
  // one that received it); a real snapshot always has data.
  if (!snapshot.data.empty()) {
    if (Status st = core->RestoreFromSnapshotData(snapshot.data); !st.ok())
      return st.WithContext(fmt::format("snapshot at index {}", snapshot.metadata.index));
    core->applied_index_ = snapshot.metadata.index;
    core->snapshot_index_ = snapshot.metadata.index;
  }
  TRI_ASSIGN_OR_RETURN(raft::InitialState initial, storage->GetInitialState());
  core->persisted_term_ = initial.hard_state.term;
  core->persisted_vote_ = initial.hard_state.vote;
  // The stored commit may trail the snapshot (see raft::Ready::MustSync).
  core->committed_index_ = std::max(initial.hard_state.commit, snapshot.metadata.index);

  raft::Config config;
  config.id = options.id;
  config.election_ticks = options.election_ticks;
  config.heartbeat_ticks = options.heartbeat_ticks;
  config.storage = storage;
  config.rng = rng;
  config.applied = core->applied_index_;
  config.pre_vote = true;
  config.check_quorum = true;
  config.max_entry_size_bytes = options.max_entry_size_bytes;
  TRI_ASSIGN_OR_RETURN(core->raw_, raft::RawNode::Create(config));
  return core;
}

// ---- inputs ----------------------------------------------------------------

void NodeCore::Tick(std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  if (failed_) return;
  raw_->Tick();
  ExpireRequests();
  // Proposals refused for a transient reason (no leader known, a transfer or another
  // membership change in progress) are tried again.
  if (raw_->leader() != raft::kNoNode && !retry_queue_.empty()) {
    std::deque<Queued> queued;
    queued.swap(retry_queue_);
    for (Queued& q : queued)
      SubmitQueued(std::move(q));
  }
  // A ReadIndex round lost with a leader change is asked again.
  if (!reads_asked_.empty() &&
      now_ms_ >= read_asked_at_ms_ + std::uint64_t(options_.election_ticks) * options_.tick_ms) {
    for (auto& [ctx, waiters] : reads_asked_)
      reads_unasked_.insert(reads_unasked_.end(), waiters.begin(), waiters.end());
    reads_asked_.clear();
  }
}

void NodeCore::Step(raft::Message m) {
  if (failed_) return;
  // The leader stamps forwarded proposals with its own clock: time inside the state
  // machine is the leader's.
  if (m.type == raft::MessageType::kProp && raw_->role() == raft::Role::kLeader) {
    for (raft::Entry& e : m.entries) {
      if (e.type != raft::EntryType::kNormal || e.data.empty()) continue;
      auto cmd = rsm::DecodeCommand(e.data);
      if (!cmd.ok()) continue;  // applied as an error result, like any malformed entry
      cmd->timestamp_ms = now_ms_;
      e.data = rsm::EncodeCommand(*cmd);
    }
  }
  (void)raw_->Step(std::move(m));
}

void NodeCore::ReportUnreachable(raft::NodeId peer) {
  raw_->ReportUnreachable(peer);
}

bool NodeCore::AdmitOrFail(RequestToken token) {
  if (!disk_full_.ok()) {
    Fail(token, ResourceExhausted("etcdserver: no space left on the data directory's disk (" +
                                  disk_full_.message() + "); free space and restart the member"));
    return false;
  }
  if (failed_) {
    Fail(token, Unavailable("etcdserver: the node is stopping after a storage failure"));
    return false;
  }
  if (removed_) {
    Fail(token, FailedPrecondition(
                    "etcdserver: the member has been permanently removed from the cluster"));
    return false;
  }
  const std::size_t outstanding = waiters_.size() + reads_unasked_.size() + reads_ready_.size() +
                                  transfers_.size() + retry_queue_.size();
  if (outstanding >= options_.max_pending_requests) {
    Fail(token,
         ResourceExhausted(fmt::format("etcdserver: too many requests ({} outstanding, limit {})",
                                       outstanding, options_.max_pending_requests)));
    return false;
  }
  return true;
}

void NodeCore::Fail(RequestToken token, Status status) {
  TRI_ASSERT(!status.ok());
  ++stats_.proposals_failed;
  Complete(Completion{token, std::move(status), std::nullopt});
}

std::string NodeCore::Envelope(std::uint64_t request_id, rsm::CommandKind kind,
                               std::string payload) const {
  rsm::Command cmd;
  cmd.kind = kind;
  cmd.request_id = request_id;
  cmd.timestamp_ms = now_ms_;
  cmd.payload = std::move(payload);
  return rsm::EncodeCommand(cmd);
}

void NodeCore::Propose(RequestToken token, rsm::CommandKind kind, std::string payload) {
  if (!AdmitOrFail(token)) return;
  const std::uint64_t request_id = NextRequestId();
  waiters_[request_id] = Waiter{token, now_ms_ + options_.request_timeout_ms};
  Queued q{Queued::What::kCommand, request_id, Envelope(request_id, kind, std::move(payload)), {}};
  SubmitQueued(std::move(q));
}

void NodeCore::SubmitQueued(Queued q) {
  Status st =
      q.what == Queued::What::kCommand ? raw_->Propose(q.data) : raw_->ProposeConfChange(q.cc);
  if (st.ok()) return;
  auto it = waiters_.find(q.request_id);
  if (it == waiters_.end()) return;  // timed out meanwhile
  if (st.code() == StatusCode::kUnavailable) {
    // No leader yet, a leader transfer, or a membership change that must wait for the
    // previous one: retried on later ticks until the request's deadline.
    retry_queue_.push_back(std::move(q));
    return;
  }
  const RequestToken token = it->second.token;
  waiters_.erase(it);
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      Fail(token, InvalidArgument("etcdserver: request is too large"));
      break;
    case StatusCode::kResourceExhausted:
      Fail(token, Unavailable("etcdserver: too many requests"));
      break;
    default:
      Fail(token, FailedPrecondition("etcdserver: " + st.message()));
      break;
  }
}

void NodeCore::ReadLinearizable(RequestToken token) {
  if (!disk_full_.ok() && SoleVoter()) {
    // Nothing can commit without this member, so its state is the latest: a read is
    // linearizable even though it no longer takes part in consensus.
    Complete(Completion{token, Status::Ok(), std::nullopt});
    return;
  }
  if (!AdmitOrFail(token)) return;
  reads_unasked_.push_back(Waiter{token, now_ms_ + options_.request_timeout_ms});
}

void NodeCore::ProposeMemberAdd(RequestToken token, const Member& member, bool as_learner) {
  if (members_.Find(member.id) != nullptr || members_.IsRemoved(member.id)) {
    Fail(token, FailedPrecondition("etcdserver: member ID already exist"));
    return;
  }
  if (members_.FindByPeerUrl(member.peer_urls) != 0) {
    Fail(token, FailedPrecondition("etcdserver: Peer URLs already exists"));
    return;
  }
  if (!AdmitOrFail(token)) return;
  raft::ConfChange cc;
  cc.type = as_learner ? raft::ConfChangeType::kAddLearner : raft::ConfChangeType::kAddVoter;
  cc.node_id = member.id;
  Member m = member;
  m.is_learner = as_learner;
  const std::uint64_t request_id = NextRequestId();
  cc.context = EncodeConfContext(request_id, m);
  waiters_[request_id] = Waiter{token, now_ms_ + options_.request_timeout_ms};
  SubmitQueued(Queued{Queued::What::kConfChange, request_id, {}, std::move(cc)});
}

void NodeCore::ProposeMemberPromote(RequestToken token, std::uint64_t id) {
  const Member* m = members_.Find(id);
  if (m == nullptr) {
    Fail(token, NotFound("etcdserver: member not found"));
    return;
  }
  if (!m->is_learner) {
    Fail(token, FailedPrecondition("etcdserver: can only promote a learner member"));
    return;
  }
  if (!AdmitOrFail(token)) return;
  const std::uint64_t request_id = NextRequestId();
  raft::ConfChange cc{raft::ConfChangeType::kAddVoter, id, EncodeConfContext(request_id, *m)};
  waiters_[request_id] = Waiter{token, now_ms_ + options_.request_timeout_ms};
  SubmitQueued(Queued{Queued::What::kConfChange, request_id, {}, std::move(cc)});
}

void NodeCore::ProposeMemberRemove(RequestToken token, std::uint64_t id) {
  const Member* m = members_.Find(id);
  if (m == nullptr) {
    Fail(token, members_.IsRemoved(id) ? FailedPrecondition("etcdserver: member was removed")
                                       : NotFound("etcdserver: member not found"));
    return;
  }
  if (!AdmitOrFail(token)) return;
  const std::uint64_t request_id = NextRequestId();
  raft::ConfChange cc{raft::ConfChangeType::kRemoveNode, id, EncodeConfContext(request_id, *m)};
  waiters_[request_id] = Waiter{token, now_ms_ + options_.request_timeout_ms};
  SubmitQueued(Queued{Queued::What::kConfChange, request_id, {}, std::move(cc)});
}

void NodeCore::ProposeMemberUpdate(RequestToken token, std::uint64_t id,
                                   std::vector<std::string> peer_urls) {
  if (members_.Find(id) == nullptr) {
    Fail(token, NotFound("etcdserver: member not found"));
    return;
  }
  if (members_.FindByPeerUrl(peer_urls, id) != 0) {
    Fail(token, FailedPrecondition("etcdserver: Peer URLs already exists"));
    return;
  }
  Member m;
  m.id = id;
  m.peer_urls = std::move(peer_urls);
  Propose(token, kMemberPeerUrlsKind, EncodeMember(m));
}

void NodeCore::ProposePublish(RequestToken token, const std::string& name,
                              const std::vector<std::string>& client_urls) {
  Member m;
  m.id = options_.id;
  m.name = name;
  m.client_urls = client_urls;
  Propose(token, kMemberAttributesKind, EncodeMember(m));
}

void NodeCore::TransferLeader(RequestToken token, raft::NodeId target) {
  if (!AdmitOrFail(token)) return;
  if (raw_->leader() == target) {
    Complete(Completion{token, Status::Ok(), std::nullopt});
    return;
  }
  if (Status st = raw_->TransferLeader(target); !st.ok()) {
    Fail(token, FailedPrecondition("etcdserver: " + st.message()));
    return;
  }
  transfers_[token] = {target,
                       now_ms_ + std::uint64_t(options_.election_ticks) * options_.tick_ms * 2};
}

// ---- processing ------------------------------------------------------------

ProcessOutput NodeCore::Process() {
  if (!failed_) {
    IssueReadIndex();
    while (!failed_ && raw_->HasReady())
      HandleReady(raw_->GetReady());
    ServeReads();
    if (!failed_) MaybeSnapshot();
  }
  ProcessOutput out;
  std::swap(out, output_);
  return out;
}

void NodeCore::HandleReady(raft::Ready rd) {
  if (rd.soft_state && rd.soft_state->leader != last_leader_) {
    last_leader_ = rd.soft_state->leader;
    if (last_leader_ == options_.id) {
      // The leader's first entry of its term is the last one now; once it is
      // applied, everything committed before the term is too.
      leader_ready_index_ = raw_->status().last_index;
      leader_ready_term_ = raw_->term();
    }
    ++stats_.leader_changes;
    output_.events.push_back(
        NodeEvent{NodeEvent::Kind::kLeaderChanged,
                  fmt::format("leader is now {} at term {}",
                              last_leader_ == raft::kNoNode ? "none" : IdToString(last_leader_),
                              raw_->term()),
                  last_leader_});
    for (auto it = transfers_.begin(); it != transfers_.end();) {
      if (it->second.first == last_leader_) {
        Complete(Completion{it->first, Status::Ok(), std::nullopt});
        it = transfers_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A leader's messages claim nothing about its own unpersisted log (it counts its
  // log only after Advance), so they go out before the fdatasync — unless this Ready
  // also carries a new term, which must be durable before any message claims it.
  const bool term_unchanged = !rd.hard_state || rd.hard_state->term == persisted_term_;
  if (raw_->role() == raft::Role::kLeader && term_unchanged && !rd.messages.empty()) {
    sink_->Send(std::move(rd.messages));
    rd.messages.clear();
  }

  if (rd.snapshot) {
    if (Status st = storage_->ApplySnapshot(*rd.snapshot); !st.ok()) return Fatal(st);
    if (rd.snapshot->data.empty() && rd.snapshot->metadata.index == 0) {
      // A founding membership without founding state (a cluster founded by a
      // version that did not send it): the member table fills from the log.
    } else if (Status st = RestoreFromSnapshotData(rd.snapshot->data); !st.ok())
      return Fatal(st.WithContext("installing the leader's snapshot"));
    applied_index_ = rd.snapshot->metadata.index;
    snapshot_index_ = rd.snapshot->metadata.index;
    output_.events.push_back(
        NodeEvent{NodeEvent::Kind::kSnapshotInstalled,
                  fmt::format("installed snapshot at index {} term {}", rd.snapshot->metadata.index,
                              rd.snapshot->metadata.term),
                  rd.snapshot->metadata.index});
  }
  if (!rd.entries.empty()) {
    if (Status st = storage_->Append(rd.entries); !st.ok()) return Fatal(st);
  }
  if (rd.hard_state) {
    if (Status st = storage_->SetHardState(*rd.hard_state); !st.ok()) return Fatal(st);
  }
  // As etcd's MustSync: entries, a snapshot, a new term or a vote must be durable
  // before any message claims them; a commit index alone need not be (it is learned
  // again after a restart), so it rides along with the next sync.
  const bool must_sync = !rd.entries.empty() || rd.snapshot.has_value() ||
                         (rd.hard_state && (rd.hard_state->term != persisted_term_ ||
                                            rd.hard_state->vote != persisted_vote_));
  if (must_sync) {
    if (Status st = storage_->Sync(); !st.ok()) return Fatal(st);
    ++stats_.syncs;
  } else if (rd.hard_state) {
    // Written now, so a write error stops the node here rather than surfacing in a
    // later read of the log.
    if (Status st = storage_->Flush(); !st.ok()) return Fatal(st);
  }
  if (rd.hard_state) {
    persisted_term_ = rd.hard_state->term;
    persisted_vote_ = rd.hard_state->vote;
  }

  if (!rd.messages.empty()) sink_->Send(std::move(rd.messages));

  const TimePoint apply_started = options_.clock != nullptr && !rd.committed_entries.empty()
                                      ? options_.clock->Now()
                                      : TimePoint{};
  const bool batched = options_.parallel_apply.executor != nullptr;
  std::vector<rsm::BatchEntry> pending;
  for (const raft::Entry& e : rd.committed_entries) {
    committed_index_ = std::max(committed_index_, e.index);
    ++stats_.proposals_committed;
    if (e.index <= applied_index_) continue;  // covered by a snapshot already restored
    if (batched && IsStateMachineEntry(e)) {
      pending.push_back(rsm::BatchEntry{e.index, e.data});
      continue;
    }
    FlushApplyBatch(pending);
    if (e.type == raft::EntryType::kConfChange) {
      ApplyConfChange(e);
    } else if (!e.data.empty()) {
      ApplyEntry(e);
    }
    applied_index_ = e.index;
    ++stats_.proposals_applied;
  }
  FlushApplyBatch(pending);
  if (options_.clock != nullptr && !rd.committed_entries.empty() && options_.observe_apply)
    options_.observe_apply(options_.clock->Now() - apply_started);
  if (rd.conf_state) {
    output_.events.push_back(
        NodeEvent{NodeEvent::Kind::kMembershipChanged,
                  fmt::format("voters {} learners {}", fmt::join(rd.conf_state->voters, ","),
                              fmt::join(rd.conf_state->learners, ",")),
                  0});
  }
  for (raft::ReadState& rs : rd.read_states) {
    auto it = reads_asked_.find(rs.context);
    if (it == reads_asked_.end()) continue;  // answered already, or asked before a restart
    for (const Waiter& w : it->second)
      reads_ready_.emplace(rs.index, w);
    reads_asked_.erase(it);
  }
  raw_->Advance();
}

void NodeCore::ApplyEntry(const raft::Entry& e) {
  auto cmd = rsm::DecodeCommand(e.data);
  if (cmd.ok() && (cmd->kind == kMemberAttributesKind || cmd->kind == kMemberPeerUrlsKind)) {
    ApplyNodeCommand(*cmd, e.index);
    return;
  }
  Answer(state_machine_->Apply(e.index, e.data));
}

bool NodeCore::IsStateMachineEntry(const raft::Entry& e) const {
  if (e.type == raft::EntryType::kConfChange || e.data.empty()) return false;
  auto cmd = rsm::DecodeCommand(e.data);
  return !cmd.ok() || (cmd->kind != kMemberAttributesKind && cmd->kind != kMemberPeerUrlsKind);
}

void NodeCore::FlushApplyBatch(std::vector<rsm::BatchEntry>& pending) {
  if (pending.empty()) return;
  rsm::ParallelApplyOptions options = options_.parallel_apply;
  if (options.stats == nullptr) options.stats = &parallel_apply_stats_;
  for (rsm::Applied& applied : state_machine_->ApplyBatch(pending, options)) {
    applied_index_ = applied.index;
    ++stats_.proposals_applied;
    Answer(std::move(applied));
  }
  pending.clear();
}

void NodeCore::Answer(rsm::Applied applied) {
  auto it = waiters_.find(applied.request_id);
  if (applied.request_id == 0 || it == waiters_.end()) return;  // proposed elsewhere, or timed out
  const RequestToken token = it->second.token;
  waiters_.erase(it);
  Complete(Completion{token, Status::Ok(), std::move(applied)});
}

void NodeCore::ApplyNodeCommand(const rsm::Command& cmd, std::uint64_t index) {
  auto m = DecodeMember(cmd.payload);
  Status status;
  if (!m.ok()) {
    status = InvalidArgument(fmt::format("entry {}: {}", index, m.status().message()));
  } else {
    const std::string what = cmd.kind == kMemberAttributesKind
                                 ? members_.PublishAttributes(m->id, m->name, m->client_urls)
                                 : members_.UpdatePeerUrls(m->id, m->peer_urls);
    output_.events.push_back(NodeEvent{NodeEvent::Kind::kMembershipChanged, what, m->id});
  }
  auto it = waiters_.find(cmd.request_id);
  if (it == waiters_.end()) return;
  const RequestToken token = it->second.token;
  waiters_.erase(it);
  Complete(Completion{token, status, std::nullopt});
}

void NodeCore::ApplyConfChange(const raft::Entry& e) {
  raft::ConfChange cc;
  if (!raft::DecodeConfChange(e.data, &cc)) {
    // The core validated it when it was proposed; a damaged entry is refused loudly.
    Fatal(Corruption(fmt::format("conf change entry {} does not decode", e.index)));
    return;
  }
  auto ctx = DecodeConfContext(cc.context);
  Member m;
  std::uint64_t request_id = 0;
  if (ctx.ok()) {
    request_id = ctx->first;
    m = ctx->second;
  }
  m.id = cc.node_id;
  std::string what;
  switch (cc.type) {
    case raft::ConfChangeType::kAddVoter:
      what = members_.AddOrPromote(m, false);
      break;
    case raft::ConfChangeType::kAddLearner:
      what = members_.AddOrPromote(m, true);
      break;
    case raft::ConfChangeType::kRemoveNode:
      what = members_.Remove(cc.node_id);
      if (cc.node_id == options_.id) {
        removed_ = true;
        output_.events.push_back(NodeEvent{NodeEvent::Kind::kRemovedFromCluster,
                                           "this member was removed from the cluster", cc.node_id});
      }
      break;
  }
  output_.events.push_back(NodeEvent{NodeEvent::Kind::kMembershipChanged, what, cc.node_id});
  auto it = waiters_.find(request_id);
  if (request_id == 0 || it == waiters_.end()) return;
  const RequestToken token = it->second.token;
  waiters_.erase(it);
  Complete(Completion{token, Status::Ok(), std::nullopt});
}

void NodeCore::IssueReadIndex() {
  // One ReadIndex round at a time; every read that arrives meanwhile shares the next.
  if (reads_unasked_.empty() || !reads_asked_.empty()) return;
  std::string context;
  coding::PutFixed64(context, ++read_context_counter_);
  coding::PutFixed64(context, request_id_base_);
  if (Status st = raw_->ReadIndex(context); !st.ok())
    return;  // no leader yet: retried, until deadlines  // no leader yet: retried, until deadlines
  ++stats_.read_index_rounds;
  read_asked_at_ms_ = now_ms_;
  reads_asked_[context] = std::move(reads_unasked_);
  reads_unasked_.clear();
}

void NodeCore::ServeReads() {
  while (!reads_ready_.empty() && reads_ready_.begin()->first <= applied_index_) {
    Complete(Completion{reads_ready_.begin()->second.token, Status::Ok(), std::nullopt});
    ++stats_.reads_served;
    reads_ready_.erase(reads_ready_.begin());
  }
}

void NodeCore::ExpireRequests() {
  const bool has_leader = raw_->leader() != raft::kNoNode;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->second.deadline_ms <= now_ms_) {
      Fail(it->second.token, TimedOut(has_leader));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(retry_queue_, [&](const Queued& q) { return !waiters_.count(q.request_id); });
  const auto expire_reads = [&](std::vector<Waiter>& v) {
    std::erase_if(v, [&](const Waiter& w) {
      if (w.deadline_ms > now_ms_) return false;
      Fail(w.token, TimedOut(has_leader));
      return true;
    });
  };
  expire_reads(reads_unasked_);
  for (auto it = reads_asked_.begin(); it != reads_asked_.end();) {
    expire_reads(it->second);
    it = it->second.empty() ? reads_asked_.erase(it) : std::next(it);
  }
  for (auto it = reads_ready_.begin(); it != reads_ready_.end();) {
    if (it->second.deadline_ms <= now_ms_) {
      Fail(it->second.token, TimedOut(has_leader));
      it = reads_ready_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    if (it->second.second <= now_ms_) {
      Fail(it->first, Unavailable("etcdserver: request timed out, leader transfer took too long"));
      it = transfers_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- snapshots -------------------------------------------------------------

std::string NodeCore::FoundingSnapshotData(const std::vector<Member>& founders,
                                           std::uint64_t cluster_id,
                                           const rsm::KvOptions& state_machine_options) {
  MemberTable members;
  members.Bootstrap(founders, cluster_id);
  return EncodeSnapshotData(members, rsm::StateMachine(state_machine_options));
}

std::string NodeCore::SnapshotData() const {
  return EncodeSnapshotData(members_, *state_machine_);
}

Status NodeCore::RestoreFromSnapshotData(const std::string& data) {
  if (data.compare(0, kSnapshotDataMagic.size(), kSnapshotDataMagic) != 0)
    return Corruption("snapshot data: bad magic (not a Trinity node snapshot)");
  coding::Decoder d(std::string_view(data).substr(kSnapshotDataMagic.size()));
  std::string_view members_bytes, sm_bytes;
  if (!d.ReadLengthPrefixed(members_bytes) || !d.ReadLengthPrefixed(sm_bytes) || !d.done())
    return Corruption("snapshot data: truncated or trailing bytes");
  TRI_ASSIGN_OR_RETURN(MemberTable members, MemberTable::Decode(members_bytes));
  auto sm = std::make_unique<rsm::StateMachine>(options_.state_machine, options_.sagas,
                                                options_.leases, options_.coordination);
  TRI_RETURN_IF_ERROR(sm->Restore(sm_bytes));
  // The watch hub detects a replaced state by its restore epoch.
  if (state_machine_ != nullptr) sm->ContinueRestoreEpochFrom(*state_machine_);
  members_ = std::move(members);
  state_machine_ = std::move(sm);
  return Status::Ok();
}

void NodeCore::MaybeSnapshot() {
  if (applied_index_ < snapshot_index_ + options_.snapshot_count) return;
  const std::uint64_t index = applied_index_;
  const TimePoint started = options_.clock != nullptr ? options_.clock->Now() : TimePoint{};
  auto snap = storage_->CreateSnapshot(index, raw_->status().conf_state, SnapshotData());
  if (!snap.ok()) return Fatal(snap.status());
  if (options_.clock != nullptr && options_.observe_snapshot)
    options_.observe_snapshot(options_.clock->Now() - started);
  snapshot_index_ = index;
  ++stats_.snapshots;
  output_.events.push_back(NodeEvent{NodeEvent::Kind::kSnapshotSaved,
                                     fmt::format("saved snapshot at index {}", index), index});
  if (index > options_.snapshot_catchup_entries) {
    const std::uint64_t compact_to = index - options_.snapshot_catchup_entries;
    if (compact_to >= storage_->FirstIndex()) {
      if (Status st = storage_->Compact(compact_to); !st.ok()) return Fatal(st);
      output_.events.push_back(
          NodeEvent{NodeEvent::Kind::kLogCompacted,
                    fmt::format("compacted the log up to index {}", compact_to), compact_to});
    }
  }
}

bool NodeCore::SoleVoter() const {
  const raft::ConfState cs = raw_->status().conf_state;
  return cs.voters.size() == 1 && cs.IsVoter(options_.id);
}

void NodeCore::Fatal(Status s) {
  if (failed_) return;
  failed_ = true;
  Status answer;
  if (s.code() == StatusCode::kResourceExhausted) {
    // A full disk: this member stops taking part in consensus (it cannot persist
    // anything) but keeps its state for serializable reads until an operator frees
    // space and restarts it. Not fatal to the process.
    disk_full_ = s;
    answer = ResourceExhausted("etcdserver: no space left on the data directory's disk (" +
                               s.message() + "); free space and restart the member");
  } else {
    output_.fatal = s;
    answer = Unavailable("etcdserver: the node stopped: " + s.message());
  }
  // Nothing outstanding can be answered any more.
  for (auto& [id, w] : waiters_)
    Fail(w.token, answer);
  waiters_.clear();
  retry_queue_.clear();
  const auto fail_all = [&](std::vector<Waiter>& v) {
    for (const Waiter& w : v)
      Fail(w.token, answer);
    v.clear();
  };
  fail_all(reads_unasked_);
  for (auto& [ctx, v] : reads_asked_)
    fail_all(v);
  reads_asked_.clear();
  for (auto& [index, w] : reads_ready_)
    Fail(w.token, answer);
  reads_ready_.clear();
  for (auto& [token, t] : transfers_)
    Fail(token, answer);
  transfers_.clear();
}

}  // namespace tri::server
