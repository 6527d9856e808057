#include "server/lease_grpc_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

#include "client/grpc_status.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "rsm/lease_codec.h"
#include "server/lease_service.h"
#include "server/node.h"

namespace tri::server {
namespace {

std::uint64_t WallMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(client::GrpcCodeOf(s), s.message());
}

grpc::Status ToGrpc(const rsm::KvError& e) {
  return grpc::Status(static_cast<grpc::StatusCode>(e.grpc_code), e.message);
}

void FillHeader(const NodeCore& core, etcdserverpb::ResponseHeader* h) {
  h->set_cluster_id(core.cluster_id());
  h->set_member_id(core.id());
  h->set_raft_term(core.term());
  h->set_revision(core.state_machine().store().current_revision());
}

// etcd's LeaseTimeToLive remaining TTL: the seconds until the expiry, truncated
// (Go's int64(Duration.Seconds())); never negative here, since -1 means "not
// found" to clients (a lease past its expiry but not yet revoked answers 0).
std::int64_t RemainingSeconds(std::uint64_t expiry_ms, std::uint64_t now_ms) {
  if (expiry_ms <= now_ms) return 0;
  return static_cast<std::int64_t>((expiry_ms - now_ms) / 1000);
}

}  // namespace

namespace {

// One LeaseKeepAlive stream: read a request, keep the lease alive through the
// node (coalesced with the other keep-alives of the loop round), write the
// answer, read the next. One operation is in flight at a time, and every
// keep-alive handed to the node is answered (applied, failed, or failed when
// the node stops), so Finish always comes and OnDone deletes the reactor.
class KeepAliveReactor final
    : public grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                                     etcdserverpb::LeaseKeepAliveResponse> {
 public:
  KeepAliveReactor(Node& node, NodeLeases& leases) : node_(node), leases_(leases) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the client closed its side
    const std::int64_t id = request_.id();
    node_.Post([this, id](NodeCore& core) {
      leases_.KeepAlive(id, [this, &core, id](Status status, std::int64_t ttl) {
        if (!status.ok()) return Finish(ToGrpc(status));
        response_.Clear();
        FillHeader(core, response_.mutable_header());
        // etcd answers a missing lease with TTL 0, not an error.
        response_.set_id(id);
        response_.set_ttl(ttl);
        StartWrite(&response_);
      });
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "keep-alive stream closed"));
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  Node& node_;
  NodeLeases& leases_;
  etcdserverpb::LeaseKeepAliveRequest request_;
  etcdserverpb::LeaseKeepAliveResponse response_;
};

}  // namespace

class LeaseGrpcService::Impl final : public etcdserverpb::Lease::CallbackService {
 public:
  Impl(Node& node, NodeLeases& leases)
      : node_(node), leases_(leases), rng_(std::random_device{}()) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::LeaseGrantRequest* request,
                                       etcdserverpb::LeaseGrantResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    // etcd's server picks a random positive id when the client gives none.
    const rsm::LeaseGrant grant{request->id() != 0 ? request->id() : RandomId(), request->ttl()};
    node_.Post([this, reactor, response, grant](NodeCore& core) {
      leases_.Propose(core, grant,
                      [reactor, response, &core](Status s, const rsm::Applied* applied) {
                        if (!s.ok()) return reactor->Finish(ToGrpc(s));
                        if (!applied->result.ok())
                          return reactor->Finish(ToGrpc(applied->result.error()));
                        FillHeader(core, response->mutable_header());
                        response->set_id(applied->lease->id);
                        response->set_ttl(applied->lease->ttl_s);
                        reactor->Finish(grpc::Status::OK);
                      });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseRevokeRequest* request,
                                        etcdserverpb::LeaseRevokeResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const rsm::LeaseRevoke revoke{request->id()};
    node_.Post([this, reactor, response, revoke](NodeCore& core) {
      leases_.Propose(core, revoke,
                      [reactor, response, &core](Status s, const rsm::Applied* applied) {
                        if (!s.ok()) return reactor->Finish(ToGrpc(s));
                        if (!applied->result.ok())
                          return reactor->Finish(ToGrpc(applied->result.error()));
                        FillHeader(core, response->mutable_header());
                        response->mutable_header()->set_revision(applied->revision);
                        reactor->Finish(grpc::Status::OK);
                      });
    });
    return reactor;
  }

  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext*) override {
    return new KeepAliveReactor(node_, leases_);
  }

  grpc::ServerUnaryReactor* LeaseTimeToLive(
      grpc::CallbackServerContext* ctx, const etcdserverpb::LeaseTimeToLiveRequest* request,
      etcdserverpb::LeaseTimeToLiveResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const std::int64_t id = request->id();
    const bool with_keys = request->keys();
    ReadLinearizable(reactor, [response, id, with_keys](NodeCore& core) {
      FillHeader(core, response->mutable_header());
      response->set_id(id);
      const rsm::Lease* lease = core.state_machine().leases().Find(id);
      if (lease == nullptr) {
        // etcd's v3rpc answers a missing lease with TTL -1, not an error.
        response->set_ttl(-1);
        return;
      }
      response->set_ttl(RemainingSeconds(lease->expiry_ms, WallMs()));
      response->set_grantedttl(lease->ttl_s);
      if (with_keys) {
        for (const std::string& key : lease->keys)
          response->add_keys(key);
      }
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseLeasesRequest*,
                                        etcdserverpb::LeaseLeasesResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    ReadLinearizable(reactor, [response](NodeCore& core) {
      FillHeader(core, response->mutable_header());
      // etcd lists leases by expiry, earliest first.
      for (const rsm::Lease* lease : core.state_machine().leases().ByExpiry())
        response->add_leases()->set_id(lease->id);
    });
    return reactor;
  }

 private:
  // A linearizable read point, then `read` fills the response on the loop.
  void ReadLinearizable(grpc::ServerUnaryReactor* reactor, std::function<void(NodeCore&)> read) {
    node_.Post([this, reactor, read = std::move(read)](NodeCore& core) {
      core.ReadLinearizable(node_.Track([reactor, read](NodeCore& core, const Completion& c) {
        if (!c.status.ok()) return reactor->Finish(ToGrpc(c.status));
        read(core);
        reactor->Finish(grpc::Status::OK);
      }));
    });
  }

  std::int64_t RandomId() {
    std::lock_guard lock(rng_mu_);
    std::int64_t id = 0;
    while (id == 0)
      id = static_cast<std::int64_t>(rng_() & static_cast<std::uint64_t>(INT64_MAX));
    return id;
  }

  Node& node_;
  NodeLeases& leases_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

LeaseGrpcService::LeaseGrpcService(Node& node, NodeLeases& leases)
    : impl_(std::make_unique<Impl>(node, leases)) {}

LeaseGrpcService::~LeaseGrpcService() = default;

void LeaseGrpcService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(impl_.get());
}

}  // namespace tri::server
