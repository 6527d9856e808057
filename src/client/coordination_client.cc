#include "client/coordination_client.h"

#include "client/failover.h"
#include "client/grpc_status.h"

namespace tri::client {

namespace pb = ::trinity::v1;

CoordinationClient::CoordinationClient(ClientOptions options)
    : options_(std::move(options)), endpoints_(DialEndpoints<Endpoint>(options_, [](Endpoint& ep) {
        ep.locks = pb::Locks::NewStub(ep.channel);
        ep.barriers = pb::Barriers::NewStub(ep.channel);
      })) {}

Result<std::unique_ptr<CoordinationClient>> CoordinationClient::Connect(ClientOptions options) {
  if (options.endpoints.empty()) return InvalidArgument("coordination client: no endpoints given");
  std::unique_ptr<CoordinationClient> client(new CoordinationClient(std::move(options)));
  TRI_ASSIGN_OR_RETURN(client->current_,
                       FirstReadyEndpoint(client->endpoints_, client->options_.dial_timeout));
  return client;
}

template <typename Response, typename Rpc>
Result<Response> CoordinationClient::Call(Rpc rpc, std::chrono::milliseconds extra) {
  return CallWithFailover<Response>(endpoints_, current_, options_.command_timeout + extra,
                                    std::move(rpc));
}

Result<pb::AcquireLockResponse> CoordinationClient::Acquire(const pb::AcquireLockRequest& request) {
  return Call<pb::AcquireLockResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, pb::AcquireLockResponse& out) {
        return ep.locks->Acquire(&ctx, request, &out);
      },
      std::chrono::milliseconds(request.wait_timeout_ms()));
}

Result<pb::ReleaseLockResponse> CoordinationClient::Release(const std::string& name,
                                                            const std::string& owner) {
  pb::ReleaseLockRequest request;
  request.set_name(name);
  request.set_owner(owner);
  return Call<pb::ReleaseLockResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, pb::ReleaseLockResponse& out) {
        return ep.locks->Release(&ctx, request, &out);
      });
}

Result<pb::ListLocksResponse> CoordinationClient::ListLocks(const std::string& prefix) {
  pb::ListLocksRequest request;
  request.set_prefix(prefix);
  return Call<pb::ListLocksResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, pb::ListLocksResponse& out) {
        return ep.locks->List(&ctx, request, &out);
      });
}

Result<pb::BarrierInfo> CoordinationClient::CreateBarrier(const pb::CreateBarrierRequest& request) {
  return Call<pb::BarrierInfo>([&](Endpoint& ep, grpc::ClientContext& ctx, pb::BarrierInfo& out) {
    return ep.barriers->Create(&ctx, request, &out);
  });
}

Status CoordinationClient::Arrive(const std::string& name, const std::string& participant,
                                  const std::function<void(const pb::BarrierUpdate&)>& on_update) {
  pb::ArriveBarrierRequest request;
  request.set_name(name);
  request.set_participant(participant);
  grpc::ClientContext ctx;
  Endpoint& ep = endpoints_[current_.load(std::memory_order_relaxed) % endpoints_.size()];
  auto reader = ep.barriers->Arrive(&ctx, request);
  pb::BarrierUpdate update;
  while (reader->Read(&update))
    on_update(update);
  return FromGrpcStatus(reader->Finish());
}

Result<pb::BarrierInfo> CoordinationClient::BarrierStatus(const std::string& name) {
  pb::BarrierStatusRequest request;
  request.set_name(name);
  return Call<pb::BarrierInfo>([&](Endpoint& ep, grpc::ClientContext& ctx, pb::BarrierInfo& out) {
    return ep.barriers->Status(&ctx, request, &out);
  });
}

Result<pb::ListBarriersResponse> CoordinationClient::ListBarriers(const std::string& prefix) {
  pb::ListBarriersRequest request;
  request.set_prefix(prefix);
  return Call<pb::ListBarriersResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, pb::ListBarriersResponse& out) {
        return ep.barriers->List(&ctx, request, &out);
      });
}

Result<pb::BarrierInfo> CoordinationClient::CancelBarrier(const std::string& name) {
  pb::CancelBarrierRequest request;
  request.set_name(name);
  return Call<pb::BarrierInfo>([&](Endpoint& ep, grpc::ClientContext& ctx, pb::BarrierInfo& out) {
    return ep.barriers->Cancel(&ctx, request, &out);
  });
}

Result<pb::RemoveBarrierResponse> CoordinationClient::RemoveBarrier(const std::string& name) {
  pb::RemoveBarrierRequest request;
  request.set_name(name);
  return Call<pb::RemoveBarrierResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, pb::RemoveBarrierResponse& out) {
        return ep.barriers->Remove(&ctx, request, &out);
      });
}

}  // namespace tri::client
