// etcd's v3lock and v3election services on a real one-member node (loopback,
// a temporary data directory), through the generated stubs as any gRPC client
// calls them, and the client recipes (client/concurrency.h, client/session.h)
// they run: waits that end when the holder goes, takeover when a leader's
// lease is revoked, each leader observed once, terms (fencing tokens) that
// increase, etcd's errors.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "client/concurrency.h"
#include "client/session.h"
#include "server/config.h"
#include "server/native_elections.h"
#include "server/node.h"
#include "trinity/v1/coordination.grpc.pb.h"
#include "v3electionpb/v3election.grpc.pb.h"
#include "v3lockpb/v3lock.grpc.pb.h"

namespace tri::server {
namespace {

constexpr auto kWait = std::chrono::seconds(20);

class ElectionServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tri-election-" + std::to_string(::getpid()) + "-" +
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
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(node_->client_port()),
                                   grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel_->WaitForConnected(std::chrono::system_clock::now() + kWait));
    lock_ = v3lockpb::Lock::NewStub(channel_);
    election_ = v3electionpb::Election::NewStub(channel_);
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    native_ = trinity::v1::Elections::NewStub(channel_);
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kWait);
    return context;
  }

  std::int64_t Grant(std::int64_t ttl_s = 60) {
    etcdserverpb::LeaseGrantRequest request;
    request.set_ttl(ttl_s);
    etcdserverpb::LeaseGrantResponse response;
    EXPECT_TRUE(lease_->LeaseGrant(Context().get(), request, &response).ok());
    return response.id();
  }

  void Revoke(std::int64_t id) {
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(id);
    etcdserverpb::LeaseRevokeResponse response;
    ASSERT_TRUE(lease_->LeaseRevoke(Context().get(), request, &response).ok());
  }

  std::vector<std::string> Keys(const std::string& prefix) {
    etcdserverpb::RangeRequest request;
    request.set_key(prefix);
    request.set_range_end(prefix.substr(0, prefix.size() - 1) + char(prefix.back() + 1));
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(Context().get(), request, &response).ok());
    std::vector<std::string> keys;
    for (const auto& kv : response.kvs())
      keys.push_back(kv.key());
    return keys;
  }

  grpc::Status LockCall(const std::string& name, std::int64_t lease,
                        v3lockpb::LockResponse* response) {
    v3lockpb::LockRequest request;
    request.set_name(name);
    request.set_lease(lease);
    return lock_->Lock(Context().get(), request, response);
  }

  grpc::Status CampaignCall(const std::string& name, std::int64_t lease, const std::string& value,
                            v3electionpb::CampaignResponse* response) {
    v3electionpb::CampaignRequest request;
    request.set_name(name);
    request.set_lease(lease);
    request.set_value(value);
    return election_->Campaign(Context().get(), request, response);
  }

  grpc::Status LeaderCall(const std::string& name, v3electionpb::LeaderResponse* response) {
    v3electionpb::LeaderRequest request;
    request.set_name(name);
    return election_->Leader(Context().get(), request, response);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v3lockpb::Lock::Stub> lock_;
  std::unique_ptr<v3electionpb::Election::Stub> election_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<trinity::v1::Elections::Stub> native_;

  grpc::Status NativeCampaign(const std::string& candidate, const std::string& value,
                              std::uint64_t wait_ms, trinity::v1::ElectionLeader* leader,
                              std::int64_t ttl_s = 0, std::int64_t lease = 0) {
    trinity::v1::CampaignElectionRequest request;
    request.set_election("e");
    request.set_candidate(candidate);
    request.set_value(value);
    request.set_wait_timeout_ms(wait_ms);
    request.set_ttl_seconds(ttl_s);
    request.set_lease(lease);
    return native_->Campaign(Context().get(), request, leader);
  }

  grpc::Status NativeResign(const std::string& candidate) {
    trinity::v1::ResignElectionRequest request;
    request.set_election("e");
    request.set_candidate(candidate);
    trinity::v1::ResignElectionResponse response;
    return native_->Resign(Context().get(), request, &response);
  }

  grpc::Status NativeLeader(trinity::v1::ElectionLeader* leader) {
    trinity::v1::ElectionLeaderRequest request;
    request.set_election("e");
    return native_->Leader(Context().get(), request, leader);
  }

  // The fence key's value ("" when it is absent).
  std::string Fence() {
    etcdserverpb::RangeRequest request;
    request.set_key(ElectionFenceKey("e"));
    etcdserverpb::RangeResponse response;
    EXPECT_TRUE(kv_->Range(Context().get(), request, &response).ok());
    return response.kvs_size() == 0 ? "" : response.kvs(0).value();
  }

  // A put fenced by `token`: applied only while it is the current leader's.
  bool FencedPut(std::uint64_t token) {
    etcdserverpb::TxnRequest txn;
    auto* compare = txn.add_compare();
    compare->set_key(ElectionFenceKey("e"));
    compare->set_target(etcdserverpb::Compare::VALUE);
    compare->set_value(std::to_string(token));
    auto* put = txn.add_success()->mutable_request_put();
    put->set_key("guarded");
    put->set_value(std::to_string(token));
    etcdserverpb::TxnResponse response;
    EXPECT_TRUE(kv_->Txn(Context().get(), txn, &response).ok());
    return response.succeeded();
  }
};

