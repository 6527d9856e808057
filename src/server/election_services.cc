#include "server/election_services.h"

#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>

#include <string>
#include <utility>

#include "client/grpc_status.h"
#include "server/native_elections.h"
#include "v3electionpb/v3election.grpc.pb.h"
#include "v3lockpb/v3lock.grpc.pb.h"

namespace tri::server {
namespace {

// etcd's v3election.ErrMissingLeaderKey.
constexpr char kMissingLeaderKey[] = "\"leader\" field must be provided";

// etcd's services get the KV and Lease services' errors through an in-process
// client as plain errors, which gRPC sends as UNKNOWN with the message; only a
// cancelled or expired call keeps its code.
grpc::Status ToGrpc(const Status& status) {
  if (status.code() == StatusCode::kCancelled || status.code() == StatusCode::kDeadlineExceeded)
    return grpc::Status(client::GrpcCodeOf(status), std::string(status.message()));
  return grpc::Status(grpc::StatusCode::UNKNOWN, std::string(status.message()));
}

// The recipes' client for one service call: over the node's own channel,
// every call a child of `context`.
Result<client::RecipeClient> ClientFor(const SelfChannel& self, grpc::ServerContext* context) {
  std::shared_ptr<grpc::Channel> channel = self.Get();
  if (!channel) return Unavailable("etcdserver: the member is starting");
  return client::RecipeClient(
      std::move(channel), [context] { return grpc::ClientContext::FromServerContext(*context); });
}

void ToProto(const client::LeaderKey& leader, v3electionpb::LeaderKey* out) {
  out->set_name(leader.name);
  out->set_key(leader.key);
  out->set_rev(leader.rev);
  out->set_lease(leader.lease);
}

client::LeaderKey FromProto(const v3electionpb::LeaderKey& leader) {
  return client::LeaderKey{
      .name = leader.name(), .key = leader.key(), .rev = leader.rev(), .lease = leader.lease()};
}

}  // namespace

void SelfChannel::Set(std::shared_ptr<grpc::Channel> channel) {
  std::lock_guard lock(mu_);
  channel_ = std::move(channel);
}

std::shared_ptr<grpc::Channel> SelfChannel::Get() const {
  std::lock_guard lock(mu_);
  return channel_;
}

class ElectionServices::LockImpl final : public v3lockpb::Lock::Service {
 public:
  explicit LockImpl(const SelfChannel& self) : self_(self) {}

  grpc::Status Lock(grpc::ServerContext* context, const v3lockpb::LockRequest* request,
                    v3lockpb::LockResponse* response) override {
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<client::Locked> locked = client::Lock(*recipes, request->name(), request->lease());
    if (!locked.ok()) return ToGrpc(locked.status());
    *response->mutable_header() = locked->header;
    response->set_key(locked->key);
    return grpc::Status::OK;
  }

  grpc::Status Unlock(grpc::ServerContext* context, const v3lockpb::UnlockRequest* request,
                      v3lockpb::UnlockResponse* response) override {
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<etcdserverpb::ResponseHeader> header = client::Unlock(*recipes, request->key());
    if (!header.ok()) return ToGrpc(header.status());
    *response->mutable_header() = *header;
    return grpc::Status::OK;
  }

 private:
  const SelfChannel& self_;
};

class ElectionServices::ElectionImpl final : public v3electionpb::Election::Service {
 public:
  explicit ElectionImpl(const SelfChannel& self) : self_(self) {}

  grpc::Status Campaign(grpc::ServerContext* context, const v3electionpb::CampaignRequest* request,
                        v3electionpb::CampaignResponse* response) override {
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<client::Campaigned> won =
        client::Campaign(*recipes, request->name(), request->lease(), request->value());
    if (!won.ok()) return ToGrpc(won.status());
    *response->mutable_header() = won->header;
    ToProto(won->leader, response->mutable_leader());
    return grpc::Status::OK;
  }

  grpc::Status Proclaim(grpc::ServerContext* context, const v3electionpb::ProclaimRequest* request,
                        v3electionpb::ProclaimResponse* response) override {
    if (!request->has_leader()) return grpc::Status(grpc::StatusCode::UNKNOWN, kMissingLeaderKey);
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<etcdserverpb::ResponseHeader> header =
        client::Proclaim(*recipes, FromProto(request->leader()), request->value());
    if (!header.ok()) return ToGrpc(header.status());
    *response->mutable_header() = *header;
    return grpc::Status::OK;
  }

  grpc::Status Leader(grpc::ServerContext* context, const v3electionpb::LeaderRequest* request,
                      v3electionpb::LeaderResponse* response) override {
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<client::LeaderValue> leader = client::Leader(*recipes, request->name());
    if (!leader.ok()) return ToGrpc(leader.status());
    *response->mutable_header() = leader->header;
    *response->mutable_kv() = leader->kv;
    return grpc::Status::OK;
  }

  grpc::Status Observe(grpc::ServerContext* context, const v3electionpb::LeaderRequest* request,
                       grpc::ServerWriter<v3electionpb::LeaderResponse>* writer) override {
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    const Status observed =
        client::Observe(*recipes, request->name(), [&](const client::LeaderValue& leader) {
          v3electionpb::LeaderResponse response;
          *response.mutable_header() = leader.header;
          *response.mutable_kv() = leader.kv;
          return writer->Write(response);
        });
    if (!observed.ok()) return ToGrpc(observed);
    return grpc::Status(grpc::StatusCode::CANCELLED, "context canceled");
  }

  grpc::Status Resign(grpc::ServerContext* context, const v3electionpb::ResignRequest* request,
                      v3electionpb::ResignResponse* response) override {
    if (!request->has_leader()) return grpc::Status(grpc::StatusCode::UNKNOWN, kMissingLeaderKey);
    Result<client::RecipeClient> recipes = ClientFor(self_, context);
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<etcdserverpb::ResponseHeader> header =
        client::Resign(*recipes, FromProto(request->leader()));
    if (!header.ok()) return ToGrpc(header.status());
    *response->mutable_header() = *header;
    return grpc::Status::OK;
  }

 private:
  const SelfChannel& self_;
};

ElectionServices::ElectionServices()
    : lock_(std::make_unique<LockImpl>(self_)),
      election_(std::make_unique<ElectionImpl>(self_)),
      native_(MakeNativeElectionService(self_, NativeElectionOptions{})) {}

ElectionServices::~ElectionServices() = default;

void ElectionServices::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(lock_.get());
  builder.RegisterService(election_.get());
  builder.RegisterService(native_.get());
}

void ElectionServices::Attach(grpc::Server& server) {
  self_.Set(server.InProcessChannel(grpc::ChannelArguments()));
}

}  // namespace tri::server
