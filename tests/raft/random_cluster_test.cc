// Randomized clusters of the real core under message loss, duplication,
// reordering, partitions, crashes (losing whatever was not persisted),
// compaction with snapshots, membership changes and leader transfers. Checks
// election safety, state-machine safety, commit monotonicity and, once the
// faults stop, liveness. A failure prints the seed; TRI_RAFT_RANDOM_SEEDS=N
// runs more seeds (default 200).

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

#include "base/rng.h"
#include "raft/internal/raft.h"
#include "raft/raw_node.h"

namespace tri::raft {
namespace {

struct AppliedEntry {
  Index index;
  Term term;
  std::string data;
};

std::string EncodeApplied(const std::vector<AppliedEntry>& entries) {
  std::string out;
  for (const AppliedEntry& e : entries) {
    out += std::to_string(e.index) + " " + std::to_string(e.term) + " " +
           std::to_string(e.data.size()) + " " + e.data;
  }
  return out;
}

std::vector<AppliedEntry> DecodeApplied(const std::string& s) {
  std::vector<AppliedEntry> out;
  std::istringstream in(s);
  while (true) {
    AppliedEntry e;
    std::size_t len = 0;
    if (!(in >> e.index >> e.term >> len)) break;
    in.get();
    e.data.resize(len);
    in.read(e.data.data(), static_cast<std::streamsize>(len));
    out.push_back(std::move(e));
  }
  return out;
}

class RandomCluster {
 public:
  explicit RandomCluster(std::uint64_t seed) : rng_(seed), raft_rng_(seed ^ 0x9e37) {}

  void Run(int voters, int steps) {
    ConfState cs;
    for (NodeId id = 1; id <= static_cast<NodeId>(voters); ++id) cs.voters.insert(id);
    for (NodeId id = 1; id <= static_cast<NodeId>(voters); ++id) AddNode(id, cs);
    next_id_ = voters + 1;
    for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) RandomStep();
    if (::testing::Test::HasFailure()) return;
    CheckLiveness();
    if (std::getenv("TRI_RAFT_SUMMARY")) {
      std::size_t snaps = 0;
      for (auto& [id, n] : nodes_) snaps += n.storage->GetSnapshot()->metadata.index > 0;
      fprintf(stderr, "nodes %zu terms %zu committed %zu nodes-with-snapshot %zu reads %lu\n",
              nodes_.size(), leader_of_term_.size(), committed_.size(), snaps,
              static_cast<unsigned long>(reads_answered_));
    }
  }

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    Config config;
    bool up = true;
    std::vector<AppliedEntry> applied;
    Index commit_floor = 0;
  };

  void AddNode(NodeId id, const ConfState& cs) {
    Node& n = nodes_[id];
    n.storage = std::make_unique<MemoryStorage>(cs);
    n.config.id = id;
    n.config.storage = n.storage.get();
    n.config.rng = &raft_rng_;
    n.config.election_ticks = 10;
    n.config.heartbeat_ticks = 2;
    n.config.max_msg_size_bytes = 200;
    n.config.max_inflight_msgs = 4;
    n.config.max_snapshot_chunk_bytes = 64;
    Start(n);
  }

  void Start(Node& n) {
    if (trace_) fprintf(stderr, "START node %lu\n", n.config.id);
    auto raw = RawNode::Create(n.config);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    n.raw = std::move(raw).value();
    n.up = true;
    n.applied.clear();
    auto snap = n.storage->GetSnapshot();
    if (snap.ok() && !snap->empty()) n.applied = DecodeApplied(snap->data);
  }

  NodeId RandomNode() {
    auto it = nodes_.begin();
    std::advance(it, static_cast<long>(rng_.Uniform(nodes_.size())));
    return it->first;
  }

  NodeId Leader() const {
    for (const auto& [id, n] : nodes_) {
      if (n.up && n.raw->role() == Role::kLeader) return id;
    }
    return kNoNode;
  }

  bool Connected(NodeId a, NodeId b) const {
    auto ia = side_.find(a), ib = side_.find(b);
    const int sa = ia == side_.end() ? 0 : ia->second;
    const int sb = ib == side_.end() ? 0 : ib->second;
    return sa == sb;
  }

