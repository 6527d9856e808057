// Leases on a real one-member node (loopback, a temporary data directory):
// the keep-alives received during one loop round go into one log entry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <vector>

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

  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
};

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
