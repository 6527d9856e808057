#include "server/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "server/ids.h"
#include "server/members.h"
#include "server/metrics.h"

namespace tri::server {
namespace {

TEST(ConfigTest, NoFlagsIsTheEmbeddedOneMemberDefault) {
  auto r = ResolveConfig(ServerConfig{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->raw.DataDir(), "default.tri");
  ASSERT_EQ(r->initial_cluster.size(), 1u);
  EXPECT_EQ(r->initial_cluster[0].name, "default");
  EXPECT_EQ(r->listen_client_urls[0].port, 2379);
  EXPECT_EQ(r->listen_peer_urls[0].port, 2380);
  EXPECT_EQ(r->listen_metrics_urls[0].port, 2381);
  EXPECT_TRUE(r->new_cluster);
  EXPECT_EQ(r->election_ticks, 10);
}

TEST(ConfigTest, ErrorsNameTheFlag) {
  ServerConfig c;
  c.election_timeout_ms = 200;
  c.heartbeat_interval_ms = 100;
  auto r = ResolveConfig(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--election-timeout"), std::string::npos)
      << r.status().message();

  c = ServerConfig{};
  c.listen_client_urls = "http://127.0.0.1:notaport";
  r = ResolveConfig(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--listen-client-urls"), std::string::npos)
      << r.status().message();

  c = ServerConfig{};
  c.initial_cluster = "other=http://127.0.0.1:2380";
  r = ResolveConfig(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no member named \"default\""), std::string::npos)
      << r.status().message();

  c = ServerConfig{};
  c.initial_cluster_state = "maybe";
  EXPECT_FALSE(ResolveConfig(c).ok());

  c = ServerConfig{};
  c.listen_peer_urls = "https://127.0.0.1:2380";  // advertised as http:// (the default)
  r = ResolveConfig(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--initial-advertise-peer-urls"), std::string::npos)
      << r.status().message();
}

TEST(ConfigTest, ParallelApplyIsOffByDefaultAndItsFlagsAreChecked) {
  auto r = ResolveConfig(ServerConfig{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->raw.parallel_apply_threads, 0u);
  EXPECT_EQ(r->parallel_apply_scheduler, txn::Scheduler::kOptimistic);

  ServerConfig c;
  c.parallel_apply_threads = 4;
  c.parallel_apply_scheduler = "declared";
  r = ResolveConfig(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parallel_apply_scheduler, txn::Scheduler::kDeclared);

  const auto refused = [](ServerConfig bad, const std::string& flag) {
    auto result = ResolveConfig(bad);
    ASSERT_FALSE(result.ok()) << flag;
    EXPECT_NE(result.status().message().find(flag), std::string::npos) << result.status().message();
  };
  c = ServerConfig{};
  c.parallel_apply_threads = txn::kMaxThreads + 1;
  refused(c, "--parallel-apply-threads");
  c = ServerConfig{};
  c.parallel_apply_min_batch = 0;
  refused(c, "--parallel-apply-min-batch");
  c = ServerConfig{};
  c.parallel_apply_scheduler = "fastest";
  refused(c, "--parallel-apply-scheduler");
}

TEST(ConfigTest, AdvertisedPeerUrlsMustMatchTheInitialCluster) {
  ServerConfig c;
  c.name = "a";
  c.initial_cluster = "a=http://127.0.0.1:3380,b=http://127.0.0.1:3381";
  auto r = ResolveConfig(c);  // advertises the default 2380
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--initial-advertise-peer-urls"), std::string::npos);
  c.initial_advertise_peer_urls = "http://127.0.0.1:3380";
  r = ResolveConfig(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->initial_cluster.size(), 2u);
}

TEST(ConfigTest, ConfigFileUsesEtcdKeysAndNamesBadOnes) {
  const std::string path = ::testing::TempDir() + "/tri_config_test.yaml";
  {
    std::ofstream f(path);
    f << "name: infra1\nheartbeat-interval: 50\nelection-timeout: 500\nsnapshot-count: 7\n";
  }
  ServerConfig c;
  ASSERT_TRUE(LoadConfigFile(path, c).ok());
  EXPECT_EQ(c.name, "infra1");
  EXPECT_EQ(c.heartbeat_interval_ms, 50u);
  EXPECT_EQ(c.snapshot_count, 7u);
  {
    std::ofstream f(path);
    f << "name: x\nelection-timout: 5\n";
  }
  Status st = LoadConfigFile(path, c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("unknown key \"election-timout\""), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find(":2:"), std::string::npos) << st.message();
  {
    std::ofstream f(path);
    f << "snapshot-count: lots\n";
  }
  st = LoadConfigFile(path, c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("snapshot-count"), std::string::npos) << st.message();
  std::remove(path.c_str());
}

TEST(IdsTest, MemberIdsMatchEtcdsDerivation) {
  // etcd 3.4 names the default member (peer URL http://localhost:2380, token
  // "etcd-cluster") 8e9e05c52164694d and its cluster cdf818194e3a8c32.
  const std::uint64_t id = ComputeMemberId({"http://localhost:2380"}, "etcd-cluster");
  EXPECT_EQ(IdToString(id), "8e9e05c52164694d");
  EXPECT_EQ(IdToString(ComputeClusterId({id})), "cdf818194e3a8c32");
  // Order of URLs does not matter; the token does.
  EXPECT_EQ(ComputeMemberId({"http://b:1", "http://a:1"}, "t"),
            ComputeMemberId({"http://a:1", "http://b:1"}, "t"));
  EXPECT_NE(ComputeMemberId({"http://a:1"}, "t1"), ComputeMemberId({"http://a:1"}, "t2"));
}

TEST(MembersTest, TableRoundTripsAndAppliesChanges) {
  MemberTable t;
  t.Bootstrap({Member{1, "a", {"http://127.0.0.1:1"}, {}, false}}, 77);
  t.AddOrPromote(Member{2, "", {"http://127.0.0.1:2"}, {}, true}, true);
  EXPECT_TRUE(t.Find(2)->is_learner);
  t.AddOrPromote(Member{2, "", {}, {}, false}, false);
  EXPECT_FALSE(t.Find(2)->is_learner);
  t.PublishAttributes(2, "b", {"http://127.0.0.1:12"});
  t.Remove(1);
  EXPECT_TRUE(t.IsRemoved(1));
  EXPECT_EQ(t.FindByPeerUrl({"http://127.0.0.1:2"}), 2u);
  auto back = MemberTable::Decode(t.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->cluster_id(), 77u);
  std::string bad = t.Encode();
  bad.pop_back();
  EXPECT_FALSE(MemberTable::Decode(bad).ok());
}

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry r;
  r.GetCounter("x_total", "X.", {{"m", "Put"}})->Add(3);
  r.GetGauge("g", "G.")->Set(1.5);
  auto* h = r.GetHistogram("h_seconds", "H.", {0.1, 1});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE x_total counter\nx_total{m=\"Put\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g 1.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count 3\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace tri::server