  bool trace_ = std::getenv("TRI_RAFT_TRACE") != nullptr;

  void CheckApplied(NodeId id, const AppliedEntry& e) {
    if (trace_ && e.index == 23) fprintf(stderr, "APPLY node %lu idx %lu term %lu\n", id, e.index, e.term);
    auto [it, inserted] = committed_.emplace(e.index, std::make_pair(e.term, e.data));
    if (!inserted) {
      ASSERT_EQ(it->second.first, e.term) << "state machine safety: node " << id << " index "
                                          << e.index << " seed " << seed_hint_;
      ASSERT_EQ(it->second.second, e.data) << "state machine safety at index " << e.index;
    }
  }

  void ProcessReady(NodeId id, bool crash_midway = false) {
    Node& n = nodes_[id];
    if (!n.up || !n.raw->HasReady()) return;
    Ready rd = n.raw->GetReady();
    if (trace_) {
      fprintf(stderr, "READY node %lu term %lu role %d", id, n.raw->term(), (int)n.raw->role());
      if (rd.hard_state) fprintf(stderr, " hs(%lu,%lu,%lu)", rd.hard_state->term, rd.hard_state->vote, rd.hard_state->commit);
      if (rd.snapshot) fprintf(stderr, " snap(%lu,%lu)", rd.snapshot->metadata.index, rd.snapshot->metadata.term);
      for (auto& e : rd.entries) fprintf(stderr, " e%lu/%lu", e.term, e.index);
      for (auto& e : rd.committed_entries) fprintf(stderr, " c%lu/%lu", e.term, e.index);
      for (auto& m : rd.messages) fprintf(stderr, " [%s->%lu t%lu i%lu lt%lu c%lu n%zu%s]", std::string(MessageTypeName(m.type)).c_str(), m.to, m.term, m.index, m.log_term, m.commit, m.entries.size(), m.reject?" R":"");
      if (rd.conf_state || rd.soft_state) { fprintf(stderr, " conf v:"); for (auto v : n.raw->status().conf_state.voters) fprintf(stderr, "%lu,", v); fprintf(stderr, " l:"); for (auto v : n.raw->status().conf_state.learners) fprintf(stderr, "%lu,", v); }
      fprintf(stderr, "%s\n", crash_midway ? " CRASH" : "");
    }
    if (crash_midway) {
      // Crash before anything of this Ready reached the disk.
      n.up = false;
      n.raw.reset();
      return;
    }
    if (rd.soft_state && rd.soft_state->role == Role::kLeader) {
      const Term term = n.raw->term();
      auto [it, inserted] = leader_of_term_.emplace(term, id);
      ASSERT_TRUE(inserted || it->second == id)
          << "election safety: two leaders in term " << term << ": " << it->second << " and "
          << id;
      // Leader completeness: every entry applied anywhere is in the new leader's log.
      const RaftLog& log = n.raw->raft_for_testing().log();
      for (auto c = committed_.lower_bound(log.FirstIndex()); c != committed_.end(); ++c) {
        ASSERT_EQ(log.TermOrZero(c->first), c->second.first)
            << "leader completeness: leader " << id << " of term " << term
            << " lacks committed index " << c->first;
      }
    }
    if (rd.snapshot) {
      ASSERT_TRUE(n.storage->ApplySnapshot(*rd.snapshot).ok());
      n.applied = DecodeApplied(rd.snapshot->data);
      for (const AppliedEntry& e : n.applied) CheckApplied(id, e);
    }
    ASSERT_TRUE(n.storage->Append(rd.entries).ok());
    if (rd.hard_state) {
      ASSERT_GE(rd.hard_state->commit, n.commit_floor) << "commit index regressed on " << id;
      n.commit_floor = rd.hard_state->commit;
      n.storage->SetHardState(*rd.hard_state);
    }
    for (Message& m : rd.messages) {
      EXPECT_LE(MessageSizeBytes(m), n.config.max_msg_size_bytes + 1024u) << "message too big";
      net_.push_back(std::move(m));
    }
    for (const ReadState& rs : rd.read_states) {
      auto it = read_floor_.find(rs.context);
      if (it == read_floor_.end()) continue;
      ASSERT_GE(rs.index, it->second) << "stale ReadIndex answer on node " << id << " for "
                                      << rs.context;
      ++reads_answered_;
      read_floor_.erase(it);
    }
    for (const Entry& e : rd.committed_entries) {
      if (!n.applied.empty()) {
        ASSERT_EQ(e.index, n.applied.back().index + 1) << "gap in apply";
      }
      AppliedEntry a{e.index, e.term, e.data};
      CheckApplied(id, a);
      n.applied.push_back(std::move(a));
    }
    n.raw->Advance();
  }

