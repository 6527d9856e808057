#include "raft/interaction_env.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace tri::raft::testing {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::set<NodeId> ParseIdList(const std::string& s) {
  std::set<NodeId> out;
  for (const std::string& p : Split(s, ',')) out.insert(std::stoull(p));
  return out;
}

std::string FormatIds(const std::set<NodeId>& ids) {
  std::string out = "(";
  bool first = true;
  for (NodeId id : ids) {
    if (!first) out += " ";
    out += std::to_string(id);
    first = false;
  }
  return out + ")";
}

void Fail(const Command& cmd, const std::string& why) {
  throw std::runtime_error("line " + std::to_string(cmd.line) + ": " + cmd.name + ": " + why);
}

}  // namespace

std::string FormatConfState(const ConfState& cs) {
  std::string out = "Voters:" + FormatIds(cs.voters);
  if (!cs.learners.empty()) out += " Learners:" + FormatIds(cs.learners);
  if (!cs.removed.empty()) out += " Removed:" + FormatIds(cs.removed);
  return out;
}

std::string FormatEntry(const Entry& e) {
  std::string out = std::to_string(e.term) + "/" + std::to_string(e.index);
  if (e.type == EntryType::kConfChange) {
    ConfChange cc;
    if (!DecodeConfChange(e.data, &cc)) return out + " EntryConfChange <malformed>";
    const char* what = cc.type == ConfChangeType::kAddVoter     ? "add-voter"
                       : cc.type == ConfChangeType::kAddLearner ? "add-learner"
                                                                : "remove";
    return out + " EntryConfChange " + what + " " + std::to_string(cc.node_id);
  }
  return out + " EntryNormal " + Quote(e.data);
}

std::string FormatMessage(const Message& m) {
  std::ostringstream os;
  os << m.from << "->" << m.to << " " << MessageTypeName(m.type) << " Term:" << m.term;
  switch (m.type) {
    case MessageType::kApp:
      os << " Log:" << m.log_term << "/" << m.index << " Commit:" << m.commit;
      break;
    case MessageType::kAppResp:
      os << " Log:0/" << m.index;
      if (m.reject) os << " Rejected (Hint: " << m.reject_hint << "/" << m.reject_hint_term << ")";
      break;
    case MessageType::kVote:
    case MessageType::kPreVote:
      os << " Log:" << m.log_term << "/" << m.index;
      break;
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp:
      if (m.reject) os << " Rejected";
      break;
    case MessageType::kHeartbeat: os << " Commit:" << m.commit; break;
    // (kHeartbeat/kHeartbeatResp also carry the leader's tick for leases; not shown.)
    case MessageType::kReadIndexResp: os << " Index:" << m.index; break;
    case MessageType::kTransferLeader: os << " Target:" << m.target; break;
    default: break;
  }
  if (!m.context.empty()) os << " Context:" << m.context;
  if (m.snapshot && m.type == MessageType::kApp) {
    // The founding membership, attached to appends from index 1 for joining nodes.
    os << " Founding[" << FormatConfState(m.snapshot->metadata.conf_state) << "]";
  } else if (m.snapshot) {
    const SnapshotChunk& c = *m.snapshot;
    os << " Snapshot[Index:" << c.metadata.index << " Term:" << c.metadata.term << " "
       << FormatConfState(c.metadata.conf_state) << "]";
    if (m.type == MessageType::kSnap) {
      os << " Chunk:" << c.offset_bytes << "+" << c.data.size() << "/" << c.total_size_bytes;
    } else {
      os << " Want:" << c.offset_bytes << "/" << c.total_size_bytes;
    }
  }
  if (!m.entries.empty()) {
    os << " Entries:[";
    for (std::size_t i = 0; i < m.entries.size(); ++i) {
      if (i) os << ", ";
      os << FormatEntry(m.entries[i]);
    }
    os << "]";
  }
  return os.str();
}

InteractionEnv::InteractionEnv() = default;

InteractionEnv::Node& InteractionEnv::Get(NodeId id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw std::runtime_error("no node " + std::to_string(id));
  return it->second;
}

NodeId InteractionEnv::Arg(const Command& cmd, std::size_t i) const {
  if (i >= cmd.args.size()) Fail(cmd, "missing argument " + std::to_string(i + 1));
  return std::stoull(cmd.args[i]);
}

