#include "server/native_elections.h"

#include <fmt/format.h>
#include <grpcpp/server_context.h>

#include <chrono>
#include <utility>

#include "client/concurrency.h"
#include "client/grpc_status.h"
#include "server/election_services.h"
#include "trinity/v1/coordination.grpc.pb.h"

namespace tri::server {
namespace {

constexpr std::string_view kElectionsPrefix = "trinity/elections/";

grpc::Status ToGrpc(const Status& status) {
  return grpc::Status(client::GrpcCodeOf(status), std::string(status.message()));
}

Status CheckName(std::string_view what, std::string_view name, std::size_t max_bytes) {
  if (name.empty()) return InvalidArgument(fmt::format("{}: must not be empty", what));
  if (name.size() > max_bytes)
    return InvalidArgument(fmt::format("{}: {} bytes, over the bound of {} (max_name_bytes)", what,
                                       name.size(), max_bytes));
  return Status();
}

}  // namespace

std::string ElectionCandidatesPrefix(std::string_view election) {
  return fmt::format("{}{}/candidates/", kElectionsPrefix, election);
}

std::string ElectionFenceKey(std::string_view election) {
  return fmt::format("{}{}/fence", kElectionsPrefix, election);
}

namespace {

class NativeElectionService final : public trinity::v1::Elections::Service {
 public:
  NativeElectionService(SelfChannel& self, NativeElectionOptions options)
      : self_(self), options_(options) {}

  grpc::Status Campaign(grpc::ServerContext* context,
                        const trinity::v1::CampaignElectionRequest* request,
                        trinity::v1::ElectionLeader* response) override {
    Status valid = CheckRequest(request->election(), request->candidate());
    if (valid.ok() && request->ttl_seconds() < 0)
      valid = InvalidArgument(
          fmt::format("election {}: ttl_seconds must not be negative", request->election()));
    if (valid.ok() && request->ttl_seconds() > 0 && request->lease() != 0)
      valid = InvalidArgument(fmt::format(
          "election {}: give ttl_seconds (a new lease) or lease (an existing one), not both",
          request->election()));
    if (!valid.ok()) return ToGrpc(valid);
    const auto deadline =
        std::chrono::system_clock::now() + std::chrono::milliseconds(request->wait_timeout_ms());
    const bool wait = request->wait_timeout_ms() > 0;
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> made =
        active.Client(wait ? std::optional(deadline) : std::nullopt);
    if (!made.ok()) return ToGrpc(made.status());
    const client::RecipeClient& recipes = *made;

    std::int64_t lease = request->lease();
    if (request->ttl_seconds() > 0) {
      if (Status open = recipes.CheckOpen(); !open.ok()) return ToGrpc(open);
      etcdserverpb::LeaseGrantRequest grant;
      grant.set_ttl(request->ttl_seconds());
      etcdserverpb::LeaseGrantResponse granted;
      auto call = recipes.NewContext();
      const grpc::Status status = recipes.lease().LeaseGrant(call.get(), grant, &granted);
      if (!status.ok()) return status;
      lease = granted.id();
    }
    const std::string prefix = ElectionCandidatesPrefix(request->election());
    Result<client::Campaigned> won = client::CampaignKey(
        recipes, prefix, prefix + request->candidate(), lease, request->value(), wait);
    response->set_election(request->election());
    response->set_lease(lease);
    response->set_fence_key(ElectionFenceKey(request->election()));
    if (!won.ok()) {
      if (request->ttl_seconds() > 0) RevokeQuietly(recipes, lease);
      // The wait ran out: not the leader (the candidate's entry is gone again).
      if (won.status().code() == StatusCode::kDeadlineExceeded && !context->IsCancelled())
        return grpc::Status::OK;
      return ToGrpc(won.status());
    }
    const Status fenced = WriteFence(recipes, request->election(), won->leader);
    if (!fenced.ok()) return ToGrpc(fenced);
    response->set_leader(request->candidate());
    response->set_value(request->value());
    response->set_token(static_cast<std::uint64_t>(won->leader.rev));
    return grpc::Status::OK;
  }

  grpc::Status Leader(grpc::ServerContext* context,
                      const trinity::v1::ElectionLeaderRequest* request,
                      trinity::v1::ElectionLeader* response) override {
    const Status valid = CheckName("election", request->election(), options_.max_name_bytes);
    if (!valid.ok()) return ToGrpc(valid);
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> made = active.Client();
    if (!made.ok()) return ToGrpc(made.status());
    const client::RecipeClient& recipes = *made;
    const std::string prefix = ElectionCandidatesPrefix(request->election());
    Result<client::LeaderValue> leader = client::LeaderUnder(recipes, prefix);
    if (!leader.ok() && client::IsElectionNoLeader(leader.status()))
      return ToGrpc(NotFound(fmt::format("election {}: no leader", request->election())));
    if (!leader.ok()) return ToGrpc(leader.status());
    response->set_election(request->election());
    response->set_leader(leader->kv.key().substr(prefix.size()));
    response->set_value(leader->kv.value());
    response->set_token(static_cast<std::uint64_t>(leader->kv.create_revision()));
    response->set_lease(leader->kv.lease());
    response->set_fence_key(ElectionFenceKey(request->election()));
    return grpc::Status::OK;
  }

