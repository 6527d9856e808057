// NodeCore end to end, deterministically: clusters of cores on simulated disks
// (io::SimFileSystem) exchanging messages through an in-memory queue.
#include "server/node_core.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "server/ids.h"

namespace tri::server {
namespace {

class Queue final : public MessageSink {
 public:
  void Send(std::vector<raft::Message> messages) override {
    for (auto& m : messages)
      q.push_back(std::move(m));
  }
  std::deque<raft::Message> q;
};

struct TestNode {
  std::unique_ptr<SeededRng> rng;
  std::unique_ptr<io::SimFileSystem> fs;
  std::unique_ptr<storage::WalRaftStorage> storage;
  std::unique_ptr<NodeCore> core;
  std::map<RequestToken, Completion> done;
  bool up = false;
};

class CoreCluster {
 public:
  explicit CoreCluster(int n, std::uint64_t snapshot_count = 100000)
      : snapshot_count_(snapshot_count) {
    for (int i = 1; i <= n; ++i) {
      Member m;
      m.id = static_cast<std::uint64_t>(i);
      m.name = "n" + std::to_string(i);
      m.peer_urls = {"http://127.0.0.1:" + std::to_string(2380 + i)};
      founders_.push_back(m);
    }
    for (int i = 1; i <= n; ++i) {
      auto& node = nodes_[static_cast<std::uint64_t>(i)];
      node.rng = std::make_unique<SeededRng>(1000 + i);
      node.fs = std::make_unique<io::SimFileSystem>(*node.rng);
      Start(static_cast<std::uint64_t>(i), /*bootstrap=*/true);
    }
  }

  void Start(std::uint64_t id, bool bootstrap) {
    TestNode& node = nodes_[id];
    storage::WalRaftStorageOptions sopts;
    sopts.wal.segment_size_bytes = 1 << 20;
    if (bootstrap) {
      raft::ConfState cs;
      for (const auto& m : founders_)
        cs.voters.insert(m.id);
      sopts.bootstrap = cs;
      sopts.bootstrap_data = NodeCore::FoundingSnapshotData(founders_, 42, rsm::KvOptions{});
    }
    auto st = storage::WalRaftStorage::Open(*node.fs, "/data", sopts);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    node.storage = std::move(*st);
    NodeCoreOptions o;
    o.id = id;
    o.cluster_id = 42;
    o.tick_ms = 10;
    o.request_timeout_ms = 3000;
    o.snapshot_count = snapshot_count_;
    o.snapshot_catchup_entries = 5;
    auto core = NodeCore::Create(o, node.storage.get(), &queue_, node.rng.get(), now_ms_);
    ASSERT_TRUE(core.ok()) << core.status().ToString();
    node.core = std::move(*core);
    node.up = true;
  }

  void Crash(std::uint64_t id) {
    TestNode& node = nodes_[id];
    node.core.reset();
    node.storage.reset();
    node.fs->Crash();
    node.up = false;
  }

  // One round: deliver queued messages, tick everyone, process.
  void Round() {
    now_ms_ += 10;
    std::deque<raft::Message> msgs;
    msgs.swap(queue_.q);
    for (auto& m : msgs) {
      auto it = nodes_.find(m.to);
      if (it != nodes_.end() && it->second.up) it->second.core->Step(std::move(m));
    }
    for (auto& [id, node] : nodes_) {
      if (!node.up) continue;
      node.core->Tick(now_ms_);
      ProcessOutput out = node.core->Process();
      ASSERT_TRUE(out.fatal.ok()) << out.fatal.ToString();
      for (auto& c : out.completions)
        node.done[c.token] = std::move(c);
    }
  }

  void RunUntil(const std::function<bool()>& cond, int max_rounds = 2000) {
    for (int i = 0; i < max_rounds && !cond(); ++i)
      Round();
    ASSERT_TRUE(cond()) << "condition not reached in " << max_rounds << " rounds";
  }

  std::uint64_t Leader() {
    for (auto& [id, node] : nodes_) {
      if (node.up && node.core->leader() == id) return id;
    }
    return 0;
  }

  RequestToken Put(std::uint64_t via, const std::string& key, const std::string& value) {
    rsm::PutRequest p;
    p.key = key;
    p.value = value;
    const RequestToken t = ++next_token_;
    nodes_[via].core->Propose(t, rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(p)));
    return t;
  }

  std::optional<std::string> Get(std::uint64_t via, const std::string& key) {
    rsm::RangeRequest r;
    r.key = key;
    auto resp = nodes_[via].core->state_machine().Range(r);
    if (!resp.ok() || resp->kvs.empty()) return std::nullopt;
    return resp->kvs[0].value;
  }