std::vector<NodeId> InteractionEnv::IdsOrAll(const Command& cmd, std::size_t from) const {
  std::vector<NodeId> ids;
  for (std::size_t i = from; i < cmd.args.size(); ++i) ids.push_back(std::stoull(cmd.args[i]));
  if (ids.empty()) {
    for (const auto& [id, n] : nodes_) ids.push_back(id);
  }
  return ids;
}

void InteractionEnv::AddNodes(const Command& cmd, std::string& out) {
  const NodeId count = Arg(cmd, 0);
  const NodeId first = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
  ConfState cs;
  auto opt = [&](const char* key, const std::string& dflt) {
    auto it = cmd.options.find(key);
    return it == cmd.options.end() ? dflt : it->second;
  };
  const std::string voters = opt("voters", "");
  const std::string learners = opt("learners", "");
  if (!voters.empty()) cs.voters = ParseIdList(voters);
  if (!learners.empty()) cs.learners = ParseIdList(learners);
  for (NodeId id = first; id < first + count; ++id) {
    Node& n = nodes_[id];
    n.id = id;
    // A node added later (to join through a conf change) starts with an empty config.
    n.storage = std::make_unique<MemoryStorage>(cs);
    n.config.id = id;
    n.config.storage = n.storage.get();
    n.config.rng = &rng_;
    n.config.randomized_election_timeout = false;
    n.config.election_ticks = std::stoi(opt("election", "10"));
    n.config.heartbeat_ticks = std::stoi(opt("heartbeat", "1"));
    n.config.pre_vote = opt("prevote", "true") == "true";
    n.config.check_quorum = opt("checkquorum", "true") == "true";
    n.config.read_only =
        opt("read-only", "safe") == "lease" ? ReadOnlyOption::kLeaseBased : ReadOnlyOption::kSafe;
    n.config.max_msg_size_bytes = std::stoull(opt("max-msg-size", "1048576"));
    n.config.max_inflight_msgs = static_cast<std::uint32_t>(std::stoul(opt("max-inflight", "64")));
    n.config.max_inflight_bytes = std::stoull(opt("max-inflight-bytes", "8388608"));
    n.config.max_snapshot_chunk_bytes = std::stoull(opt("chunk", "65536"));
    n.config.max_entry_size_bytes = std::stoull(opt("max-entry-size", "1048576"));
    n.config.max_uncommitted_size_bytes = std::stoull(opt("max-uncommitted", "67108864"));
    auto raw = RawNode::Create(n.config);
    if (!raw.ok()) Fail(cmd, raw.status().ToString());
    n.raw = std::move(raw).value();
    out += "INFO " + std::to_string(id) + " initial config " + FormatConfState(cs) + "\n";
  }
}

void InteractionEnv::Restart(Node& n) {
  n.raw.reset();
  n.applied.clear();
  auto snap = n.storage->GetSnapshot();
  if (snap.ok() && !snap->empty() && !snap->data.empty()) n.applied = Split(snap->data, ',');
  auto raw = RawNode::Create(n.config);
  if (!raw.ok()) throw std::runtime_error("restart: " + raw.status().ToString());
  n.raw = std::move(raw).value();
  n.crashed = false;
}