  void Deliver(std::size_t k, bool faults) {
    Message m = std::move(net_[k]);
    net_.erase(net_.begin() + static_cast<long>(k));
    if (faults && rng_.Bernoulli(0.05)) return;  // lost
    if (faults && rng_.Bernoulli(0.03)) net_.push_back(m);  // duplicated
    auto it = nodes_.find(m.to);
    if (it == nodes_.end() || !it->second.up || !Connected(m.from, m.to)) return;
    (void)it->second.raw->Step(std::move(m));
  }

  void RandomStep() {
    const std::uint64_t r = rng_.Uniform(1000);
    const NodeId id = RandomNode();
    Node& n = nodes_[id];
    if (r < 300) {
      if (n.up) n.raw->Tick();
    } else if (r < 650) {
      if (!net_.empty()) {
        // Mostly in order, sometimes reordered.
        const std::size_t k = rng_.Bernoulli(0.8) ? 0 : rng_.Uniform(net_.size());
        Deliver(k, true);
      }
    } else if (r < 900) {
      ProcessReady(id);
    } else if (r < 950) {
      if (n.up) (void)n.raw->Propose("v" + std::to_string(proposal_++));
    } else if (r < 960) {
      // Compact at the applied index, keeping a short tail.
      if (n.up && n.applied.size() > 3) {
        const Index at = n.applied.back().index;
        const Index first = n.storage->FirstIndex();
        if (at > first + 2 && at <= n.storage->LastIndex()) {
          auto snap = n.storage->CreateSnapshot(at, n.raw->status().conf_state,
                                                EncodeApplied(n.applied));
          if (trace_) fprintf(stderr, "COMPACT node %lu at %lu\n", id, at);
          if (snap.ok()) {
            ASSERT_TRUE(n.storage->Compact(at - 1).ok());
          }
        }
      }
    } else if (r < 968) {
      if (n.up && rng_.Bernoulli(0.5)) {
        ProcessReady(id, /*crash_midway=*/rng_.Bernoulli(0.5));
        if (n.up) {
          if (trace_) fprintf(stderr, "CRASH node %lu\n", id);
          n.up = false;
          n.raw.reset();
        }
      } else if (!n.up) {
        Start(n);
      }
    } else if (r < 976) {
      // Partition: each node on side 0 or 1, or heal.
      side_.clear();
      if (rng_.Bernoulli(0.6)) {
        for (const auto& [nid, node] : nodes_) side_[nid] = static_cast<int>(rng_.Uniform(2));
      }
    } else if (r < 984) {
      const NodeId leader = Leader();
      if (leader != kNoNode) (void)nodes_[leader].raw->TransferLeader(RandomNode());
    } else if (r < 990) {
      if (n.up) {
        const std::string ctx = "r" + std::to_string(proposal_++);
        // Everything applied anywhere before the read starts must be visible to it.
        const Index floor = committed_.empty() ? 0 : committed_.rbegin()->first;
        if (n.raw->ReadIndex(ctx).ok()) read_floor_[ctx] = floor;
      }
    } else {
      ChangeMembership();
    }
  }

  void ChangeMembership() {
    const NodeId leader = Leader();
    if (leader == kNoNode) return;
    const ConfState cs = nodes_[leader].raw->status().conf_state;
    ConfChange cc;
    const std::uint64_t what = rng_.Uniform(3);
    if (what == 0 && nodes_.size() < 7) {
      cc.type = ConfChangeType::kAddLearner;
      cc.node_id = next_id_;
      if (nodes_[leader].raw->ProposeConfChange(cc).ok()) {
        AddNode(next_id_, ConfState{});
        ++next_id_;
      }
    } else if (what == 1 && !cs.learners.empty()) {
      cc.type = ConfChangeType::kAddVoter;
      cc.node_id = *cs.learners.begin();
      (void)nodes_[leader].raw->ProposeConfChange(cc);
    } else if (what == 2 && cs.voters.size() > 3) {
      cc.type = ConfChangeType::kRemoveNode;
      auto it = cs.voters.begin();
      std::advance(it, static_cast<long>(rng_.Uniform(cs.voters.size())));
      cc.node_id = *it;
      (void)nodes_[leader].raw->ProposeConfChange(cc);
    }
  }

