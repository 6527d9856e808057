#pragma once

// CoordinationClient: Trinity's native locks and barriers
// (trinity/v1/coordination.proto: services trinity.v1.Locks and
// trinity.v1.Barriers) over gRPC, with EtcdClient's endpoint list, TLS and
// failover on UNAVAILABLE for the unary calls. Errors are Status with the
// gRPC code and the server's message (client/grpc_status.h).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/etcd_client.h"
#include "trinity/v1/coordination.grpc.pb.h"

namespace tri::client {

class CoordinationClient {
 public:
  // As EtcdClient::Connect.
  static Result<std::unique_ptr<CoordinationClient>> Connect(ClientOptions options);

  // --- locks ---
  // The call's deadline is the command timeout plus the request's wait.
  Result<trinity::v1::AcquireLockResponse> Acquire(const trinity::v1::AcquireLockRequest& request);
  Result<trinity::v1::ReleaseLockResponse> Release(const std::string& name,
                                                   const std::string& owner);
  Result<trinity::v1::ListLocksResponse> ListLocks(const std::string& prefix);

  // --- barriers ---
  Result<trinity::v1::BarrierInfo> CreateBarrier(const trinity::v1::CreateBarrierRequest& request);
  // Arrives and reads the stream: `on_update` gets every message (the first
  // answers the arrival) until the server ends the stream (ok: the barrier
  // ended or was removed; the last update says which) or it fails. No deadline:
  // the barrier's own timeout bounds it. The stream is not moved to another
  // endpoint when it breaks.
  Status Arrive(const std::string& name, const std::string& participant,
                const std::function<void(const trinity::v1::BarrierUpdate&)>& on_update);
  Result<trinity::v1::BarrierInfo> BarrierStatus(const std::string& name);
  Result<trinity::v1::ListBarriersResponse> ListBarriers(const std::string& prefix);
  Result<trinity::v1::BarrierInfo> CancelBarrier(const std::string& name);
  Result<trinity::v1::RemoveBarrierResponse> RemoveBarrier(const std::string& name);

 private:
  struct Endpoint {
    std::string target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<trinity::v1::Locks::Stub> locks;
    std::unique_ptr<trinity::v1::Barriers::Stub> barriers;
  };
  explicit CoordinationClient(ClientOptions options);
  template <typename Response, typename Rpc>
  Result<Response> Call(Rpc rpc, std::chrono::milliseconds extra = std::chrono::milliseconds(0));

  ClientOptions options_;
  std::vector<Endpoint> endpoints_;
  std::atomic<std::size_t> current_{0};
};

}  // namespace tri::client