bool InteractionEnv::ProcessReady(Node& n, std::string& out, bool crash_before_persist) {
  if (n.crashed || !n.raw->HasReady()) return false;
  Ready rd = n.raw->GetReady();
  out += "> " + std::to_string(n.id) + " handling Ready\n";
  if (rd.soft_state) {
    out += "  State:" + std::string(RoleName(rd.soft_state->role)) +
           " Lead:" + std::to_string(rd.soft_state->leader) + "\n";
  }
  if (rd.hard_state) {
    out += "  HardState Term:" + std::to_string(rd.hard_state->term) +
           " Vote:" + std::to_string(rd.hard_state->vote) +
           " Commit:" + std::to_string(rd.hard_state->commit) + "\n";
  }
  if (rd.snapshot) {
    out += "  Snapshot Index:" + std::to_string(rd.snapshot->metadata.index) +
           " Term:" + std::to_string(rd.snapshot->metadata.term) + " " +
           FormatConfState(rd.snapshot->metadata.conf_state) + "\n";
  }
  if (!rd.entries.empty()) {
    out += "  Entries:\n";
    for (const Entry& e : rd.entries) out += "  " + FormatEntry(e) + "\n";
  }
  if (!rd.committed_entries.empty()) {
    out += "  CommittedEntries:\n";
    for (const Entry& e : rd.committed_entries) out += "  " + FormatEntry(e) + "\n";
  }
  if (rd.conf_state) out += "  ConfState " + FormatConfState(*rd.conf_state) + "\n";
  for (const ReadState& rs : rd.read_states) {
    out += "  ReadState Index:" + std::to_string(rs.index) + " Context:" + rs.context + "\n";
  }
  if (!rd.messages.empty()) {
    out += "  Messages:\n";
    for (const Message& m : rd.messages) out += "  " + FormatMessage(m) + "\n";
  }
  if (crash_before_persist) {
    out += "  CRASH before persisting: Ready discarded\n";
    n.crashed = true;
    return true;
  }
  // Persist, then send, then apply, then Advance (the RawNode contract).
  if (rd.snapshot) {
    Status s = n.storage->ApplySnapshot(*rd.snapshot);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    n.applied = Split(rd.snapshot->data, ',');
  }
  Status s = n.storage->Append(rd.entries);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  for (Message& m : rd.messages) network_.push_back(std::move(m));
  for (const Entry& e : rd.committed_entries) {
    if (e.type == EntryType::kNormal && !e.data.empty()) {
      n.applied.push_back(std::to_string(e.index) + ":" + e.data);
    }
  }
  n.raw->Advance();
  return true;
}

bool InteractionEnv::Connected(NodeId from, NodeId to) const {
  if (cut_links_.count({from, to}) != 0) return false;
  if (partition_group_.empty()) return true;
  auto a = partition_group_.find(from);
  auto b = partition_group_.find(to);
  const int ga = a == partition_group_.end() ? -1 : a->second;
  const int gb = b == partition_group_.end() ? -1 : b->second;
  return ga == gb;
}

bool InteractionEnv::DeliverMsgs(NodeId to, std::string& out, int limit) {
  std::vector<Message> mine;
  std::vector<Message> rest;
  for (Message& m : network_) {
    if (m.to == to && (limit < 0 || static_cast<int>(mine.size()) < limit)) {
      mine.push_back(std::move(m));
    } else {
      rest.push_back(std::move(m));
    }
  }
  network_ = std::move(rest);
  if (mine.empty()) return false;
  Node& n = Get(to);
  out += "> " + std::to_string(to) + " receiving messages\n";
  for (Message& m : mine) {
    if (n.crashed) {
      out += "  " + FormatMessage(m) + " DROPPED (node down)\n";
      continue;
    }
    if (!Connected(m.from, m.to)) {
      out += "  " + FormatMessage(m) + " DROPPED (partition)\n";
      continue;
    }
    out += "  " + FormatMessage(m) + "\n";
    Status s = n.raw->Step(std::move(m));
    if (!s.ok()) out += "  ERROR " + s.ToString() + "\n";
  }
  return true;
}

void InteractionEnv::Stabilize(const std::vector<NodeId>& ids, std::string& out) {
  for (int round = 0; round < 1000; ++round) {
    bool progress = false;
    for (NodeId id : ids) progress |= ProcessReady(Get(id), out);
    for (NodeId id : ids) progress |= DeliverMsgs(id, out);
    if (!progress) return;
  }
  throw std::runtime_error("stabilize did not converge");
}

std::string InteractionEnv::StatusOf(Node& n) const {
  NodeStatus s = n.raw->status();
  std::string out;
  for (const auto& [id, p] : s.progress) {
    out += std::to_string(id) + ": " + std::string(ProgressStateName(p.state)) +
           " match=" + std::to_string(p.match) + " next=" + std::to_string(p.next);
    if (p.is_learner) out += " learner";
    if (p.inflight_msgs) out += " inflight=" + std::to_string(p.inflight_msgs);
    out += "\n";
  }
  if (s.progress.empty()) out += "(not leader)\n";
  return out;
}

