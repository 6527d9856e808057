// EtcdClient against in-process gRPC servers that play etcd: failover on
// UNAVAILABLE only, the server's error passed through, the dial timeout.

#include "client/etcd_client.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "client/grpc_status.h"

namespace tri::client {
namespace {

// A KV and Cluster service whose Put answers `put_status`; counts the calls.
class FakeEtcd final : public etcdserverpb::KV::Service, public etcdserverpb::Cluster::Service {
 public:
  explicit FakeEtcd(grpc::Status put_status, std::int64_t revision)
      : put_status_(std::move(put_status)), revision_(revision) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<etcdserverpb::KV::Service*>(this));
    builder.RegisterService(static_cast<etcdserverpb::Cluster::Service*>(this));
    server_ = builder.BuildAndStart();
  }
  ~FakeEtcd() override { server_->Shutdown(); }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int puts() const { return puts_.load(); }
  void set_put_status(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    put_status_ = std::move(status);
  }

  grpc::Status Put(grpc::ServerContext*, const etcdserverpb::PutRequest*,
                   etcdserverpb::PutResponse* response) override {
    ++puts_;
    response->mutable_header()->set_revision(revision_);
    std::lock_guard<std::mutex> lock(mu_);
    return put_status_;
  }
  grpc::Status MemberRemove(grpc::ServerContext*, const etcdserverpb::MemberRemoveRequest*,
                            etcdserverpb::MemberRemoveResponse*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "etcdserver: member not found");
  }

 private:
  std::mutex mu_;
  grpc::Status put_status_;
  std::int64_t revision_;
  int port_ = 0;
  std::atomic<int> puts_{0};
  std::unique_ptr<grpc::Server> server_;
};

ClientOptions OptionsFor(std::vector<std::string> endpoints) {
  ClientOptions options;
  options.endpoints = std::move(endpoints);
  options.dial_timeout = std::chrono::seconds(5);
  options.command_timeout = std::chrono::seconds(5);
  return options;
}

etcdserverpb::PutRequest APut() {
  etcdserverpb::PutRequest put;
  put.set_key("k");
  put.set_value("v");
  return put;
}

TEST(EtcdClient, FailsOverToTheNextEndpointOnUnavailableAndStaysThere) {
  FakeEtcd a(grpc::Status::OK, 1);
  FakeEtcd b(grpc::Status::OK, 2);
  auto client = EtcdClient::Connect(OptionsFor({a.endpoint(), b.endpoint()}));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto first = (*client)->Put(APut());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Whichever endpoint served the first call goes down.
  FakeEtcd& current = first->header().revision() == 1 ? a : b;
  FakeEtcd& other = &current == &a ? b : a;
  current.set_put_status(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));

  auto second = (*client)->Put(APut());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(current.puts(), 2);
  EXPECT_EQ(other.puts(), 1);
  auto third = (*client)->Put(APut());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(current.puts(), 2) << "the client went back to the endpoint that was down";
  EXPECT_EQ(other.puts(), 2);
}

TEST(EtcdClient, ReturnsUnavailableWhenEveryEndpointIs) {
  FakeEtcd a(grpc::Status(grpc::StatusCode::UNAVAILABLE, "a down"), 1);
  FakeEtcd b(grpc::Status(grpc::StatusCode::UNAVAILABLE, "b down"), 2);
  auto client = EtcdClient::Connect(OptionsFor({a.endpoint(), b.endpoint()}));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto put = (*client)->Put(APut());
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(a.puts(), 1);
  EXPECT_EQ(b.puts(), 1);
}

TEST(EtcdClient, ReturnsTheServersErrorWithoutFailingOver) {
  FakeEtcd first(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"), 1);
  auto client = EtcdClient::Connect(OptionsFor({first.endpoint()}));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto put = (*client)->Put(APut());
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(put.status().message(), "etcdserver: key is not provided");
  EXPECT_EQ(first.puts(), 1);

  auto removed = (*client)->MemberRemove(42);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(GrpcCodeOf(removed.status()), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(removed.status().message(), "etcdserver: member not found");
}

TEST(EtcdClient, AnUnservedServiceIsUnimplemented) {
  FakeEtcd server(grpc::Status::OK, 1);
  auto client = EtcdClient::Connect(OptionsFor({server.endpoint()}));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto status = (*client)->Status(server.endpoint());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), StatusCode::kUnimplemented);
}

TEST(EtcdClient, StatusRefusesAnEndpointNotInTheList) {
  FakeEtcd server(grpc::Status::OK, 1);
  auto client = EtcdClient::Connect(OptionsFor({server.endpoint()}));
  ASSERT_TRUE(client.ok());
  auto status = (*client)->Status("127.0.0.1:1");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), StatusCode::kInvalidArgument);
}

TEST(EtcdClient, ConnectFailsWithDeadlineExceededWhenNothingListens) {
  std::string closed;
  {
    // A port that was free a moment ago: nothing listens there now.
    FakeEtcd gone(grpc::Status::OK, 1);
    closed = gone.endpoint();
  }
  ClientOptions options = OptionsFor({closed});
  options.dial_timeout = std::chrono::milliseconds(100);
  auto client = EtcdClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(client.status().message().find("context deadline exceeded"), std::string::npos);
  EXPECT_FALSE(EtcdClient::Connect(OptionsFor({})).ok());
}

}  // namespace
}  // namespace tri::client
