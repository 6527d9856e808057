// Leases on NodeCore clusters (simulated disks, in-memory network), each
// member running the leader-only LeaseExecutor after every Process(), as the
// node's loop does; and the executor alone against a fake proposer.

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "server/lease_executor.h"
#include "server/node_core.h"

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

using Done = std::function<void(Status, const rsm::Applied*)>;

struct Member final : public LeaseProposer {
  std::unique_ptr<SeededRng> rng;
  std::unique_ptr<io::SimFileSystem> fs;
  std::unique_ptr<storage::WalRaftStorage> storage;
  std::unique_ptr<NodeCore> core;
  std::unique_ptr<LeaseExecutor> executor;
  std::map<RequestToken, Done> waiting;
  RequestToken* next_token = nullptr;
  bool up = false;

  void ProposeLease(std::string payload, Done done) override {
    const RequestToken token = ++*next_token;
    waiting[token] = std::move(done);
    core->Propose(token, rsm::CommandKind::kLease, std::move(payload));
  }
};

class LeaseCluster {
 public:
  explicit LeaseCluster(int n) {
    std::vector<server::Member> founders;
    for (int i = 1; i <= n; ++i) {
      server::Member m;
      m.id = static_cast<std::uint64_t>(i);
      m.name = "n" + std::to_string(i);
      m.peer_urls = {"http://127.0.0.1:" + std::to_string(2380 + i)};
      founders.push_back(m);
    }
    founding_ = NodeCore::FoundingSnapshotData(founders, 42, rsm::KvOptions{});
    for (const auto& f : founders)
      voters_.voters.insert(f.id);
    for (int i = 1; i <= n; ++i) {
      auto& member = members_[static_cast<std::uint64_t>(i)];
      member.rng = std::make_unique<SeededRng>(7000 + i);
      member.fs = std::make_unique<io::SimFileSystem>(*member.rng);
      member.next_token = &next_token_;
      Start(static_cast<std::uint64_t>(i));
    }
  }

  void Start(std::uint64_t id) {
    Member& m = members_[id];
    storage::WalRaftStorageOptions sopts;
    sopts.wal.segment_size_bytes = 1 << 20;
    sopts.bootstrap = voters_;
    sopts.bootstrap_data = founding_;
    auto st = storage::WalRaftStorage::Open(*m.fs, "/data", sopts);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    m.storage = std::move(*st);
    NodeCoreOptions o;
    o.id = id;
    o.cluster_id = 42;
    o.tick_ms = 10;
    o.request_timeout_ms = 3000;
    o.leases.min_ttl_s = 1;
    auto core = NodeCore::Create(o, m.storage.get(), &queue_, m.rng.get(), now_ms_);
    ASSERT_TRUE(core.ok()) << core.status().ToString();
    m.core = std::move(*core);
    NodeCore* raw = m.core.get();
    m.executor = std::make_unique<LeaseExecutor>(
        LeaseExecutorOptions{}, &m,
        [raw]() -> const rsm::LeaseTable& { return raw->state_machine().leases(); });
    m.up = true;
  }

  void Crash(std::uint64_t id) {
    Member& m = members_[id];
    m.executor.reset();
    m.core.reset();
    m.storage.reset();
    m.waiting.clear();
    m.fs->Crash();
    m.up = false;
  }

  // One round of 10 ms: deliver, tick, process, hand completions back, run
  // each member's executor.
  void Round() {
    now_ms_ += 10;
    std::deque<raft::Message> msgs;
    msgs.swap(queue_.q);
    for (auto& msg : msgs) {
      auto it = members_.find(msg.to);
      if (it != members_.end() && it->second.up) it->second.core->Step(std::move(msg));
    }
    for (auto& [id, m] : members_) {
      if (!m.up) continue;
      m.core->Tick(now_ms_);
      ProcessOutput out = m.core->Process();
      ASSERT_TRUE(out.fatal.ok()) << out.fatal.ToString();
      for (auto& c : out.completions) {
        auto w = m.waiting.find(c.token);
        if (w == m.waiting.end()) continue;
        Done done = std::move(w->second);
        m.waiting.erase(w);
        done(c.status, c.applied ? &*c.applied : nullptr);
      }
      m.executor->Round(m.core->LeaderReady(), m.core->term(), now_ms_);
    }
  }