TEST_F(ElectionServicesTest, LockBlocksUntilTheHolderUnlocks) {
  const std::int64_t first = Grant();
  const std::int64_t second = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(LockCall("db", first, &held).ok());
  EXPECT_EQ(held.key(), client::ContenderKey("db", first));

  std::atomic<bool> unlocked{false};
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    const grpc::Status status = LockCall("db", second, &response);
    // The second locker may only return once the first unlocked.
    EXPECT_TRUE(unlocked.load());
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  });
  // The waiter's key is written before it waits.
  for (int i = 0; i < 2000 && Keys("db/").size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(Keys("db/").size(), 2u);
  ASSERT_NE(waiter.wait_for(std::chrono::milliseconds(200)), std::future_status::ready);

  unlocked = true;
  v3lockpb::UnlockRequest unlock;
  unlock.set_key(held.key());
  v3lockpb::UnlockResponse unlocked_response;
  ASSERT_TRUE(lock_->Unlock(Context().get(), unlock, &unlocked_response).ok());
  ASSERT_EQ(waiter.wait_for(kWait), std::future_status::ready);
  const v3lockpb::LockResponse next = waiter.get();
  EXPECT_EQ(next.key(), client::ContenderKey("db", second));
  EXPECT_GE(next.header().revision(), unlocked_response.header().revision());
}