  grpc::Status Resign(grpc::ServerContext* context,
                      const trinity::v1::ResignElectionRequest* request,
                      trinity::v1::ResignElectionResponse* /*response*/) override {
    const Status valid = CheckRequest(request->election(), request->candidate());
    if (!valid.ok()) return ToGrpc(valid);
    const SelfChannel::ActiveCall active(self_, context);
    Result<client::RecipeClient> made = active.Client();
    if (!made.ok()) return ToGrpc(made.status());
    const client::RecipeClient& recipes = *made;
    const std::string key = ElectionCandidatesPrefix(request->election()) + request->candidate();
    if (Status open = recipes.CheckOpen(); !open.ok()) return ToGrpc(open);
    etcdserverpb::RangeRequest read;
    read.set_key(key);
    etcdserverpb::RangeResponse entry;
    auto call = recipes.NewContext();
    grpc::Status status = recipes.kv().Range(call.get(), read, &entry);
    if (!status.ok()) return status;
    if (entry.kvs_size() == 0)
      return ToGrpc(FailedPrecondition(fmt::format("election {}: candidate {} is not campaigning",
                                                   request->election(), request->candidate())));
    // Deletes the entry, and the fence when it holds this entry's token.
    const std::int64_t rev = entry.kvs(0).create_revision();
    etcdserverpb::TxnRequest txn;
    auto* same_entry = txn.add_compare();
    same_entry->set_key(key);
    same_entry->set_target(etcdserverpb::Compare::CREATE);
    same_entry->set_create_revision(rev);
    auto* fence_is_ours = txn.add_compare();
    fence_is_ours->set_key(ElectionFenceKey(request->election()));
    fence_is_ours->set_target(etcdserverpb::Compare::VALUE);
    fence_is_ours->set_value(std::to_string(rev));
    txn.add_success()->mutable_request_delete_range()->set_key(key);
    txn.add_success()->mutable_request_delete_range()->set_key(
        ElectionFenceKey(request->election()));
    etcdserverpb::TxnResponse done;
    if (Status open = recipes.CheckOpen(); !open.ok()) return ToGrpc(open);
    call = recipes.NewContext();
    status = recipes.kv().Txn(call.get(), txn, &done);
    if (!status.ok()) return status;
    if (done.succeeded()) return grpc::Status::OK;
    const Result<etcdserverpb::ResponseHeader> resigned =
        client::Resign(recipes, client::LeaderKey{.key = key, .rev = rev});
    if (!resigned.ok()) return ToGrpc(resigned.status());
    return grpc::Status::OK;
  }

 private:
  Status CheckRequest(std::string_view election, std::string_view candidate) const {
    TRI_RETURN_IF_ERROR(CheckName("election", election, options_.max_name_bytes));
    return CheckName(fmt::format("election {}: candidate", election), candidate,
                     options_.max_name_bytes);
  }

  // Revokes the lease granted for a campaign that did not win.
  static void RevokeQuietly(const client::RecipeClient& recipes, std::int64_t lease) {
    if (!recipes.CheckOpen().ok()) return;
    etcdserverpb::LeaseRevokeRequest revoke;
    revoke.set_id(lease);
    etcdserverpb::LeaseRevokeResponse ignored;
    auto call = recipes.NewCleanupContext();
    (void)recipes.lease().LeaseRevoke(call.get(), revoke, &ignored);
  }

  // Puts the fence key (the token, under the leader's lease) while `leader`
  // still leads.
  Status WriteFence(const client::RecipeClient& recipes, std::string_view election,
                    const client::LeaderKey& leader) {
    etcdserverpb::TxnRequest txn;
    auto* still_leads = txn.add_compare();
    still_leads->set_key(leader.key);
    still_leads->set_target(etcdserverpb::Compare::CREATE);
    still_leads->set_create_revision(leader.rev);
    auto* put = txn.add_success()->mutable_request_put();
    put->set_key(ElectionFenceKey(election));
    put->set_value(std::to_string(leader.rev));
    put->set_lease(leader.lease);
    etcdserverpb::TxnResponse done;
    TRI_RETURN_IF_ERROR(recipes.CheckOpen());
    auto call = recipes.NewCleanupContext();
    const grpc::Status status = recipes.kv().Txn(call.get(), txn, &done);
    if (!status.ok()) return client::FromGrpcStatus(status);
    if (!done.succeeded())
      return Aborted(
          fmt::format("election {}: the leadership ended before it was fenced", election));
    return Status();
  }

  SelfChannel& self_;
  NativeElectionOptions options_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeNativeElectionService(SelfChannel& self,
                                                         NativeElectionOptions options) {
  return std::make_unique<NativeElectionService>(self, options);
}

}  // namespace tri::server
