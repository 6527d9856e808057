// Leases on a real one-member node (loopback, a temporary data directory):
// the etcd Lease gRPC service through client::LeaseClient (every RPC and its
// etcd errors, without etcd installed), and the keep-alives received during
// one loop round going into one log entry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <vector>

#include "client/etcd_client.h"
#include "client/lease_client.h"
#include "server/config.h"
#include "server/lease_service.h"
#include "server/node.h"

namespace tri::server {
namespace {

class NodeLeasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tri-node-leases-" + std::to_string(::getpid()) + "-" +
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
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs `fn` on the loop and waits for it.
  template <typename T>
  T OnLoop(std::function<void(NodeCore&, std::function<void(T)>)> fn) {
    auto p = std::make_shared<std::promise<T>>();
    auto f = p->get_future();
    node_->Post([fn, p](NodeCore& core) { fn(core, [p](T v) { p->set_value(std::move(v)); }); });
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    return f.get();
  }

  client::ClientOptions Options() const {
    client::ClientOptions o;
    o.endpoints = {"127.0.0.1:" + std::to_string(node_->client_port())};
    o.command_timeout = std::chrono::milliseconds(10000);
    return o;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
};

TEST_F(NodeLeasesTest, TheLeaseServiceAnswersEveryRpcAsEtcdDoes) {
  auto leases = client::LeaseClient::Connect(Options());
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  auto kv = client::EtcdClient::Connect(Options());
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  client::LeaseClient& l = **leases;

  // Grant: the server picks a positive id; the minimum TTL (ceil(1.5 x 100 ms) = 1 s).
  auto granted = l.Grant(60);
  ASSERT_TRUE(granted.ok()) << granted.status().ToString();
  const std::int64_t id = granted->id();
  EXPECT_GT(id, 0);
  EXPECT_EQ(granted->ttl(), 60);
  auto tiny = l.Grant(0);  // expires a second later: nothing below relies on it
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->ttl(), 1);
  auto chosen = l.Grant(30, 77);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->id(), 77);
  auto duplicate = l.Grant(10, 77);
  EXPECT_EQ(duplicate.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(duplicate.status().message(), "etcdserver: lease already exists");
  auto too_large = l.Grant(9'000'000'001);
  EXPECT_EQ(too_large.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(too_large.status().message(), "etcdserver: too large lease TTL");

  // Keys: attach, and a lease that does not exist.
  etcdserverpb::PutRequest put;
  put.set_key("k/a");
  put.set_value("1");
  put.set_lease(id);
  ASSERT_TRUE((*kv)->Put(put).ok());
  put.set_lease(12345);
  EXPECT_EQ((*kv)->Put(put).status().message(), "etcdserver: requested lease not found");

  auto ttl = l.TimeToLive(id, true);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->grantedttl(), 60);
  EXPECT_GE(ttl->ttl(), 30);
  EXPECT_LE(ttl->ttl(), 60);
  ASSERT_EQ(ttl->keys_size(), 1);
  EXPECT_EQ(ttl->keys(0), "k/a");
  EXPECT_GT(ttl->header().revision(), 1);
  auto missing = l.TimeToLive(4444, false);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->ttl(), -1);
  EXPECT_EQ(missing->id(), 4444);

  auto kept = l.KeepAliveOnce(id);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->id(), id);
  EXPECT_EQ(kept->ttl(), 60);
  auto kept_missing = l.KeepAliveOnce(4444);
  ASSERT_TRUE(kept_missing.ok());
  EXPECT_EQ(kept_missing->ttl(), 0);

  auto list = l.Leases();
  ASSERT_TRUE(list.ok());
  std::vector<std::int64_t> listed;
  for (const auto& lease : list->leases())
    if (lease.id() != tiny->id()) listed.push_back(lease.id());
  EXPECT_EQ(listed, (std::vector<std::int64_t>{77, id}));  // earliest expiry first

  // Revoke deletes the key; again: not found.
  ASSERT_TRUE(l.Revoke(id).ok());
  etcdserverpb::RangeRequest get;
  get.set_key("k/a");
  auto range = (*kv)->Range(get);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->count(), 0);
  auto again = l.Revoke(id);
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(again.status().message(), "etcdserver: requested lease not found");
}

TEST_F(NodeLeasesTest, KeepAlivesOfOneLoopRoundShareOneLogEntry) {
  // A grant, retried until the node leads.
  for (int attempt = 0;; ++attempt) {
    ASSERT_LT(attempt, 200) << "no leader";
    const bool granted = OnLoop<bool>([this](NodeCore& core, std::function<void(bool)> done) {
      node_->leases().Propose(
          core, rsm::LeaseGrant{11, 30},
          [done](Status s, const rsm::Applied* a) { done(s.ok() && a->result.ok()); });
    });
    if (granted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::uint64_t entries_before =
      OnLoop<std::uint64_t>([this](NodeCore&, std::function<void(std::uint64_t)> done) {
        done(node_->leases().keep_alive_entries());
      });
  // Three keep-alives (two of the same lease, one of a missing lease) in one round.
  const std::vector<std::int64_t> ttls = OnLoop<std::vector<std::int64_t>>(
      [this](NodeCore&, std::function<void(std::vector<std::int64_t>)> done) {
        auto got = std::make_shared<std::vector<std::int64_t>>(3, -1);
        auto left = std::make_shared<int>(3);
        const std::int64_t ids[] = {11, 99, 11};
        for (int i = 0; i < 3; ++i) {
          node_->leases().KeepAlive(ids[i], [got, left, i, done](Status s, std::int64_t ttl) {
            (*got)[static_cast<std::size_t>(i)] = s.ok() ? ttl : -2;
            if (--*left == 0) done(*got);
          });
        }
      });
  EXPECT_EQ(ttls, (std::vector<std::int64_t>{30, 0, 30}));
  const std::uint64_t entries_after =
      OnLoop<std::uint64_t>([this](NodeCore&, std::function<void(std::uint64_t)> done) {
        done(node_->leases().keep_alive_entries());
      });
  EXPECT_EQ(entries_after - entries_before, 1u);
}

}  // namespace
}  // namespace tri::server