  void RunFor(std::uint64_t ms) {
    for (std::uint64_t end = now_ms_ + ms; now_ms_ < end;)
      Round();
  }

  void RunUntil(const std::function<bool()>& cond, int max_rounds = 3000) {
    for (int i = 0; i < max_rounds && !cond(); ++i)
      Round();
    ASSERT_TRUE(cond()) << "condition not reached in " << max_rounds << " rounds";
  }

  std::uint64_t Leader() {
    for (auto& [id, m] : members_) {
      if (m.up && m.core->leader() == id && m.core->LeaderReady()) return id;
    }
    return 0;
  }

  // Proposes through `via` and runs until applied there; returns the result.
  rsm::Applied Apply(std::uint64_t via, rsm::CommandKind kind, std::string payload) {
    std::optional<rsm::Applied> result;
    const RequestToken token = ++next_token_;
    members_[via].waiting[token] = [&result](Status s, const rsm::Applied* a) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (a != nullptr) result = *a;
    };
    members_[via].core->Propose(token, kind, std::move(payload));
    RunUntil([&] { return result.has_value(); });
    if (!result) return rsm::Applied{0, 0, 0, rsm::ErrUnimplemented("not applied"), {}, {}};
    return *result;
  }
  rsm::Applied Lease(std::uint64_t via, const rsm::LeaseCommand& c) {
    return Apply(via, rsm::CommandKind::kLease, rsm::EncodeLeaseCommand(c));
  }
  rsm::Applied Put(std::uint64_t via, std::string key, std::int64_t lease) {
    rsm::PutRequest p;
    p.key = std::move(key);
    p.value = "v";
    p.lease = lease;
    return Apply(via, rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(p)));
  }

  // Every up member has applied what the leader has, and all agree.
  void Converge() {
    RunUntil([&] {
      std::uint64_t applied = 0;
      for (auto& [id, m] : members_) {
        if (!m.up) continue;
        if (applied != 0 && m.core->applied_index() != applied) return false;
        applied = m.core->applied_index();
      }
      return true;
    });
  }

  Member& member(std::uint64_t id) { return members_[id]; }
  const rsm::StateMachine& sm(std::uint64_t id) { return members_[id].core->state_machine(); }
  std::uint64_t now_ms() const { return now_ms_; }
  const std::map<std::uint64_t, Member>& members() const { return members_; }

 private:
  std::string founding_;
  raft::ConfState voters_;
  std::map<std::uint64_t, Member> members_;
  Queue queue_;
  std::uint64_t now_ms_ = 1'700'000'000'000;
  RequestToken next_token_ = 0;
};

bool Live(const rsm::StateMachine& sm, const std::string& key) {
  rsm::RangeRequest r;
  r.key = key;
  auto resp = sm.Range(r);
  return resp.ok() && resp->count == 1;
}

TEST(LeaseCluster, ExpiryDeletesTheKeysInOneRevisionOnEveryReplica) {
  LeaseCluster c(3);
  c.RunUntil([&] { return c.Leader() != 0 && c.member(c.Leader()).executor->promoted(); });
  const std::uint64_t leader = c.Leader();
  ASSERT_TRUE(c.Lease(leader, rsm::LeaseGrant{5, 2}).result.ok());
  ASSERT_TRUE(c.Put(leader, "a", 5).result.ok());
  ASSERT_TRUE(c.Put(leader, "b", 5).result.ok());
  ASSERT_TRUE(c.Put(leader, "c", 0).result.ok());
  const std::int64_t revision = c.sm(leader).store().current_revision();
  const std::uint64_t expiry = c.sm(leader).leases().Find(5)->expiry_ms;
  c.RunUntil([&] { return c.sm(leader).leases().Find(5) == nullptr; });
  EXPECT_GE(c.now_ms(), expiry);
  c.Converge();
  for (const auto& [id, m] : c.members()) {
    const rsm::StateMachine& sm = m.core->state_machine();
    EXPECT_EQ(sm.store().current_revision(), revision + 1) << "member " << id;
    EXPECT_FALSE(Live(sm, "a")) << "member " << id;
    EXPECT_FALSE(Live(sm, "b")) << "member " << id;
    EXPECT_TRUE(Live(sm, "c")) << "member " << id;
    EXPECT_EQ(sm.StateHash(), c.sm(leader).StateHash()) << "member " << id;
  }
  EXPECT_EQ(c.member(leader).executor->stats().leases_expired, 1u);
}