  TestNode& node(std::uint64_t id) { return nodes_[id]; }
  RequestToken NextToken() { return ++next_token_; }

 private:
  std::uint64_t snapshot_count_;
  std::vector<Member> founders_;
  std::map<std::uint64_t, TestNode> nodes_;
  Queue queue_;
  std::uint64_t now_ms_ = 1'700'000'000'000;
  RequestToken next_token_ = 0;
};

TEST(NodeCoreTest, OneMemberElectsItselfAndAppliesPuts) {
  CoreCluster c(1);
  c.RunUntil([&] { return c.Leader() == 1; });
  const RequestToken t = c.Put(1, "k", "v");
  c.RunUntil([&] { return c.node(1).done.count(t) != 0; });
  const Completion& done = c.node(1).done[t];
  ASSERT_TRUE(done.status.ok()) << done.status.ToString();
  ASSERT_TRUE(done.applied->result.ok());
  EXPECT_EQ(c.Get(1, "k"), "v");
  const RequestToken r = c.NextToken();
  c.node(1).core->ReadLinearizable(r);
  c.RunUntil([&] { return c.node(1).done.count(r) != 0; }, 50);
  EXPECT_TRUE(c.node(1).done[r].status.ok());
}

TEST(NodeCoreTest, FollowersForwardWritesAndReadsAreLinearizable) {
  CoreCluster c(3);
  c.RunUntil([&] { return c.Leader() != 0; });
  const std::uint64_t follower = c.Leader() == 1 ? 2 : 1;
  const RequestToken t = c.Put(follower, "k", "v1");
  c.RunUntil([&] { return c.node(follower).done.count(t) != 0; });
  ASSERT_TRUE(c.node(follower).done[t].status.ok());
  const RequestToken r = c.NextToken();
  c.node(follower).core->ReadLinearizable(r);
  c.RunUntil([&] { return c.node(follower).done.count(r) != 0; });
  ASSERT_TRUE(c.node(follower).done[r].status.ok());
  EXPECT_EQ(c.Get(follower, "k"), "v1");
}

TEST(NodeCoreTest, RestartKeepsEveryAcknowledgedWrite) {
  CoreCluster c(3, /*snapshot_count=*/20);
  c.RunUntil([&] { return c.Leader() != 0; });
  std::vector<std::pair<std::uint64_t, RequestToken>> acks;
  for (int i = 0; i < 60; ++i) {
    const std::uint64_t leader = c.Leader();
    if (leader == 0) {
      c.Round();
      continue;
    }
    acks.emplace_back(leader, c.Put(leader, "k" + std::to_string(i), std::to_string(i)));
    c.Round();
  }
  c.RunUntil([&] {
    for (auto& [n, t] : acks)
      if (!c.node(n).done.count(t)) return false;
    return true;
  });
  for (std::uint64_t id = 1; id <= 3; ++id) {
    c.Crash(id);
    c.Start(id, /*bootstrap=*/false);
  }
  c.RunUntil([&] { return c.Leader() != 0; });
  // Every node catches up to everything acknowledged, from its snapshot and log.
  c.RunUntil([&] {
    for (std::uint64_t id = 1; id <= 3; ++id)
      if (c.Get(id, "k59") != "59") return false;
    return true;
  });
  for (int i = 0; i < 60; ++i)
    EXPECT_EQ(c.Get(1, "k" + std::to_string(i)), std::to_string(i));
  EXPECT_EQ(c.node(1).core->state_machine().StateHash(),
            c.node(2).core->state_machine().StateHash());
}

TEST(NodeCoreTest, WritesWithoutQuorumFailWithinTheRequestTimeout) {
  CoreCluster c(3);
  c.RunUntil([&] { return c.Leader() != 0; });
  const std::uint64_t leader = c.Leader();
  for (std::uint64_t id = 1; id <= 3; ++id) {
    if (id != leader) c.Crash(id);
  }
  const RequestToken t = c.Put(leader, "k", "v");
  c.RunUntil([&] { return c.node(leader).done.count(t) != 0; }, 1000);
  const Completion& done = c.node(leader).done[t];
  EXPECT_EQ(done.status.code(), StatusCode::kUnavailable) << done.status.ToString();
}

TEST(NodeCoreTest, MembershipAddPromoteRemove) {
  CoreCluster c(3);
  c.RunUntil([&] { return c.Leader() != 0; });
  const std::uint64_t leader = c.Leader();
  Member m;
  m.id = 99;
  m.peer_urls = {"http://127.0.0.1:9999"};
  const RequestToken add = c.NextToken();
  c.node(leader).core->ProposeMemberAdd(add, m, /*as_learner=*/true);
  c.RunUntil([&] { return c.node(leader).done.count(add) != 0; });
  ASSERT_TRUE(c.node(leader).done[add].status.ok()) << c.node(leader).done[add].status.ToString();
  ASSERT_NE(c.node(leader).core->members().Find(99), nullptr);
  EXPECT_TRUE(c.node(leader).core->members().Find(99)->is_learner);
  // A member that does not exist cannot be promoted; a voter cannot be promoted.
  const RequestToken bad = c.NextToken();
  c.node(leader).core->ProposeMemberPromote(bad, leader);
  c.Round();
  EXPECT_EQ(c.node(leader).done[bad].status.code(), StatusCode::kFailedPrecondition);
  const RequestToken rm = c.NextToken();
  c.node(leader).core->ProposeMemberRemove(rm, 99);
  c.RunUntil([&] { return c.node(leader).done.count(rm) != 0; });
  ASSERT_TRUE(c.node(leader).done[rm].status.ok());
  EXPECT_TRUE(c.node(leader).core->members().IsRemoved(99));
}

// Found by `tri-sim node`: the hard state's commit is synced lazily, so a node that
// crashed after taking a snapshot could recover a commit below the snapshot index,
// which raft refuses; the node must start, with the commit the snapshot proves.
TEST(NodeCoreTest, RestartsWhenTheRecordedCommitLagsBehindItsSnapshot) {
  SeededRng rng(7);
  io::SimFileSystem fs(rng);
  Member founder;
  founder.id = 1;
  founder.name = "n1";
  founder.peer_urls = {"http://127.0.0.1:2381"};
  const std::string founding = NodeCore::FoundingSnapshotData({founder}, 42, rsm::KvOptions{});
  storage::WalRaftStorageOptions sopts;
  raft::ConfState cs;
  cs.voters.insert(1);
  sopts.bootstrap = cs;
  sopts.bootstrap_data = founding;
  {
    auto st = storage::WalRaftStorage::Open(fs, "/data", sopts);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::vector<raft::Entry> entries;
    for (raft::Index i = 1; i <= 10; ++i) {
      raft::Entry e;
      e.index = i;
      e.term = 1;
      entries.push_back(e);
    }
    ASSERT_TRUE((*st)->Append(entries).ok());
    ASSERT_TRUE((*st)->SetHardState({1, 1, 2}).ok());
    ASSERT_TRUE((*st)->Sync().ok());
    // Applied (and committed) up to 8, the commit not synced; a snapshot at 8.
    ASSERT_TRUE((*st)->CreateSnapshot(8, cs, founding).ok());
  }
  fs.Crash();
  auto st = storage::WalRaftStorage::Open(fs, "/data", sopts);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  Queue sink;
  NodeCoreOptions o;
  o.id = 1;
  o.cluster_id = 42;
  auto core = NodeCore::Create(o, st->get(), &sink, &rng, 1'700'000'000'000);
  ASSERT_TRUE(core.ok()) << core.status().ToString();
  EXPECT_EQ((*core)->committed_index(), 8u);
  EXPECT_EQ((*core)->applied_index(), 8u);
  EXPECT_EQ((*core)->raft_status().hard_state.commit, 8u);  // the core raised it; the disk catches up
}

// Found by `tri-sim coord`: a snapshot install replaced the state machine with a
// fresh one restored once, whose restore epoch (1) equalled that of the one it
// replaced when that too came from a snapshot, so the watch hub, which detects
// a replaced state by its epoch, missed the revisions the snapshot covered.
TEST(NodeCoreTest, ASnapshotInstallMovesTheRestoreEpochPastTheReplacedState) {
  CoreCluster c(3, /*snapshot_count=*/20);
  c.RunUntil([&] { return c.Leader() != 0; });
  auto put_all = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::uint64_t leader = c.Leader();
      if (leader != 0) c.Put(leader, "k" + std::to_string(i), "v");
      c.Round();
    }
  };
  put_all(0, 30);
  const std::uint64_t follower = c.Leader() == 1 ? 2 : 1;
  c.RunUntil([&] { return c.Get(follower, "k29") == "v"; });
  // The follower restarts from its own snapshot, then falls behind the
  // leader's compacted log and must install the leader's snapshot.
  c.Crash(follower);
  put_all(30, 90);
  c.Start(follower, /*bootstrap=*/false);
  const std::uint64_t epoch = c.node(follower).core->state_machine().restore_epoch();
  ASSERT_GE(epoch, 1u) << "the restart restored the follower's own snapshot";
  c.RunUntil([&] { return c.Get(follower, "k89") == "v"; });
  EXPECT_GT(c.node(follower).core->state_machine().restore_epoch(), epoch);
}

}  // namespace
}  // namespace tri::server
