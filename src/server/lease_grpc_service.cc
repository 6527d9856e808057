#include "server/lease_grpc_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
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

class LeaseGrpcService::Impl final : public etcdserverpb::Lease::Service {
 public:
  Impl(Node& node, NodeLeases& leases)
      : node_(node),
        leases_(leases),
        wait_limit_(std::chrono::milliseconds(
            5000 + 2 * std::uint64_t{node.config().raw.election_timeout_ms} + 1000)),
        rng_(std::random_device{}()) {}

  void Stop() { stopping_ = true; }

  grpc::Status LeaseGrant(grpc::ServerContext*, const etcdserverpb::LeaseGrantRequest* request,
                          etcdserverpb::LeaseGrantResponse* response) override {
    // etcd's server picks a random positive id when the client gives none.
    const std::int64_t id = request->id() != 0 ? request->id() : RandomId();
    const rsm::LeaseGrant grant{id, request->ttl()};
    return Await<etcdserverpb::LeaseGrantResponse>(
        response, [this, grant](NodeCore& core, Finish<etcdserverpb::LeaseGrantResponse> finish) {
          leases_.Propose(core, grant, [finish](Status s, const rsm::Applied* applied) {
            etcdserverpb::LeaseGrantResponse out;
            if (!s.ok()) return finish(ToGrpc(s), out);
            if (!applied->result.ok()) return finish(ToGrpc(applied->result.error()), out);
            out.set_id(applied->lease->id);
            out.set_ttl(applied->lease->ttl_s);
            finish(grpc::Status::OK, out);
          });
        });
  }

  grpc::Status LeaseRevoke(grpc::ServerContext*, const etcdserverpb::LeaseRevokeRequest* request,
                           etcdserverpb::LeaseRevokeResponse* response) override {
    const rsm::LeaseRevoke revoke{request->id()};
    return Await<etcdserverpb::LeaseRevokeResponse>(
        response, [this, revoke](NodeCore& core, Finish<etcdserverpb::LeaseRevokeResponse> finish) {
          leases_.Propose(core, revoke, [finish](Status s, const rsm::Applied* applied) {
            etcdserverpb::LeaseRevokeResponse out;
            if (!s.ok()) return finish(ToGrpc(s), out);
            if (!applied->result.ok()) return finish(ToGrpc(applied->result.error()), out);
            finish(grpc::Status::OK, out);
          });
        });
  }

  grpc::Status LeaseKeepAlive(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                               etcdserverpb::LeaseKeepAliveRequest>* stream) override {
    etcdserverpb::LeaseKeepAliveRequest request;
    while (stream->Read(&request)) {
      const std::int64_t id = request.id();
      etcdserverpb::LeaseKeepAliveResponse response;
      grpc::Status status = Await<etcdserverpb::LeaseKeepAliveResponse>(
          &response, [this, id](NodeCore&, Finish<etcdserverpb::LeaseKeepAliveResponse> finish) {
            leases_.KeepAlive(id, [finish, id](Status s, std::int64_t ttl) {
              etcdserverpb::LeaseKeepAliveResponse out;
              if (!s.ok()) return finish(ToGrpc(s), out);
              // etcd answers a missing lease with TTL 0, not an error.
              out.set_id(id);
              out.set_ttl(ttl);
              finish(grpc::Status::OK, out);
            });
          });
      if (!status.ok()) return status;
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

  grpc::Status LeaseTimeToLive(grpc::ServerContext*,
                               const etcdserverpb::LeaseTimeToLiveRequest* request,
                               etcdserverpb::LeaseTimeToLiveResponse* response) override {
    const std::int64_t id = request->id();
    const bool with_keys = request->keys();
    return Await<etcdserverpb::LeaseTimeToLiveResponse>(
        response, [this, id, with_keys](NodeCore& core,
                                        Finish<etcdserverpb::LeaseTimeToLiveResponse> finish) {
          ReadLinearizable(core, [id, with_keys, finish](NodeCore& core, const Status& s) {
            etcdserverpb::LeaseTimeToLiveResponse out;
            if (!s.ok()) return finish(ToGrpc(s), out);
            FillHeader(core, out.mutable_header());
            out.set_id(id);
            const rsm::Lease* lease = core.state_machine().leases().Find(id);
            if (lease == nullptr) {
              // etcd's v3rpc answers a missing lease with TTL -1, not an error.
              out.set_ttl(-1);
              return finish(grpc::Status::OK, out);
            }
            out.set_ttl(RemainingSeconds(lease->expiry_ms, WallMs()));
            out.set_grantedttl(lease->ttl_s);
            if (with_keys) {
              for (const std::string& key : lease->keys)
                out.add_keys(key);
            }
            finish(grpc::Status::OK, out);
          });
        });
  }

  grpc::Status LeaseLeases(grpc::ServerContext*, const etcdserverpb::LeaseLeasesRequest*,
                           etcdserverpb::LeaseLeasesResponse* response) override {
    return Await<etcdserverpb::LeaseLeasesResponse>(
        response, [this](NodeCore& core, Finish<etcdserverpb::LeaseLeasesResponse> finish) {
          ReadLinearizable(core, [finish](NodeCore& core, const Status& s) {
            etcdserverpb::LeaseLeasesResponse out;
            if (!s.ok()) return finish(ToGrpc(s), out);
            FillHeader(core, out.mutable_header());
            // etcd lists leases by expiry, earliest first.
            for (const rsm::Lease* lease : core.state_machine().leases().ByExpiry())
              out.add_leases()->set_id(lease->id);
            finish(grpc::Status::OK, out);
          });
        });
  }

 private:
  template <typename Response>
  using Finish = std::function<void(grpc::Status, Response)>;

  // Runs `start` on the loop thread; it calls `finish` once (on the loop
  // thread) with the answer. A response that comes with OK gets its header
  // filled there unless it has one.
  template <typename Response>
  grpc::Status Await(Response* response, std::function<void(NodeCore&, Finish<Response>)> start) {
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      grpc::Status status;
      Response response;
    };
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped");
    auto state = std::make_shared<State>();
    node_.Post([state, start = std::move(start)](NodeCore& core) {
      start(core, [state, &core](grpc::Status status, Response r) {
        if (status.ok() && !r.has_header()) FillHeader(core, r.mutable_header());
        std::lock_guard lock(state->mu);
        state->status = std::move(status);
        state->response = std::move(r);
        state->done = true;
        state->cv.notify_all();
      });
    });
    const auto deadline = std::chrono::steady_clock::now() + wait_limit_;
    std::unique_lock lock(state->mu);
    while (!state->done) {
      if (stopping_)
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped");
      if (std::chrono::steady_clock::now() >= deadline) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out");
      }
      state->cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    *response = std::move(state->response);
    return state->status;
  }

  void ReadLinearizable(NodeCore& core, std::function<void(NodeCore&, const Status&)> read) {
    core.ReadLinearizable(node_.Track(
        [read = std::move(read)](NodeCore& core, const Completion& c) { read(core, c.status); }));
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
  const std::chrono::milliseconds wait_limit_;
  std::atomic<bool> stopping_{false};
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

LeaseGrpcService::LeaseGrpcService(Node& node, NodeLeases& leases)
    : impl_(std::make_unique<Impl>(node, leases)) {}

LeaseGrpcService::~LeaseGrpcService() = default;

void LeaseGrpcService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(impl_.get());
}

void LeaseGrpcService::Stop() {
  impl_->Stop();
}

}  // namespace tri::server
