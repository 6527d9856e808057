// Native locks and barriers on a real one-member node (loopback, a temporary
// data directory) through client::CoordinationClient: FIFO hand-over with
// increasing fencing tokens, try-lock, wait timeouts and client cancels that
// leave the queue, lease expiry handing the lock over, barriers released once
// to streaming arrivals, timed out by the leader's timer with the absent list,
// and cascading. Plus the deterministic BarrierTimer on its own.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "client/coordination_client.h"
#include "client/failover.h"
#include "client/etcd_client.h"
#include "rsm/barrier_codec.h"
#include "rsm/barrier_table.h"
#include "server/barrier_timer.h"
#include "server/config.h"
#include "server/node.h"

namespace tri::server {
namespace {

namespace pb = ::trinity::v1;

class NodeCoordinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tri-node-coord-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ServerConfig c;
    c.name = "s1";
    c.data_dir = dir_.string();
    c.listen_client_urls = "http://127.0.0.1:0";
    c.advertise_client_urls = "http://127.0.0.1:1";
    c.listen_peer_urls = "http://127.0.0.1:0";
    c.initial_advertise_peer_urls = "http://127.0.0.1:1";
    c.listen_metrics_urls = "";
    c.listen_http_urls = "";
    c.heartbeat_interval_ms = 10;
    c.election_timeout_ms = 100;
    auto resolved = ResolveConfig(c);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    auto node = Node::Start(*resolved);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(*node);
    auto client = client::CoordinationClient::Connect(Options());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }
  void TearDown() override {
    client_.reset();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  client::ClientOptions Options(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    client::ClientOptions o;
    o.endpoints = {"127.0.0.1:" + std::to_string(node_->client_port())};
    o.command_timeout = timeout;
    return o;
  }

  static pb::AcquireLockRequest Request(const std::string& name, const std::string& owner,
                                        std::uint64_t wait_ms, std::int64_t ttl_s = 0) {
    pb::AcquireLockRequest r;
    r.set_name(name);
    r.set_owner(owner);
    r.set_wait_timeout_ms(wait_ms);
    r.set_ttl_seconds(ttl_s);
    return r;
  }

  pb::AcquireLockResponse AcquireOrDie(const pb::AcquireLockRequest& r) {
    auto resp = client_->Acquire(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : pb::AcquireLockResponse{};
  }

  // The lock as List shows it (an empty LockInfo when free).
  pb::LockInfo Lock(const std::string& name) {
    auto list = client_->ListLocks(name);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    for (const pb::LockInfo& l : list->locks())
      if (l.name() == name) return l;
    return {};
  }

  // Waits (polling List, no timing assertion) until `name` has `waiters` waiters.
  void AwaitWaiters(const std::string& name, int waiters) {
    for (int i = 0; i < 2000 && Lock(name).waiters_size() != waiters; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(Lock(name).waiters_size(), waiters);
  }

  std::string FenceValue(const std::string& key) {
    auto kv = client::EtcdClient::Connect(Options());
    EXPECT_TRUE(kv.ok());
    etcdserverpb::RangeRequest r;
    r.set_key(key);
    auto resp = (*kv)->Range(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp->kvs_size() == 0 ? "" : resp->kvs(0).value();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<client::CoordinationClient> client_;
};

TEST_F(NodeCoordinationTest, ThreeWaitersGetTheLockInFifoOrderWithIncreasingTokens) {
  const pb::AcquireLockResponse first = AcquireOrDie(Request("jobs", "a", 0));
  ASSERT_TRUE(first.acquired());
  EXPECT_EQ(first.hold_count(), 1u);
  EXPECT_GT(first.lease(), 0);  // the default-TTL lease the server granted
  EXPECT_EQ(first.fence_key(), "__trinity/locks/jobs");
  EXPECT_EQ(FenceValue(first.fence_key()), std::to_string(first.token()));

  std::vector<std::future<Result<pb::AcquireLockResponse>>> waiting;
  const std::vector<std::string> owners = {"b", "c", "d"};
  for (std::size_t i = 0; i < owners.size(); ++i) {
    waiting.push_back(std::async(std::launch::async, [this, owner = owners[i]] {
      return client_->Acquire(Request("jobs", owner, 60'000));
    }));
    AwaitWaiters("jobs", static_cast<int>(i + 1));  // queued in this order
  }
  const pb::LockInfo queued = Lock("jobs");
  ASSERT_EQ(queued.waiters_size(), 3);
  EXPECT_EQ(queued.waiters(0).owner(), "b");
  EXPECT_EQ(queued.waiters(2).owner(), "d");

  std::uint64_t token = first.token();
  std::string holder = "a";
  for (std::size_t i = 0; i < owners.size(); ++i) {
    auto released = client_->Release("jobs", holder);
    ASSERT_TRUE(released.ok()) << released.status().ToString();
    EXPECT_EQ(released->hold_count(), 0u);
    auto granted = waiting[i].get();
    ASSERT_TRUE(granted.ok()) << granted.status().ToString();
    EXPECT_TRUE(granted->acquired()) << owners[i];
    EXPECT_GT(granted->token(), token) << owners[i];
    EXPECT_EQ(Lock("jobs").holder(), owners[i]);
    EXPECT_EQ(FenceValue("__trinity/locks/jobs"), std::to_string(granted->token()));
    token = granted->token();
    holder = owners[i];
  }
  ASSERT_TRUE(client_->Release("jobs", "d").ok());
  EXPECT_EQ(Lock("jobs").name(), "");  // freed
  EXPECT_EQ(FenceValue("__trinity/locks/jobs"), "");
}

TEST_F(NodeCoordinationTest, ReentrantAcquireWithTheSameLeaseCountsHolds) {
  const pb::AcquireLockResponse first = AcquireOrDie(Request("r", "a", 0));
  ASSERT_TRUE(first.acquired());
  pb::AcquireLockRequest again = Request("r", "a", 0);
  again.set_lease(first.lease());
  const pb::AcquireLockResponse second = AcquireOrDie(again);
  EXPECT_TRUE(second.acquired());
  EXPECT_EQ(second.token(), first.token());
  EXPECT_EQ(second.hold_count(), 2u);
  EXPECT_EQ(client_->Release("r", "a")->hold_count(), 1u);
  EXPECT_EQ(client_->Release("r", "a")->hold_count(), 0u);
  // Released by an owner that does not hold it.
  auto bad = client_->Release("r", "a");
  ASSERT_FALSE(bad.ok());
}

TEST_F(NodeCoordinationTest, TryLockOnAHeldLockAnswersNotAcquiredAndLeavesNoWaiter) {
  ASSERT_TRUE(AcquireOrDie(Request("t", "a", 0)).acquired());
  const pb::AcquireLockResponse tried = AcquireOrDie(Request("t", "b", 0));
  EXPECT_FALSE(tried.acquired());
  EXPECT_EQ(tried.position(), 1u);
  EXPECT_EQ(tried.lease(), 0);  // the lease granted for it was revoked again
  EXPECT_EQ(Lock("t").waiters_size(), 0);
  EXPECT_EQ(Lock("t").holder(), "a");
}

TEST_F(NodeCoordinationTest, AWaitThatTimesOutLeavesTheQueue) {
  ASSERT_TRUE(AcquireOrDie(Request("w", "a", 0)).acquired());
  const pb::AcquireLockResponse timed_out = AcquireOrDie(Request("w", "b", 200));
  EXPECT_FALSE(timed_out.acquired());
  EXPECT_EQ(timed_out.position(), 1u);
  EXPECT_EQ(Lock("w").waiters_size(), 0);
  // The next waiter is not behind a ghost: a release hands the lock to nobody.
  ASSERT_TRUE(client_->Release("w", "a").ok());
  EXPECT_EQ(Lock("w").name(), "");
}

TEST_F(NodeCoordinationTest, AClientThatGivesUpWaitingLeavesTheQueue) {
  ASSERT_TRUE(AcquireOrDie(Request("c", "a", 0)).acquired());
  // Asks to wait a minute, but its own call deadline passes first: the server
  // sees the cancel and takes the waiter out of the queue.
  auto channel = client::DialChannel(Options().endpoints[0], 0, 1 << 20, {});
  auto stub = pb::Locks::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  pb::AcquireLockResponse out;
  const grpc::Status s = stub->Acquire(&ctx, Request("c", "b", 60'000), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  AwaitWaiters("c", 0);
  EXPECT_EQ(Lock("c").holder(), "a");
}

TEST_F(NodeCoordinationTest, AnExpiredLeaseHandsTheLockToTheNextWaiter) {
  // ttl 1 s (the minimum for a 100 ms election timeout); nobody keeps it alive.
  const pb::AcquireLockResponse zombie = AcquireOrDie(Request("e", "a", 0, 1));
  ASSERT_TRUE(zombie.acquired());
  const pb::AcquireLockResponse next = AcquireOrDie(Request("e", "b", 60'000, 30));
  ASSERT_TRUE(next.acquired());
  EXPECT_GT(next.token(), zombie.token());
  EXPECT_EQ(Lock("e").holder(), "b");
  EXPECT_EQ(FenceValue("__trinity/locks/e"), std::to_string(next.token()));
}

TEST_F(NodeCoordinationTest, ABarrierReleasesOnceToEveryStreamingArrival) {
  pb::CreateBarrierRequest create;
  create.set_name("start");
  create.set_participants(3);
  auto created = client_->CreateBarrier(create);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->state(), pb::COLLECTING);
  EXPECT_EQ(created->threshold(), 3u);

  std::vector<std::future<std::vector<pb::BarrierUpdate>>> arrivals;
  for (const std::string p : {"x", "y", "z"}) {
    arrivals.push_back(std::async(std::launch::async, [this, p] {
      std::vector<pb::BarrierUpdate> updates;
      const Status s =
          client_->Arrive("start", p, [&](const pb::BarrierUpdate& u) { updates.push_back(u); });
      EXPECT_TRUE(s.ok()) << s.ToString();
      return updates;
    }));
  }
  std::uint64_t ended_ms = 0;
  for (auto& f : arrivals) {
    const std::vector<pb::BarrierUpdate> updates = f.get();
    ASSERT_FALSE(updates.empty());
    EXPECT_TRUE(updates.front().counted());
    EXPECT_EQ(updates.back().barrier().state(), pb::RELEASED);
    EXPECT_EQ(updates.back().barrier().arrivals_size(), 3);
    for (std::size_t i = 0; i + 1 < updates.size(); ++i)
      EXPECT_EQ(updates[i].barrier().state(), pb::COLLECTING);
    if (ended_ms == 0) ended_ms = updates.back().barrier().ended_ms();
    EXPECT_EQ(updates.back().barrier().ended_ms(), ended_ms);  // one release
  }
  // A late arrival is answered at once, not counted.
  std::vector<pb::BarrierUpdate> late;
  ASSERT_TRUE(
      client_->Arrive("start", "w", [&](const pb::BarrierUpdate& u) { late.push_back(u); }).ok());
  ASSERT_EQ(late.size(), 1u);
  EXPECT_FALSE(late[0].counted());
  EXPECT_EQ(late[0].barrier().state(), pb::RELEASED);
}

TEST_F(NodeCoordinationTest, ATimedBarrierEndsTimedOutWithTheAbsentListByTheLeadersTimer) {
  pb::CreateBarrierRequest create;
  create.set_name("timed");
  for (const char* p : {"a", "b", "c"})
    create.add_participant_names(p);
  create.set_timeout_ms(300);
  ASSERT_TRUE(client_->CreateBarrier(create).ok());
  std::vector<pb::BarrierUpdate> updates;
  const Status s =
      client_->Arrive("timed", "a", [&](const pb::BarrierUpdate& u) { updates.push_back(u); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_FALSE(updates.empty());
  const pb::BarrierInfo& last = updates.back().barrier();
  EXPECT_EQ(last.state(), pb::TIMED_OUT);
  ASSERT_EQ(last.absent_size(), 2);
  EXPECT_EQ(last.absent(0), "b");
  EXPECT_EQ(last.absent(1), "c");
  EXPECT_EQ(last.absent_count(), 2u);
  auto status = client_->BarrierStatus("timed");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), pb::TIMED_OUT);
}

TEST_F(NodeCoordinationTest, ABarrierWaitsForItsPredecessorAndIsCancelledWithIt) {
  pb::CreateBarrierRequest first;
  first.set_name("stage1");
  first.set_participants(1);
  ASSERT_TRUE(client_->CreateBarrier(first).ok());
  pb::CreateBarrierRequest second;
  second.set_name("stage2");
  second.set_participants(1);
  second.set_predecessor("stage1");
  auto created = client_->CreateBarrier(second);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->state(), pb::WAITING_FOR_PREDECESSOR);
  const Status early = client_->Arrive("stage2", "p", [](const pb::BarrierUpdate&) {});
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition) << early.ToString();

  pb::CreateBarrierRequest third;
  third.set_name("stage3");
  third.set_participants(1);
  third.set_predecessor("stage2");
  ASSERT_TRUE(client_->CreateBarrier(third).ok());
  auto cancelled = client_->CancelBarrier("stage1");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), pb::CANCELLED);
  auto list = client_->ListBarriers("stage");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->barriers_size(), 3);
  for (const pb::BarrierInfo& b : list->barriers())
    EXPECT_EQ(b.state(), pb::CANCELLED) << b.name();
  auto removed = client_->RemoveBarrier("stage1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(client_->BarrierStatus("stage1").status().code(), StatusCode::kNotFound);
}

TEST_F(NodeCoordinationTest, ReleasingAPredecessorOpensItsSuccessor) {
  pb::CreateBarrierRequest first;
  first.set_name("p1");
  first.set_participants(1);
  ASSERT_TRUE(client_->CreateBarrier(first).ok());
  pb::CreateBarrierRequest second;
  second.set_name("p2");
  second.set_participants(2);
  second.set_threshold_count(1);
  second.set_predecessor("p1");
  ASSERT_TRUE(client_->CreateBarrier(second).ok());
  ASSERT_TRUE(client_->Arrive("p1", "x", [](const pb::BarrierUpdate&) {}).ok());
  EXPECT_EQ(client_->BarrierStatus("p2")->state(), pb::COLLECTING);
  std::vector<pb::BarrierUpdate> updates;
  ASSERT_TRUE(
      client_->Arrive("p2", "x", [&](const pb::BarrierUpdate& u) { updates.push_back(u); }).ok());
  EXPECT_EQ(updates.back().barrier().state(), pb::RELEASED);
}

TEST_F(NodeCoordinationTest, RemovingABarrierEndsItsArriveStreamsWithRemoved) {
  pb::CreateBarrierRequest create;
  create.set_name("gone");
  create.set_participants(2);
  ASSERT_TRUE(client_->CreateBarrier(create).ok());
  auto stream = std::async(std::launch::async, [this] {
    std::vector<pb::BarrierUpdate> updates;
    EXPECT_TRUE(
        client_->Arrive("gone", "a", [&](const pb::BarrierUpdate& u) { updates.push_back(u); })
            .ok());
    return updates;
  });
  for (int i = 0; i < 2000 && client_->BarrierStatus("gone")->arrivals_size() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(client_->RemoveBarrier("gone").ok());
  const std::vector<pb::BarrierUpdate> updates = stream.get();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back().barrier().state(), pb::REMOVED);
}

TEST_F(NodeCoordinationTest, StoppingTheNodeEndsWaitingAcquiresAndArriveStreams) {
  ASSERT_TRUE(AcquireOrDie(Request("s", "a", 0)).acquired());
  pb::CreateBarrierRequest create;
  create.set_name("never");
  create.set_participants(2);
  ASSERT_TRUE(client_->CreateBarrier(create).ok());
  auto waiting = std::async(std::launch::async,
                            [this] { return client_->Acquire(Request("s", "b", 60'000)); });
  auto arriving = std::async(std::launch::async, [this] {
    return client_->Arrive("never", "x", [](const pb::BarrierUpdate&) {});
  });
  AwaitWaiters("s", 1);
  for (int i = 0; i < 2000 && client_->BarrierStatus("never")->arrivals_size() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  node_->Shutdown();
  EXPECT_TRUE(node_->Wait().ok());
  const auto acquired = waiting.get();
  EXPECT_FALSE(acquired.ok() && acquired->acquired());
  EXPECT_FALSE(arriving.get().ok());
}

// --- BarrierTimer, deterministic ----------------------------------------------

TEST(BarrierTimerTest, ProposesOneExpireWhenTheLeadersClockPassesADeadline) {
  rsm::BarrierTable table;
  rsm::BarrierCreateCommand c;
  c.name = "b";
  c.participants = 2;
  c.timeout_ms = 1000;
  ASSERT_TRUE(table.Apply(1, 5000, c).ok());
  std::vector<std::function<void(Status, const rsm::Applied*)>> proposed;
  BarrierTimer timer(
      [&](std::string payload, std::function<void(Status, const rsm::Applied*)> done) {
        auto decoded = rsm::DecodeBarrierCommand(payload);
        ASSERT_TRUE(decoded.ok());
        EXPECT_TRUE(std::holds_alternative<rsm::BarrierExpireCommand>(*decoded));
        proposed.push_back(std::move(done));
      },
      [&]() -> const rsm::BarrierTable& { return table; });

  timer.Round(true, 2, 5999);
  EXPECT_TRUE(proposed.empty());
  EXPECT_EQ(timer.next_wake_ms(), 6000u);
  timer.Round(false, 2, 6000);  // a follower proposes nothing
  EXPECT_TRUE(proposed.empty());
  timer.Round(true, 2, 6000);
  ASSERT_EQ(proposed.size(), 1u);
  timer.Round(true, 2, 6100);  // one in flight at a time
  EXPECT_EQ(proposed.size(), 1u);
  EXPECT_EQ(timer.next_wake_ms(), UINT64_MAX);
  // It failed (no leader): the next round proposes again.
  proposed[0](Unavailable("no leader"), nullptr);
  timer.Round(true, 2, 6200);
  ASSERT_EQ(proposed.size(), 2u);
  ASSERT_TRUE(table.Apply(2, 6200, rsm::BarrierExpireCommand{}).ok());
  rsm::Applied applied{.result = rsm::Response{}};
  applied.barrier = rsm::BarrierReply{};
  applied.barrier->timed_out = {"b"};
  proposed[1](Status::Ok(), &applied);
  EXPECT_EQ(timer.stats().barriers_timed_out, 1u);
  timer.Round(true, 2, 6300);
  EXPECT_EQ(proposed.size(), 2u);  // nothing left to time out
  EXPECT_EQ(timer.next_wake_ms(), UINT64_MAX);
}

TEST(BarrierTimerTest, AnExpireFromAnEarlierTermIsForgottenOnALeaderChange) {
  rsm::BarrierTable table;
  rsm::BarrierCreateCommand c;
  c.name = "b";
  c.participants = 2;
  c.timeout_ms = 10;
  ASSERT_TRUE(table.Apply(1, 0, c).ok());
  std::vector<std::function<void(Status, const rsm::Applied*)>> proposed;
  BarrierTimer timer(
      [&](std::string, std::function<void(Status, const rsm::Applied*)> done) {
        proposed.push_back(std::move(done));
      },
      [&]() -> const rsm::BarrierTable& { return table; });
  timer.Round(true, 2, 100);
  ASSERT_EQ(proposed.size(), 1u);
  timer.Round(true, 3, 100);  // a new term: the old proposal no longer blocks
  EXPECT_EQ(proposed.size(), 2u);
  proposed[0](Unavailable("lost"), nullptr);  // the old answer changes nothing
  timer.Round(true, 3, 101);
  EXPECT_EQ(proposed.size(), 2u);
}

}  // namespace
}  // namespace tri::server
