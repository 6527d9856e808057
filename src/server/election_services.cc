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
  if (!stopped_) channel_ = std::move(channel);
}

void SelfChannel::Stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  channel_.reset();
  for (grpc::ServerContext* context : active_)
    context->TryCancel();
}

bool SelfChannel::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

SelfChannel::ActiveCall::ActiveCall(SelfChannel& self, grpc::ServerContext* context)
    : self_(self), context_(context) {
  std::lock_guard lock(self_.mu_);
  if (self_.stopped_) return;
  self_.active_.insert(context_);
  registered_ = true;
}

SelfChannel::ActiveCall::~ActiveCall() {
  if (!registered_) return;
  std::lock_guard lock(self_.mu_);
  self_.active_.erase(context_);
}

Result<client::RecipeClient> SelfChannel::ActiveCall::Client(
    std::optional<std::chrono::system_clock::time_point> deadline) const {
  std::shared_ptr<grpc::Channel> channel;
  {
    std::lock_guard lock(self_.mu_);
    channel = self_.channel_;
  }
  if (!registered_ || !channel) return Unavailable("etcdserver: server stopped");
  constexpr std::chrono::milliseconds kCleanupTimeout{5000};
  grpc::ServerContext* context = context_;
  SelfChannel* self = &self_;
  return client::RecipeClient(
      std::move(channel),
      [context, deadline] {
        auto call = grpc::ClientContext::FromServerContext(*context);
        if (deadline) call->set_deadline(*deadline);
        return call;
      },
      kCleanupTimeout,
      [kCleanupTimeout] {
        auto call = std::make_unique<grpc::ClientContext>();
        call->set_deadline(std::chrono::system_clock::now() + kCleanupTimeout);
        return call;
      },
      [self] { return self->stopped(); });
}

class ElectionServices::LockImpl final : public v3lockpb::Lock::Service {
 public:
  explicit LockImpl(SelfChannel& self) : self_(self) {}

  grpc::Status Lock(grpc::ServerContext* context, const v3lockpb::LockRequest* request,
                    v3lockpb::LockResponse* response) override {
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<client::Locked> locked = client::Lock(*recipes, request->name(), request->lease());
    if (!locked.ok()) return ToGrpc(locked.status());
    *response->mutable_header() = locked->header;
    response->set_key(locked->key);
    return grpc::Status::OK;
  }

  grpc::Status Unlock(grpc::ServerContext* context, const v3lockpb::UnlockRequest* request,
                      v3lockpb::UnlockResponse* response) override {
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<etcdserverpb::ResponseHeader> header = client::Unlock(*recipes, request->key());
    if (!header.ok()) return ToGrpc(header.status());
    *response->mutable_header() = *header;
    return grpc::Status::OK;
  }

 private:
  SelfChannel& self_;
};

class ElectionServices::ElectionImpl final : public v3electionpb::Election::Service {
 public:
  explicit ElectionImpl(SelfChannel& self) : self_(self) {}

  grpc::Status Campaign(grpc::ServerContext* context, const v3electionpb::CampaignRequest* request,
                        v3electionpb::CampaignResponse* response) override {
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
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
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<etcdserverpb::ResponseHeader> header =
        client::Proclaim(*recipes, FromProto(request->leader()), request->value());
    if (!header.ok()) return ToGrpc(header.status());
    *response->mutable_header() = *header;
    return grpc::Status::OK;
  }

  grpc::Status Leader(grpc::ServerContext* context, const v3electionpb::LeaderRequest* request,
                      v3electionpb::LeaderResponse* response) override {
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<client::LeaderValue> leader = client::Leader(*recipes, request->name());
    if (!leader.ok()) return ToGrpc(leader.status());
    *response->mutable_header() = leader->header;
    *response->mutable_kv() = leader->kv;
    return grpc::Status::OK;
  }

  grpc::Status Observe(grpc::ServerContext* context, const v3electionpb::LeaderRequest* request,
                       grpc::ServerWriter<v3electionpb::LeaderResponse>* writer) override {
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
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
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> recipes = active.Client();
    if (!recipes.ok()) return ToGrpc(recipes.status());
    Result<etcdserverpb::ResponseHeader> header =
        client::Resign(*recipes, FromProto(request->leader()));
    if (!header.ok()) return ToGrpc(header.status());
    *response->mutable_header() = *header;
    return grpc::Status::OK;
  }

 private:
  SelfChannel& self_;
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

void ElectionServices::Stop() {
  self_.Stop();
}

void ElectionServices::Attach(grpc::Server& server) {
  self_.Set(server.InProcessChannel(grpc::ChannelArguments()));
}

}  // namespace tri::server