std::string InteractionEnv::RaftLog(Node& n) const {
  std::string out;
  const Index first = n.storage->FirstIndex();
  const Index last = n.storage->LastIndex();
  if (first > 2) out += "snapshot at " + std::to_string(first - 1) + "\n";
  if (first > last) return out + "log is empty: first index=" + std::to_string(first) +
                           ", last index=" + std::to_string(last) + "\n";
  auto ents = n.storage->Entries(first, last + 1, kNoSizeLimit);
  for (const Entry& e : *ents) out += FormatEntry(e) + "\n";
  return out;
}

std::string InteractionEnv::RaftState() const {
  std::string out;
  for (const auto& [id, n] : nodes_) {
    if (n.crashed) {
      out += std::to_string(id) + ": DOWN\n";
      continue;
    }
    const NodeStatus s = n.raw->status();
    out += std::to_string(id) + ": " + std::string(RoleName(s.soft_state.role)) +
           " Term:" + std::to_string(s.hard_state.term) +
           " Lead:" + std::to_string(s.soft_state.leader) +
           " Commit:" + std::to_string(s.hard_state.commit) +
           " Applied:" + std::to_string(s.applied) + "\n";
  }
  return out;
}

std::string InteractionEnv::Handle(const Command& cmd) {
  std::string out;
  const std::string& c = cmd.name;
  auto report = [&](const Status& s) {
    if (!s.ok()) out += "ERROR " + s.ToString() + "\n";
  };
  if (c == "add-nodes") {
    AddNodes(cmd, out);
  } else if (c == "campaign") {
    report(Get(Arg(cmd, 0)).raw->Campaign());
  } else if (c == "propose") {
    if (cmd.args.size() < 2) Fail(cmd, "usage: propose <id> <data>");
    report(Get(Arg(cmd, 0)).raw->Propose(cmd.args[1]));
  } else if (c == "propose-big") {
    // propose-big <id> <bytes>: a proposal of the given size.
    report(Get(Arg(cmd, 0)).raw->Propose(std::string(Arg(cmd, 1), 'x')));
  } else if (c == "propose-conf-change") {
    // propose-conf-change <id> add-voter|add-learner|remove <node>
    if (cmd.args.size() < 3) Fail(cmd, "usage: propose-conf-change <id> <op> <node>");
    ConfChange cc;
    const std::string& op = cmd.args[1];
    if (op == "add-voter") {
      cc.type = ConfChangeType::kAddVoter;
    } else if (op == "add-learner") {
      cc.type = ConfChangeType::kAddLearner;
    } else if (op == "remove") {
      cc.type = ConfChangeType::kRemoveNode;
    } else {
      Fail(cmd, "unknown op " + op);
    }
    cc.node_id = Arg(cmd, 2);
    report(Get(Arg(cmd, 0)).raw->ProposeConfChange(cc));
  } else if (c == "process-ready") {
    const bool crash = cmd.options.count("crash") != 0;
    for (NodeId id : IdsOrAll(cmd, 0)) ProcessReady(Get(id), out, crash);
  } else if (c == "deliver-msgs") {
    // deliver-msgs [ids...] [limit=N]: steps the queued messages to each node.
    const int limit = cmd.options.count("limit") ? std::stoi(cmd.options.at("limit")) : -1;
    for (NodeId id : IdsOrAll(cmd, 0)) DeliverMsgs(id, out, limit);
  } else if (c == "drop-msgs") {
    // drop-msgs [ids...]: loses every queued message addressed to these nodes.
    std::vector<NodeId> ids = IdsOrAll(cmd, 0);
    std::vector<Message> rest;
    for (Message& m : network_) {
      if (std::find(ids.begin(), ids.end(), m.to) != ids.end()) {
        out += "dropped: " + FormatMessage(m) + "\n";
      } else {
        rest.push_back(std::move(m));
      }
    }
    network_ = std::move(rest);
  } else if (c == "dup-msgs") {
    // dup-msgs <id>: every queued message to <id> is delivered twice.
    const NodeId to = Arg(cmd, 0);
    std::vector<Message> copies;
    for (const Message& m : network_) {
      if (m.to == to) copies.push_back(m);
    }
    for (Message& m : copies) network_.push_back(std::move(m));
    out += "duplicated " + std::to_string(copies.size()) + " messages to " + std::to_string(to) + "\n";
  } else if (c == "reorder-msgs") {
    // reorder-msgs <id>: reverses the order of queued messages to <id>.
    const NodeId to = Arg(cmd, 0);
    std::vector<std::size_t> pos;
    for (std::size_t i = 0; i < network_.size(); ++i) {
      if (network_[i].to == to) pos.push_back(i);
    }
    for (std::size_t i = 0, j = pos.size(); i + 1 < j; ++i, --j) {
      std::swap(network_[pos[i]], network_[pos[j - 1]]);
    }
    out += "reversed " + std::to_string(pos.size()) + " messages to " + std::to_string(to) + "\n";
  } else if (c == "stabilize") {
    Stabilize(IdsOrAll(cmd, 0), out);
  } else if (c == "tick") {
    const int n = cmd.args.size() > 1 ? std::stoi(cmd.args[1]) : 1;
    for (int i = 0; i < n; ++i) Get(Arg(cmd, 0)).raw->Tick();
  } else if (c == "tick-heartbeat" || c == "tick-election") {
    for (NodeId id : IdsOrAll(cmd, 0)) {
      Node& n = Get(id);
      const int ticks = c == "tick-heartbeat" ? n.config.heartbeat_ticks : n.config.election_ticks;
      for (int i = 0; i < ticks; ++i) n.raw->Tick();
    }
  } else if (c == "partition") {
    // partition 1 2/3 4 5: groups separated by '/', each group connected internally.
    partition_group_.clear();
    int group = 0;
    for (const std::string& a : cmd.args) {
      std::string token = a;
      std::size_t slash;
      while ((slash = token.find('/')) != std::string::npos) {
        if (slash > 0) partition_group_[std::stoull(token.substr(0, slash))] = group;
        ++group;
        token = token.substr(slash + 1);
      }
      if (!token.empty()) partition_group_[std::stoull(token)] = group;
    }
    out += "partitioned\n";
  } else if (c == "cut") {
    // cut <from> <to>: one-way link failure.
    cut_links_.insert({Arg(cmd, 0), Arg(cmd, 1)});
  } else if (c == "heal") {
    partition_group_.clear();
    cut_links_.clear();
  } else if (c == "transfer-leader") {
    // transfer-leader <at> <target>
    report(Get(Arg(cmd, 0)).raw->TransferLeader(Arg(cmd, 1)));
  } else if (c == "read-index") {
    if (cmd.args.size() < 2) Fail(cmd, "usage: read-index <id> <context>");
    report(Get(Arg(cmd, 0)).raw->ReadIndex(cmd.args[1]));
  } else if (c == "compact") {
    // compact <id> <index>: snapshot the applied state at <index> and drop the log before it.
    Node& n = Get(Arg(cmd, 0));
    const Index index = Arg(cmd, 1);
    std::string data;
    for (const std::string& a : n.applied) {
      if (std::stoull(a.substr(0, a.find(':'))) > index) break;
      if (!data.empty()) data += ",";
      data += a;
    }
    auto snap = n.storage->CreateSnapshot(index, n.raw->status().conf_state, data);
    if (!snap.ok()) {
      report(snap.status());
    } else {
      report(n.storage->Compact(index));
    }
  } else if (c == "crash") {
    Get(Arg(cmd, 0)).crashed = true;
  } else if (c == "restart") {
    Restart(Get(Arg(cmd, 0)));
  } else if (c == "status") {
    out += StatusOf(Get(Arg(cmd, 0)));
  } else if (c == "raft-log") {
    out += RaftLog(Get(Arg(cmd, 0)));
  } else if (c == "raft-state") {
    out += RaftState();
  } else if (c == "applied") {
    for (NodeId id : IdsOrAll(cmd, 0)) {
      std::string line;
      for (const std::string& a : Get(id).applied) line += " " + a;
      out += std::to_string(id) + ":" + line + "\n";
    }
  } else if (c == "report-unreachable") {
    Get(Arg(cmd, 0)).raw->ReportUnreachable(Arg(cmd, 1));
  } else {
    Fail(cmd, "unknown command");
  }
  if (out.empty()) out = "ok\n";
  return out;
}

}  // namespace tri::raft::testing
