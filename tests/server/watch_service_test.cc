// The Watch service of a real single-member node over gRPC, and the watch
// client (client::RunWatch) against it.

#include "server/watch_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "client/etcd_client.h"
#include "client/watch_client.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "server/config.h"
#include "server/node.h"

namespace tri::server {
namespace {

class WatchServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("tri-watch-service-" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    ServerConfig c;
    c.name = "w1";
    c.data_dir = dir_;
    c.listen_client_urls = "http://127.0.0.1:0";
    c.advertise_client_urls = "http://127.0.0.1:1";
    c.listen_peer_urls = "http://127.0.0.1:0";
    c.initial_advertise_peer_urls = "http://127.0.0.1:1";
    c.listen_metrics_urls = "";
    c.listen_http_urls = "";
    auto resolved = ResolveConfig(c);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    auto node = Node::Start(*resolved);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
    endpoint_ = "127.0.0.1:" + std::to_string(node_->client_port());
    channel_ = grpc::CreateChannel(endpoint_, grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
  }

  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Puts once the member leads (a fresh single member elects itself at once).
  std::int64_t Put(const std::string& key, const std::string& value) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      etcdserverpb::PutRequest request;
      request.set_key(key);
      request.set_value(value);
      etcdserverpb::PutResponse response;
      const grpc::Status status = kv_->Put(&ctx, request, &response);
      if (status.ok()) return response.header().revision();
      EXPECT_LT(std::chrono::steady_clock::now(), deadline) << status.error_message();
      if (std::chrono::steady_clock::now() >= deadline) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::string dir_;
  std::unique_ptr<Node> node_;
  std::string endpoint_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

TEST_F(WatchServiceTest, AStreamCreatesReceivesCancelsAndAnswersProgress) {
  const std::int64_t first = Put("a", "0");
  ASSERT_GT(first, 0);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = watch_->Watch(&ctx);
  etcdserverpb::WatchRequest create;
  create.mutable_create_request()->set_key("a");
  create.mutable_create_request()->set_prev_kv(true);
  ASSERT_TRUE(stream->Write(create));
  etcdserverpb::WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  EXPECT_EQ(response.header().revision(), first);
  EXPECT_NE(response.header().member_id(), 0u);
  const std::int64_t watch_id = response.watch_id();

  const std::int64_t second = Put("a", "1");
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.events_size(), 1);
  EXPECT_EQ(response.events(0).kv().value(), "1");
  EXPECT_EQ(response.events(0).kv().mod_revision(), second);
  EXPECT_EQ(response.events(0).prev_kv().value(), "0");

  etcdserverpb::WatchRequest progress;
  progress.mutable_progress_request();
  ASSERT_TRUE(stream->Write(progress));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.watch_id(), -1);
  EXPECT_EQ(response.header().revision(), second);

  etcdserverpb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(watch_id);
  ASSERT_TRUE(stream->Write(cancel));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.watch_id(), watch_id);
  ctx.TryCancel();
}

TEST_F(WatchServiceTest, RunWatchDeliversHistoryAndReportsACompactedStart) {
  const std::int64_t first = Put("k", "0");
  ASSERT_GT(first, 0);
  Put("k", "1");
  Put("k", "2");
  client::WatchClientOptions options;
  options.endpoints = {endpoint_};
  client::WatchSpec spec;
  spec.set_key("k");
  spec.set_start_revision(first);
  std::vector<std::string> values;
  const client::WatchEnd end =
      client::RunWatch(options, spec, [&values](const etcdserverpb::WatchResponse& r) {
        for (const auto& e : r.events())
          values.push_back(e.kv().value());
        return values.size() < 3;
      });
  EXPECT_TRUE(end.status.ok()) << end.status.ToString();
  EXPECT_EQ(values, (std::vector<std::string>{"0", "1", "2"}));

  grpc::ClientContext ctx;
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(first + 1);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(kv_->Compact(&ctx, compact, &compacted).ok());
  const client::WatchEnd refused =
      client::RunWatch(options, spec, [](const etcdserverpb::WatchResponse&) { return true; });
  EXPECT_TRUE(refused.canceled_by_server);
  EXPECT_EQ(refused.compact_revision, first + 1);
  EXPECT_EQ(refused.status.message(), "etcdserver: mvcc: required revision has been compacted");
}

}  // namespace
}  // namespace tri::server
