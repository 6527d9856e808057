#pragma once

// LeaseClient: etcd v3.4's Lease service over gRPC (works against etcd and
// Trinity alike), with EtcdClient's endpoint list and failover on UNAVAILABLE
// for the unary calls. Errors are Status with the gRPC code and the server's
// message (client/grpc_status.h).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/etcd_client.h"
#include "etcdserverpb/rpc.grpc.pb.h"

namespace tri::client {

class LeaseClient {
 public:
  // As EtcdClient::Connect.
  static Result<std::unique_ptr<LeaseClient>> Connect(ClientOptions options);

  // id 0: the server picks one.
  Result<etcdserverpb::LeaseGrantResponse> Grant(std::int64_t ttl_s, std::int64_t id = 0);
  Result<etcdserverpb::LeaseRevokeResponse> Revoke(std::int64_t id);
  Result<etcdserverpb::LeaseTimeToLiveResponse> TimeToLive(std::int64_t id, bool keys);
  Result<etcdserverpb::LeaseLeasesResponse> Leases();
  // One keep-alive on a fresh stream; the server answers TTL 0 for a lease it
  // does not have (the caller decides what that means).
  Result<etcdserverpb::LeaseKeepAliveResponse> KeepAliveOnce(std::int64_t id);
  // Keeps `id` alive until it is gone (a response with TTL <= 0: returns ok) or
  // the stream fails (the error): sends a keep-alive, waits for its response,
  // hands it to `on_response`, sleeps a third of its TTL, and again.
  Status KeepAlive(
      std::int64_t id,
      const std::function<void(const etcdserverpb::LeaseKeepAliveResponse&)>& on_response);

 private:
  struct Endpoint {
    std::string target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  };
  explicit LeaseClient(ClientOptions options);
  template <typename Response, typename Rpc>
  Result<Response> Call(Rpc rpc);

  ClientOptions options_;
  std::vector<Endpoint> endpoints_;
  std::atomic<std::size_t> current_{0};
};

}  // namespace tri::client
