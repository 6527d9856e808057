#include "client/etcd_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>

#include "client/failover.h"
#include "client/grpc_status.h"

namespace tri::client {
namespace {

using Clock = SteadyClock;

}  // namespace

EtcdClient::EtcdClient(ClientOptions options)
    : options_(std::move(options)), endpoints_(DialEndpoints<Endpoint>(options_, [](Endpoint& ep) {
        ep.kv = etcdserverpb::KV::NewStub(ep.channel);
        ep.cluster = etcdserverpb::Cluster::NewStub(ep.channel);
        ep.maintenance = etcdserverpb::Maintenance::NewStub(ep.channel);
      })) {}

Result<std::unique_ptr<EtcdClient>> EtcdClient::Connect(ClientOptions options) {
  if (options.endpoints.empty()) return InvalidArgument("etcd client: no endpoints given");
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(options)));
  TRI_ASSIGN_OR_RETURN(client->current_,
                       FirstReadyEndpoint(client->endpoints_, client->options_.dial_timeout));
  return client;
}

template <typename Response, typename Rpc>
Result<Response> EtcdClient::CallWithFailover(Rpc rpc) {
  return client::CallWithFailover<Response>(endpoints_, current_, options_.command_timeout,
                                            std::move(rpc));
}

Result<const EtcdClient::Endpoint*> EtcdClient::FindEndpoint(const std::string& target) const {
  for (const Endpoint& ep : endpoints_)
    if (ep.target == target) return &ep;
  return InvalidArgument("etcd client: endpoint '" + target + "' is not one of the client's");
}

Result<etcdserverpb::PutResponse> EtcdClient::Put(const etcdserverpb::PutRequest& request) {
  return CallWithFailover<etcdserverpb::PutResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::PutResponse& out) {
        return ep.kv->Put(&ctx, request, &out);
      });
}

Result<etcdserverpb::RangeResponse> EtcdClient::Range(const etcdserverpb::RangeRequest& request) {
  return CallWithFailover<etcdserverpb::RangeResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::RangeResponse& out) {
        return ep.kv->Range(&ctx, request, &out);
      });
}

Result<etcdserverpb::DeleteRangeResponse> EtcdClient::DeleteRange(
    const etcdserverpb::DeleteRangeRequest& request) {
  return CallWithFailover<etcdserverpb::DeleteRangeResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::DeleteRangeResponse& out) {
        return ep.kv->DeleteRange(&ctx, request, &out);
      });
}

Result<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& request) {
  return CallWithFailover<etcdserverpb::TxnResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::TxnResponse& out) {
        return ep.kv->Txn(&ctx, request, &out);
      });
}

Result<etcdserverpb::MemberListResponse> EtcdClient::MemberList() {
  etcdserverpb::MemberListRequest request;
  return CallWithFailover<etcdserverpb::MemberListResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::MemberListResponse& out) {
        return ep.cluster->MemberList(&ctx, request, &out);
      });
}

Result<etcdserverpb::MemberAddResponse> EtcdClient::MemberAdd(std::vector<std::string> peer_urls,
                                                              bool is_learner) {
  etcdserverpb::MemberAddRequest request;
  for (std::string& url : peer_urls)
    request.add_peerurls(std::move(url));
  request.set_islearner(is_learner);
  return CallWithFailover<etcdserverpb::MemberAddResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::MemberAddResponse& out) {
        return ep.cluster->MemberAdd(&ctx, request, &out);
      });
}

Result<etcdserverpb::MemberRemoveResponse> EtcdClient::MemberRemove(std::uint64_t id) {
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  return CallWithFailover<etcdserverpb::MemberRemoveResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::MemberRemoveResponse& out) {
        return ep.cluster->MemberRemove(&ctx, request, &out);
      });
}

Result<etcdserverpb::MemberPromoteResponse> EtcdClient::MemberPromote(std::uint64_t id) {
  etcdserverpb::MemberPromoteRequest request;
  request.set_id(id);
  return CallWithFailover<etcdserverpb::MemberPromoteResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::MemberPromoteResponse& out) {
        return ep.cluster->MemberPromote(&ctx, request, &out);
      });
}

Result<etcdserverpb::MemberUpdateResponse> EtcdClient::MemberUpdate(
    std::uint64_t id, std::vector<std::string> peer_urls) {
  etcdserverpb::MemberUpdateRequest request;
  request.set_id(id);
  for (std::string& url : peer_urls)
    request.add_peerurls(std::move(url));
  return CallWithFailover<etcdserverpb::MemberUpdateResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::MemberUpdateResponse& out) {
        return ep.cluster->MemberUpdate(&ctx, request, &out);
      });
}

Result<etcdserverpb::StatusResponse> EtcdClient::Status(const std::string& endpoint) {
  TRI_ASSIGN_OR_RETURN(const Endpoint* ep, FindEndpoint(endpoint));
  grpc::ClientContext context;
  context.set_deadline(ToSystemDeadline(Clock::now() + options_.command_timeout));
  etcdserverpb::StatusResponse response;
  const grpc::Status st =
      ep->maintenance->Status(&context, etcdserverpb::StatusRequest(), &response);
  if (!st.ok()) return FromGrpcStatus(st);
  return response;
}

Result<etcdserverpb::HashKVResponse> EtcdClient::HashKV(const std::string& endpoint,
                                                        std::int64_t revision) {
  TRI_ASSIGN_OR_RETURN(const Endpoint* ep, FindEndpoint(endpoint));
  grpc::ClientContext context;
  context.set_deadline(ToSystemDeadline(Clock::now() + options_.command_timeout));
  etcdserverpb::HashKVRequest request;
  request.set_revision(revision);
  etcdserverpb::HashKVResponse response;
  const grpc::Status st = ep->maintenance->HashKV(&context, request, &response);
  if (!st.ok()) return FromGrpcStatus(st);
  return response;
}

Result<etcdserverpb::AlarmResponse> EtcdClient::Alarm(const etcdserverpb::AlarmRequest& request) {
  return CallWithFailover<etcdserverpb::AlarmResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, etcdserverpb::AlarmResponse& out) {
        return ep.maintenance->Alarm(&ctx, request, &out);
      });
}

Result<etcdserverpb::MoveLeaderResponse> EtcdClient::MoveLeader(const std::string& leader_endpoint,
                                                                std::uint64_t target_id) {
  TRI_ASSIGN_OR_RETURN(const Endpoint* ep, FindEndpoint(leader_endpoint));
  grpc::ClientContext context;
  context.set_deadline(ToSystemDeadline(Clock::now() + options_.command_timeout));
  etcdserverpb::MoveLeaderRequest request;
  request.set_targetid(target_id);
  etcdserverpb::MoveLeaderResponse response;
  const grpc::Status st = ep->maintenance->MoveLeader(&context, request, &response);
  if (!st.ok()) return FromGrpcStatus(st);
  return response;
}

}  // namespace tri::client