TEST(LeaseCluster, AKeepAliveCommittedWithinTheTtlPreventsExpiry) {
  LeaseCluster c(3);
  c.RunUntil([&] { return c.Leader() != 0 && c.member(c.Leader()).executor->promoted(); });
  const std::uint64_t leader = c.Leader();
  const std::uint64_t follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.Lease(leader, rsm::LeaseGrant{9, 2}).result.ok());
  ASSERT_TRUE(c.Put(leader, "kept", 9).result.ok());
  // Keep-alives through a follower every second for three TTLs.
  for (int i = 0; i < 6; ++i) {
    c.RunFor(1000);
    rsm::Applied keep = c.Lease(follower, rsm::LeaseKeepAlive{{9}});
    ASSERT_TRUE(keep.lease.has_value());
    EXPECT_EQ(keep.lease->renewed, (std::vector<rsm::LeaseTtl>{{9, 2}}));
  }
  EXPECT_TRUE(Live(c.sm(leader), "kept"));
  // Without them it expires.
  c.RunFor(2500);
  c.Converge();
  EXPECT_EQ(c.sm(follower).leases().Find(9), nullptr);
  EXPECT_FALSE(Live(c.sm(follower), "kept"));
}

TEST(LeaseCluster, ANewLeaderGivesEveryLeaseItsFullTtlAgain) {
  LeaseCluster c(3);
  c.RunUntil([&] { return c.Leader() != 0 && c.member(c.Leader()).executor->promoted(); });
  const std::uint64_t old_leader = c.Leader();
  ASSERT_TRUE(c.Lease(old_leader, rsm::LeaseGrant{3, 4}).result.ok());
  c.RunFor(3000);  // 1 s of the TTL left
  c.Crash(old_leader);
  std::uint64_t new_leader = 0;
  c.RunUntil([&] {
    new_leader = c.Leader();
    return new_leader != 0 && c.member(new_leader).executor->promoted();
  });
  const std::uint64_t promoted_at = c.sm(new_leader).time_ms();
  const rsm::Lease* lease = c.sm(new_leader).leases().Find(3);
  ASSERT_NE(lease, nullptr) << "expired across the leader change";
  EXPECT_GE(lease->expiry_ms, promoted_at + 4000);
  // Still there a full TTL minus a little after the promotion, gone after it.
  c.RunFor(3500);
  EXPECT_NE(c.sm(new_leader).leases().Find(3), nullptr);
  c.RunUntil([&] { return c.sm(new_leader).leases().Find(3) == nullptr; });
}

// ---- the executor alone ----

class FakeProposer final : public LeaseProposer {
 public:
  void ProposeLease(std::string payload, Done done) override {
    auto command = rsm::DecodeLeaseCommand(payload, {});
    ASSERT_TRUE(command.ok());
    proposed.push_back(*command);
    dones.push_back(std::move(done));
  }
  std::vector<rsm::LeaseCommand> proposed;
  std::vector<Done> dones;
};

rsm::Applied AppliedOk() {
  return rsm::Applied{0, 0, 0, rsm::Response(rsm::RangeResponse{}), {}, rsm::LeaseReply{}};
}