TEST_F(ElectionServicesTest, ANodeShutsDownWhileALockWaitsAndTheWaitFails) {
  const std::int64_t first = Grant();
  const std::int64_t second = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(LockCall("db", first, &held).ok());
  auto waiter = std::async(std::launch::async, [&] {
    v3lockpb::LockResponse response;
    return LockCall("db", second, &response);
  });
  for (int i = 0; i < 2000 && Keys("db/").size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(Keys("db/").size(), 2u);
  node_.reset();  // the server's shutdown cancels the wait instead of hanging on it
  ASSERT_EQ(waiter.wait_for(kWait), std::future_status::ready);
  EXPECT_FALSE(waiter.get().ok());
}

TEST_F(ElectionServicesTest, LockWithAnUnknownLeaseFailsAsEtcd) {
  v3lockpb::LockResponse response;
  const grpc::Status status = LockCall("db", 12345, &response);
  // etcd 3.4 answers UNKNOWN: its in-process client's error is not a gRPC status.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
}

TEST_F(ElectionServicesTest, ALockWaiterThatGivesUpRemovesItsKey) {
  const std::int64_t first = Grant();
  const std::int64_t second = Grant();
  v3lockpb::LockResponse held;
  ASSERT_TRUE(LockCall("db", first, &held).ok());
  v3lockpb::LockRequest request;
  request.set_name("db");
  request.set_lease(second);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  v3lockpb::LockResponse response;
  EXPECT_EQ(lock_->Lock(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // The clean-up runs after the deadline; the holder's key stays.
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    keys = Keys("db/");
    if (keys.size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(keys, std::vector<std::string>{held.key()});
}

TEST_F(ElectionServicesTest, ACampaignTakesOverWhenTheLeadersLeaseIsRevoked) {
  const std::int64_t first = Grant();
  const std::int64_t second = Grant();
  v3electionpb::CampaignResponse one;
  ASSERT_TRUE(CampaignCall("chief", first, "one", &one).ok());
  EXPECT_EQ(one.leader().name(), "chief");
  EXPECT_EQ(one.leader().key(), client::ContenderKey("chief", first));
  EXPECT_EQ(one.leader().lease(), first);
  EXPECT_EQ(one.leader().rev(), one.header().revision());

  auto two = std::async(std::launch::async, [&] {
    v3electionpb::CampaignResponse response;
    EXPECT_TRUE(CampaignCall("chief", second, "two", &response).ok());
    return response;
  });
  for (int i = 0; i < 2000 && Keys("chief/").size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_NE(two.wait_for(std::chrono::milliseconds(200)), std::future_status::ready);
  v3electionpb::LeaderResponse leader;
  ASSERT_TRUE(LeaderCall("chief", &leader).ok());
  EXPECT_EQ(leader.kv().key(), one.leader().key());
  EXPECT_EQ(leader.kv().value(), "one");

  Revoke(first);
  ASSERT_EQ(two.wait_for(kWait), std::future_status::ready);
  const v3electionpb::CampaignResponse won = two.get();
  EXPECT_EQ(won.leader().key(), client::ContenderKey("chief", second));
  // The new term's token (the key's create revision) is above the old one.
  EXPECT_GT(won.leader().rev(), one.leader().rev());
  ASSERT_TRUE(LeaderCall("chief", &leader).ok());
  EXPECT_EQ(leader.kv().value(), "two");

  // The old leader can no longer proclaim; the new one can.
  v3electionpb::ProclaimRequest stale;
  *stale.mutable_leader() = one.leader();
  stale.set_value("again");
  v3electionpb::ProclaimResponse proclaimed;
  grpc::Status status = election_->Proclaim(Context().get(), stale, &proclaimed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "election: not leader");
  v3electionpb::ProclaimRequest fresh;
  *fresh.mutable_leader() = won.leader();
  fresh.set_value("two-b");
  ASSERT_TRUE(election_->Proclaim(Context().get(), fresh, &proclaimed).ok());
  ASSERT_TRUE(LeaderCall("chief", &leader).ok());
  EXPECT_EQ(leader.kv().value(), "two-b");

  // Resign: no leader is left.
  v3electionpb::ResignRequest resign;
  *resign.mutable_leader() = won.leader();
  v3electionpb::ResignResponse resigned;
  ASSERT_TRUE(election_->Resign(Context().get(), resign, &resigned).ok());
  status = LeaderCall("chief", &leader);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(status.error_message(), "election: no leader");
  v3electionpb::ResignRequest missing;
  status = election_->Resign(Context().get(), missing, &resigned);
  EXPECT_EQ(status.error_message(), "\"leader\" field must be provided");
}

TEST_F(ElectionServicesTest, ObserveStreamsEachLeaderAndProclaimOnceInOrder) {
  grpc::ClientContext observe_context;
  v3electionpb::LeaderRequest observe;
  observe.set_name("chief");
  auto stream = election_->Observe(&observe_context, observe);

  const std::int64_t first = Grant();
  const std::int64_t second = Grant();
  v3electionpb::CampaignResponse one;
  ASSERT_TRUE(CampaignCall("chief", first, "a", &one).ok());
  auto two = std::async(std::launch::async, [&] {
    v3electionpb::CampaignResponse response;
    EXPECT_TRUE(CampaignCall("chief", second, "b", &response).ok());
    return response;
  });
  for (int i = 0; i < 2000 && Keys("chief/").size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  v3electionpb::ResignRequest resign;
  *resign.mutable_leader() = one.leader();
  v3electionpb::ResignResponse resigned;
  ASSERT_TRUE(election_->Resign(Context().get(), resign, &resigned).ok());
  ASSERT_EQ(two.wait_for(kWait), std::future_status::ready);
  const v3electionpb::CampaignResponse won = two.get();
  v3electionpb::ProclaimRequest proclaim;
  *proclaim.mutable_leader() = won.leader();
  proclaim.set_value("b2");
  v3electionpb::ProclaimResponse proclaimed;
  ASSERT_TRUE(election_->Proclaim(Context().get(), proclaim, &proclaimed).ok());

  std::vector<std::pair<std::string, std::string>> seen;
  v3electionpb::LeaderResponse response;
  while (seen.size() < 3 && stream->Read(&response))
    seen.emplace_back(response.kv().key(), response.kv().value());
  const std::vector<std::pair<std::string, std::string>> want = {
      {one.leader().key(), "a"}, {won.leader().key(), "b"}, {won.leader().key(), "b2"}};
  EXPECT_EQ(seen, want);
  observe_context.TryCancel();
  (void)stream->Finish();
}

TEST_F(ElectionServicesTest, ASessionKeepsItsLeaseAliveAndCloseRevokesIt) {
  client::RecipeClient recipes(channel_);
  auto session = client::Session::Start(recipes, 2);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  auto won = client::Campaign(recipes, "s", (*session)->lease(), "v");
  ASSERT_TRUE(won.ok()) << won.status().ToString();
  // Past the TTL the keep-alives hold the key.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  auto leader = client::Leader(recipes, "s");
  ASSERT_TRUE(leader.ok()) << leader.status().ToString();
  EXPECT_EQ(leader->kv.key(), won->leader.key);
  EXPECT_FALSE((*session)->expired());
  ASSERT_TRUE((*session)->Close().ok());
  EXPECT_TRUE(client::IsElectionNoLeader(client::Leader(recipes, "s").status()));
}

TEST_F(ElectionServicesTest, NativeLeadersGetIncreasingTokensThatFenceWrites) {
  trinity::v1::ElectionLeader a;
  ASSERT_TRUE(NativeCampaign("a", "va", 1000, &a).ok());
  EXPECT_EQ(a.election(), "e");
  EXPECT_EQ(a.leader(), "a");
  EXPECT_EQ(a.value(), "va");
  EXPECT_GT(a.token(), 0u);
  EXPECT_EQ(a.fence_key(), ElectionFenceKey("e"));
  EXPECT_EQ(Fence(), std::to_string(a.token()));
  EXPECT_TRUE(FencedPut(a.token()));

  // A campaign that may not wait, or whose wait runs out, does not lead and
  // leaves no entry behind.
  trinity::v1::ElectionLeader b;
  ASSERT_TRUE(NativeCampaign("b", "vb", 0, &b).ok());
  EXPECT_EQ(b.leader(), "");
  ASSERT_TRUE(NativeCampaign("b", "vb", 200, &b).ok());
  EXPECT_EQ(b.leader(), "");
  EXPECT_EQ(Keys(ElectionCandidatesPrefix("e")),
            std::vector<std::string>{ElectionCandidatesPrefix("e") + "a"});

  // Campaigning again while leading keeps the term and its token.
  trinity::v1::ElectionLeader again;
  ASSERT_TRUE(NativeCampaign("a", "va2", 0, &again).ok());
  EXPECT_EQ(again.token(), a.token());

  auto next = std::async(std::launch::async, [&] {
    trinity::v1::ElectionLeader won;
    EXPECT_TRUE(NativeCampaign("b", "vb", 20000, &won).ok());
    return won;
  });
  for (int i = 0; i < 2000 && Keys(ElectionCandidatesPrefix("e")).size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(NativeResign("a").ok());
  ASSERT_EQ(next.wait_for(kWait), std::future_status::ready);
  b = next.get();
  EXPECT_EQ(b.leader(), "b");
  EXPECT_GT(b.token(), a.token());
  EXPECT_EQ(Fence(), std::to_string(b.token()));
  EXPECT_FALSE(FencedPut(a.token()));  // the old leader's writes are fenced off
  EXPECT_TRUE(FencedPut(b.token()));

  trinity::v1::ElectionLeader current;
  ASSERT_TRUE(NativeLeader(&current).ok());
  EXPECT_EQ(current.leader(), "b");
  EXPECT_EQ(current.token(), b.token());
  EXPECT_EQ(current.value(), "vb");

  ASSERT_TRUE(NativeResign("b").ok());
  EXPECT_EQ(Fence(), "");
  grpc::Status status = NativeLeader(&current);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "election e: no leader");
  status = NativeResign("b");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "election e: candidate b is not campaigning");
}

TEST_F(ElectionServicesTest, ANativeLeaderWithATtlLosesLeadershipAndFenceWithItsLease) {
  trinity::v1::ElectionLeader a;
  ASSERT_TRUE(NativeCampaign("a", "va", 1000, &a, /*ttl_s=*/60).ok());
  EXPECT_NE(a.lease(), 0);
  EXPECT_EQ(Fence(), std::to_string(a.token()));
  Revoke(a.lease());
  trinity::v1::ElectionLeader current;
  EXPECT_EQ(NativeLeader(&current).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Fence(), "");
}

TEST_F(ElectionServicesTest, NativeElectionsRefuseBadRequestsNamingTheField) {
  trinity::v1::ElectionLeader leader;
  grpc::Status status = NativeCampaign("", "v", 0, &leader);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "election e: candidate: must not be empty");
  status = NativeCampaign("a", "v", 0, &leader, /*ttl_s=*/10, /*lease=*/5);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = NativeCampaign("a", "v", 0, &leader, /*ttl_s=*/0, /*lease=*/12345);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "etcdserver: requested lease not found");
  trinity::v1::ElectionLeaderRequest request;
  status = native_->Leader(Context().get(), request, &leader);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "election: must not be empty");
}

}  // namespace
}  // namespace tri::server
