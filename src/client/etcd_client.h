#pragma once

// client::EtcdClient: a synchronous etcd v3 client over gRPC. It speaks the
// wire format of etcd 3.4 (src/api/proto), so it works against etcd and
// against Trinity's node alike. Requests and responses are the protobuf
// messages themselves; every call returns the response or a Status carrying the
// gRPC code and the server's message (see grpc_status.h).
//
// Thread-safe: calls may be made from any number of threads at once.

#include <grpcpp/channel.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/client_tls.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "etcdserverpb/rpc.pb.h"

namespace tri::client {

struct ClientOptions {
  // Endpoints from ParseEndpoints ("host:port" or "https://host:port"), tried in order.
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  // TLS (client_tls.h): which endpoints use it and with what certificates.
  ClientTls tls;
  // How long Connect waits for any endpoint to accept a connection.
  std::chrono::milliseconds dial_timeout{2000};
  // Deadline of one call, over all the endpoints it tries.
  std::chrono::milliseconds command_timeout{5000};
  // Bound on a response's size (a large range can be big).
  int max_receive_message_bytes = 64 << 20;
};

class EtcdClient {
 public:
  // Dials every endpoint and waits up to options.dial_timeout for one of them to
  // be connected; that one serves the first call. Fails with kDeadlineExceeded
  // ("context deadline exceeded", as etcdctl says) when none connects, and with
  // kInvalidArgument for an empty endpoint list.
  static Result<std::unique_ptr<EtcdClient>> Connect(ClientOptions options);

  // KV.
  Result<etcdserverpb::PutResponse> Put(const etcdserverpb::PutRequest& request);
  Result<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  Result<etcdserverpb::DeleteRangeResponse> DeleteRange(
      const etcdserverpb::DeleteRangeRequest& request);
  Result<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);

  // Cluster.
  Result<etcdserverpb::MemberListResponse> MemberList();
  Result<etcdserverpb::MemberAddResponse> MemberAdd(std::vector<std::string> peer_urls,
                                                    bool is_learner);
  Result<etcdserverpb::MemberRemoveResponse> MemberRemove(std::uint64_t id);
  Result<etcdserverpb::MemberPromoteResponse> MemberPromote(std::uint64_t id);
  Result<etcdserverpb::MemberUpdateResponse> MemberUpdate(std::uint64_t id,
                                                          std::vector<std::string> peer_urls);

  // Maintenance. Status and HashKV describe one member, so they go to
  // `endpoint` only (one of options.endpoints) and never fail over.
  Result<etcdserverpb::StatusResponse> Status(const std::string& endpoint);
  Result<etcdserverpb::HashKVResponse> HashKV(const std::string& endpoint, std::int64_t revision);
  Result<etcdserverpb::AlarmResponse> Alarm(const etcdserverpb::AlarmRequest& request);
  // Must reach the current leader; the caller picks it (see Status().leader()).
  Result<etcdserverpb::MoveLeaderResponse> MoveLeader(const std::string& leader_endpoint,
                                                      std::uint64_t target_id);

  const ClientOptions& options() const { return options_; }

 private:
  struct Endpoint {
    std::string target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  };

  explicit EtcdClient(ClientOptions options);

  // Runs `rpc(endpoint, context)` against the current endpoint; on UNAVAILABLE
  // moves to the next one and retries, each endpoint at most once, all within
  // one command_timeout.
  template <typename Response, typename Rpc>
  Result<Response> CallWithFailover(Rpc rpc);

  Result<const Endpoint*> FindEndpoint(const std::string& target) const;

  ClientOptions options_;
  std::vector<Endpoint> endpoints_;
  std::atomic<std::size_t> current_{0};
};

}  // namespace tri::client