TEST(LeaseExecutorTest, NothingBeforeLeaderReadyThenPromoteOncePerTermBeforeAnyExpire) {
  rsm::LeaseTable table;
  ASSERT_TRUE(table.Grant(1, 10, 0).ok());
  FakeProposer proposer;
  LeaseExecutor executor({}, &proposer, [&]() -> const rsm::LeaseTable& { return table; });
  executor.Round(false, 1, 20000);
  EXPECT_TRUE(proposer.proposed.empty());
  executor.Round(true, 1, 20000);
  executor.Round(true, 1, 20000);
  ASSERT_EQ(proposer.proposed.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<rsm::LeasePromote>(proposer.proposed[0]));
  const rsm::Applied ok = AppliedOk();
  proposer.dones[0](Status::Ok(), &ok);
  executor.Round(true, 1, 20000);
  ASSERT_EQ(proposer.proposed.size(), 2u);
  EXPECT_EQ(std::get<rsm::LeaseExpire>(proposer.proposed[1]).ids, (std::vector<std::int64_t>{1}));
  // In flight: not proposed again until it comes back.
  executor.Round(true, 1, 20000);
  EXPECT_EQ(proposer.proposed.size(), 2u);
  // A new term promotes again first.
  executor.Round(true, 2, 20000);
  ASSERT_EQ(proposer.proposed.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<rsm::LeasePromote>(proposer.proposed[2]));
}

TEST(LeaseExecutorTest, AFailedPromoteIsProposedAgain) {
  rsm::LeaseTable table;
  FakeProposer proposer;
  LeaseExecutor executor({}, &proposer, [&]() -> const rsm::LeaseTable& { return table; });
  executor.Round(true, 1, 0);
  proposer.dones[0](Unavailable("timed out"), nullptr);
  EXPECT_FALSE(executor.promoted());
  executor.Round(true, 1, 0);
  ASSERT_EQ(proposer.proposed.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<rsm::LeasePromote>(proposer.proposed[1]));
}

TEST(LeaseExecutorTest, ExpiriesAreBoundedPerEntryAndPerSecond) {
  rsm::LeaseTable table;
  for (std::int64_t id = 1; id <= 10; ++id)
    ASSERT_TRUE(table.Grant(id, 1, static_cast<std::uint64_t>(id)).ok());
  FakeProposer proposer;
  LeaseExecutor executor({.max_expire_per_entry = 2, .max_expire_per_second = 5}, &proposer,
                         [&]() -> const rsm::LeaseTable& { return table; });
  executor.Round(true, 1, 100000);
  const rsm::Applied ok = AppliedOk();
  proposer.dones[0](Status::Ok(), &ok);
  for (int i = 0; i < 5; ++i)
    executor.Round(true, 1, 100000);
  // Entries of 2, 2, 1, earliest expiry first: 5 in this second.
  ASSERT_EQ(proposer.proposed.size(), 4u);
  EXPECT_EQ(std::get<rsm::LeaseExpire>(proposer.proposed[1]).ids,
            (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(std::get<rsm::LeaseExpire>(proposer.proposed[2]).ids,
            (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(std::get<rsm::LeaseExpire>(proposer.proposed[3]).ids, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(executor.next_wake_ms(), 101000u);
  executor.Round(true, 1, 101000);
  ASSERT_EQ(proposer.proposed.size(), 5u);
  EXPECT_EQ(std::get<rsm::LeaseExpire>(proposer.proposed[4]).ids,
            (std::vector<std::int64_t>{6, 7}));
}

TEST(LeaseExecutorTest, LosingLeadershipForgetsWhatWasInFlight) {
  rsm::LeaseTable table;
  ASSERT_TRUE(table.Grant(1, 1, 0).ok());
  FakeProposer proposer;
  LeaseExecutor executor({}, &proposer, [&]() -> const rsm::LeaseTable& { return table; });
  executor.Round(true, 1, 5000);
  const rsm::Applied ok = AppliedOk();
  proposer.dones[0](Status::Ok(), &ok);
  executor.Round(true, 1, 5000);
  ASSERT_EQ(proposer.proposed.size(), 2u);
  executor.Round(false, 1, 5000);
  EXPECT_EQ(executor.next_wake_ms(), UINT64_MAX);
  // A stale callback of the old term changes nothing; the new term starts over.
  proposer.dones[1](Status::Ok(), &ok);
  executor.Round(true, 3, 5000);
  ASSERT_EQ(proposer.proposed.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<rsm::LeasePromote>(proposer.proposed[2]));
}

}  // namespace
}  // namespace tri::server
