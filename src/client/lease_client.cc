#include "client/lease_client.h"

#include <chrono>
#include <thread>

#include "client/failover.h"
#include "client/grpc_status.h"

namespace tri::client {

LeaseClient::LeaseClient(ClientOptions options)
    : options_(std::move(options)), endpoints_(DialEndpoints<Endpoint>(options_, [](Endpoint& ep) {
        ep.lease = etcdserverpb::Lease::NewStub(ep.channel);
      })) {}

Result<std::unique_ptr<LeaseClient>> LeaseClient::Connect(ClientOptions options) {
  if (options.endpoints.empty()) return InvalidArgument("etcd client: no endpoints given");
  std::unique_ptr<LeaseClient> client(new LeaseClient(std::move(options)));
  TRI_ASSIGN_OR_RETURN(client->current_,
                       FirstReadyEndpoint(client->endpoints_, client->options_.dial_timeout));
  return client;
}

template <typename Response, typename Rpc>
Result<Response> LeaseClient::Call(Rpc rpc) {
  return CallWithFailover<Response>(endpoints_, current_, options_.command_timeout, std::move(rpc));
}

Result<etcdserverpb::LeaseGrantResponse> LeaseClient::Grant(std::int64_t ttl_s, std::int64_t id) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_s);
  request.set_id(id);
  return Call<etcdserverpb::LeaseGrantResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::LeaseGrantResponse& out) {
        return ep.lease->LeaseGrant(&ctx, request, &out);
      });
}

Result<etcdserverpb::LeaseRevokeResponse> LeaseClient::Revoke(std::int64_t id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  return Call<etcdserverpb::LeaseRevokeResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::LeaseRevokeResponse& out) {
        return ep.lease->LeaseRevoke(&ctx, request, &out);
      });
}

Result<etcdserverpb::LeaseTimeToLiveResponse> LeaseClient::TimeToLive(std::int64_t id, bool keys) {
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(id);
  request.set_keys(keys);
  return Call<etcdserverpb::LeaseTimeToLiveResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::LeaseTimeToLiveResponse& out) {
        return ep.lease->LeaseTimeToLive(&ctx, request, &out);
      });
}

Result<etcdserverpb::LeaseLeasesResponse> LeaseClient::Leases() {
  etcdserverpb::LeaseLeasesRequest request;
  return Call<etcdserverpb::LeaseLeasesResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::LeaseLeasesResponse& out) {
        return ep.lease->LeaseLeases(&ctx, request, &out);
      });
}

Result<etcdserverpb::LeaseKeepAliveResponse> LeaseClient::KeepAliveOnce(std::int64_t id) {
  return Call<etcdserverpb::LeaseKeepAliveResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::LeaseKeepAliveResponse& out) {
        auto stream = ep.lease->LeaseKeepAlive(&ctx);
        etcdserverpb::LeaseKeepAliveRequest request;
        request.set_id(id);
        if (stream->Write(request) && stream->WritesDone() && stream->Read(&out)) {
          ctx.TryCancel();
          (void)stream->Finish();
          return grpc::Status::OK;
        }
        return stream->Finish();
      });
}

Status LeaseClient::KeepAlive(
    std::int64_t id,
    const std::function<void(const etcdserverpb::LeaseKeepAliveResponse&)>& on_response) {
  grpc::ClientContext ctx;
  auto& ep = endpoints_[current_.load(std::memory_order_relaxed) % endpoints_.size()];
  auto stream = ep.lease->LeaseKeepAlive(&ctx);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(id);
  for (;;) {
    etcdserverpb::LeaseKeepAliveResponse response;
    if (!stream->Write(request) || !stream->Read(&response)) {
      stream->WritesDone();
      return FromGrpcStatus(stream->Finish());
    }
    if (response.ttl() <= 0) {
      ctx.TryCancel();
      (void)stream->Finish();
      return Status::Ok();
    }
    on_response(response);
    // clientv3 sends the next keep-alive a third of the TTL after a response.
    std::this_thread::sleep_for(std::chrono::milliseconds(response.ttl() * 1000 / 3));
  }
}

}  // namespace tri::client
