#include "raft/raw_node.h"

#include "base/assert.h"
#include "raft/internal/raft.h"

namespace tri::raft {

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  TRI_ASSIGN_OR_RETURN(std::unique_ptr<Raft> raft, Raft::Create(config));
  std::unique_ptr<RawNode> node(new RawNode(std::move(raft)));
  return node;
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {
  prev_hard_state_ = raft_->hard_state();
  prev_soft_state_ = raft_->soft_state();
}

RawNode::~RawNode() = default;

void RawNode::Tick() { raft_->Tick(); }

Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::kHup;
  m.from = raft_->id();
  return raft_->Step(std::move(m));
}

Status RawNode::Propose(std::string data) {
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  return raft_->Step(std::move(m));
}

Status RawNode::ProposeConfChange(const ConfChange& cc) {
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kConfChange, EncodeConfChange(cc)});
  return raft_->Step(std::move(m));
}

Status RawNode::Step(Message m) {
  if (IsLocalMessage(m.type) && m.type != MessageType::kUnreachable) {
    return InvalidArgument("raft: local message " + std::string(MessageTypeName(m.type)) +
                           " cannot be stepped from the network");
  }
  if (m.from == kNoNode) return InvalidArgument("raft: message without a sender");
  if (m.term == 0 && m.type != MessageType::kProp && m.type != MessageType::kReadIndex &&
      m.type != MessageType::kTransferLeader && m.type != MessageType::kUnreachable) {
    return InvalidArgument("raft: " + std::string(MessageTypeName(m.type)) + " without a term");
  }
  return raft_->Step(std::move(m));
}

Status RawNode::ReadIndex(std::string context) {
  if (context.size() > kMaxReadContextBytes) {
    return InvalidArgument("raft: read context of " + std::to_string(context.size()) +
                           " bytes exceeds " + std::to_string(kMaxReadContextBytes));
  }
  Message m;
  m.type = MessageType::kReadIndex;
  m.from = raft_->id();
  m.context = std::move(context);
  return raft_->Step(std::move(m));
}

Status RawNode::TransferLeader(NodeId target) {
  Message m;
  m.type = MessageType::kTransferLeader;
  m.from = raft_->id();
  m.target = target;
  return raft_->Step(std::move(m));
}

void RawNode::ReportUnreachable(NodeId id) {
  Message m;
  m.type = MessageType::kUnreachable;
  m.from = id;
  (void)raft_->Step(std::move(m));
}

bool RawNode::HasReady() const {
  const Raft& r = *raft_;
  const RaftLog& log = r.log();
  if (r.soft_state() != prev_soft_state_) return true;
  if (r.hard_state() != prev_hard_state_) return true;
  if (log.unstable_snapshot() && log.unstable_snapshot()->metadata.index != handed_snapshot_index_) return true;
  if (!log.unstable_entries().empty() &&
      log.unstable_entries().back().index > handed_entries_index_) {
    return true;
  }
  if (!raft_->messages().empty() || !raft_->read_states().empty()) return true;
  if (r.broadcast_pending()) return true;
  if (r.has_pending_base_conf() && !pending_base_conf_handed_) return true;
  if (log.HasNextCommittedEntries()) return true;
  return r.conf_changed();
}

Ready RawNode::GetReady() {
  TRI_ASSERT_MSG(!awaiting_advance_, "GetReady called twice without Advance");
  Raft& r = *raft_;
  RaftLog& log = r.log();
  Ready rd;
  // Hand out committed entries first: applying a membership change may change role
  // and produce messages that belong in this Ready.
  rd.committed_entries = log.NextCommittedEntries();
  if (!rd.committed_entries.empty()) {
    log.AcceptApplying(rd.committed_entries.back().index);
    for (const Entry& e : rd.committed_entries) {
      if (e.type == EntryType::kConfChange) r.ApplyConfChangeEntry(e);
    }
  }
  r.FlushBroadcast();
  if (log.unstable_snapshot()) {
    rd.snapshot = *log.unstable_snapshot();
  } else if (r.pending_base_conf()) {
    rd.snapshot = Snapshot{SnapshotMetadata{0, 0, *r.pending_base_conf()}, r.pending_base_data()};
    pending_base_conf_handed_ = true;
  }
  rd.entries = log.unstable_entries();
  if (r.TakeConfChanged()) rd.conf_state = r.conf_state();
  const SoftState ss = r.soft_state();
  if (ss != prev_soft_state_) rd.soft_state = ss;
  const HardState hs = r.hard_state();
  if (hs != prev_hard_state_) rd.hard_state = hs;
  rd.read_states.swap(r.read_states());
  rd.messages.swap(r.messages());

  awaiting_advance_ = true;
  pending_last_entry_index_ = rd.entries.empty() ? 0 : rd.entries.back().index;
  pending_last_entry_term_ = rd.entries.empty() ? 0 : rd.entries.back().term;
  pending_snapshot_index_ = rd.snapshot ? rd.snapshot->metadata.index : 0;
  pending_applied_index_ = rd.committed_entries.empty() ? 0 : rd.committed_entries.back().index;
  handed_entries_index_ = std::max(handed_entries_index_, pending_last_entry_index_);
  handed_snapshot_index_ = pending_snapshot_index_;
  prev_soft_state_ = ss;
  prev_hard_state_ = hs;
  return rd;
}

void RawNode::Advance() {
  TRI_ASSERT_MSG(awaiting_advance_, "Advance without GetReady");
  awaiting_advance_ = false;
  RaftLog& log = raft_->log();
  if (pending_base_conf_handed_) {
    raft_->pending_base_conf().reset();
    pending_base_conf_handed_ = false;
  }
  if (pending_snapshot_index_ != 0) {
    log.StableSnapTo(pending_snapshot_index_);
    log.AppliedTo(pending_snapshot_index_);
  }
  if (pending_last_entry_index_ != 0) log.StableTo(pending_last_entry_index_, pending_last_entry_term_);
  if (pending_applied_index_ != 0) log.AppliedTo(pending_applied_index_);
  handed_entries_index_ = 0;
  handed_snapshot_index_ = 0;
  raft_->OnPersisted();
}

NodeStatus RawNode::status() const {
  const Raft& r = *raft_;
  NodeStatus s;
  s.id = r.id();
  s.hard_state = r.hard_state();
  s.soft_state = r.soft_state();
  s.applied = r.log().applied();
  s.last_index = r.log().LastIndex();
  s.stable_index = r.log().StableIndex();
  s.conf_state = r.conf_state();
  s.lead_transferee = r.lead_transferee();
  if (r.role() == Role::kLeader) {
    for (const auto& [id, pr] : r.progress()) {
      s.progress[id] = ProgressStatus{pr.match, pr.next, pr.state, pr.is_learner,
                                      pr.recent_active, pr.inflights.count()};
    }
  }
  return s;
}

NodeId RawNode::id() const { return raft_->id(); }
Role RawNode::role() const { return raft_->role(); }
NodeId RawNode::leader() const { return raft_->leader(); }
Term RawNode::term() const { return raft_->term(); }

}  // namespace tri::raft