  void CheckLiveness() {
    side_.clear();
    for (auto& [id, n] : nodes_) {
      if (!n.up) Start(n);
    }
    // No faults from here on: a leader must emerge and commit a new proposal
    // on every current voter within a bounded number of rounds.
    bool proposed = false;
    for (int round = 0; round < 3000; ++round) {
      for (auto& [id, n] : nodes_) n.raw->Tick();
      for (int inner = 0; inner < 20; ++inner) {
        for (auto& [id, n] : nodes_) ProcessReady(id);
        while (!net_.empty()) Deliver(0, false);
      }
      if (::testing::Test::HasFailure()) return;
      const NodeId leader = Leader();
      if (leader == kNoNode) continue;
      if (!proposed) proposed = nodes_[leader].raw->Propose("final").ok();
      if (!proposed) continue;
      const ConfState cs = nodes_[leader].raw->status().conf_state;
      bool everywhere = true;
      for (NodeId v : cs.voters) {
        const auto& applied = nodes_[v].applied;
        bool has = false;
        for (auto it = applied.rbegin(); it != applied.rend() && !has; ++it) has = it->data == "final";
        everywhere &= has;
      }
      if (everywhere) return;
      // A proposal can be lost with a leader change (the client is told nothing): retry.
      if (round % 50 == 49) proposed = false;
    }
    std::string state;
    for (auto& [id, n] : nodes_) {
      const NodeStatus st = n.raw->status();
      state += "\n  node " + std::to_string(id) + " " + std::string(RoleName(st.soft_state.role)) +
               " term " + std::to_string(st.hard_state.term) + " lead " +
               std::to_string(st.soft_state.leader) + " commit " +
               std::to_string(st.hard_state.commit) + " last " + std::to_string(st.last_index) +
               " voters";
      for (NodeId v : st.conf_state.voters) state += " " + std::to_string(v);
      state += " learners";
      for (NodeId v : st.conf_state.learners) state += " " + std::to_string(v);
      for (const auto& [pid, p] : st.progress) {
        state += "\n    " + std::to_string(pid) + " " + std::string(ProgressStateName(p.state)) +
                 " match " + std::to_string(p.match) + " next " + std::to_string(p.next);
      }
    }
    FAIL() << "liveness: no leader committed a proposal on every voter after faults stopped"
           << state;
  }

 public:
  std::uint64_t seed_hint_ = 0;

 private:
  SeededRng rng_;
  SeededRng raft_rng_;
  std::map<NodeId, Node> nodes_;
  std::vector<Message> net_;
  std::map<NodeId, int> side_;
  std::map<Term, NodeId> leader_of_term_;
  std::map<Index, std::pair<Term, std::string>> committed_;
  std::map<std::string, Index> read_floor_;  // ReadIndex context -> applied index at call
  std::uint64_t reads_answered_ = 0;
  NodeId next_id_ = 1;
  std::uint64_t proposal_ = 0;
};

TEST(RandomCluster, SafeUnderFaultsAndLiveAfterwards) {
  int seeds = 200;
  if (const char* env = std::getenv("TRI_RAFT_RANDOM_SEEDS")) seeds = std::atoi(env);
  int first_seed = 1;
  if (const char* env = std::getenv("TRI_RAFT_RANDOM_SEED")) first_seed = seeds = std::atoi(env);
  for (int seed = first_seed; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomCluster c(static_cast<std::uint64_t>(seed));
    c.seed_hint_ = static_cast<std::uint64_t>(seed);
    c.Run(seed % 2 == 0 ? 5 : 3, 20000);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "replay with seed " << seed;
      return;
    }
  }
}

}  // namespace
}  // namespace tri::raft
