#include "server/etcd_services.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string_view>

#include "base/assert.h"
#include "client/grpc_status.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "rsm/kv_codec.h"
#include "rsm/kv_validate.h"
#include "server/etcd_convert.h"
#include "server/ids.h"
#include "server/node.h"

namespace tri::server {
namespace {

// Reported as the server version: etcd's API version, marked as Trinity's build.
constexpr const char* kServerVersion = "3.4.0+trinity.0.1.0";

grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(client::GrpcCodeOf(s), s.message());
}

grpc::Status ToGrpc(const rsm::KvError& e) {
  return grpc::Status(static_cast<grpc::StatusCode>(e.grpc_code), e.message);
}

std::int64_t DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  std::int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<std::int64_t>(it->file_size(ec));
  }
  return total;
}

// A member's peer URLs as the cluster records them (normalized); at least one,
// each with the scheme this cluster's peers speak (https exactly when peer TLS
// is configured), since a member behind another scheme could never be reached.
Result<std::vector<std::string>> PeerUrls(
    const google::protobuf::RepeatedPtrField<std::string>& given, bool peer_tls) {
  std::vector<std::string> urls;
  for (const auto& u : given) {
    auto parsed = ParseUrl(u);
    if (!parsed.ok()) return InvalidArgument("etcdserver: " + parsed.status().message());
    if ((parsed->scheme == "https") != peer_tls) {
      return InvalidArgument(fmt::format(
          "etcdserver: invalid URL \"{}\": this cluster's peers {} TLS, so peer URLs must be {}://",
          u, peer_tls ? "use" : "do not use", peer_tls ? "https" : "http"));
    }
    urls.push_back(parsed->ToString());
  }
  if (urls.empty()) return InvalidArgument("etcdserver: member peer URLs are not provided");
  return urls;
}

void FillHeader(const NodeCore& core, std::int64_t revision, etcdserverpb::ResponseHeader* h) {
  h->set_cluster_id(core.cluster_id());
  h->set_member_id(core.id());
  h->set_raft_term(core.term());
  h->set_revision(revision);
}

void ToProto(const Member& m, etcdserverpb::Member* out) {
  out->set_id(m.id);
  out->set_name(m.name);
  for (const auto& u : m.peer_urls)
    out->add_peerurls(u);
  for (const auto& u : m.client_urls)
    out->add_clienturls(u);
  out->set_islearner(m.is_learner);
}

template <typename Response>
void FillMembers(const NodeCore& core, Response* resp) {
  for (const auto& [id, m] : core.members().members())
    ToProto(m, resp->add_members());
}

// One method's request counter, failure counter and latency histogram.
struct MethodMetrics {
  Counter* handled = nullptr;
  Counter* failed = nullptr;
  Histogram* latency = nullptr;
};

// The metrics of a service's methods, looked up once at start (the registry takes a
// lock to create a series; requests only use the pointers).
class ServiceMetrics {
 public:
  ServiceMetrics(Node* node, std::initializer_list<const char*> methods) {
    for (const char* method : methods) {
      const Labels labels{{"grpc_method", method}};
      MetricsRegistry& r = node->metrics();
      by_method_[method] = MethodMetrics{
          r.GetCounter("grpc_server_handled_total", "gRPC requests handled.", labels),
          r.GetCounter("grpc_server_failed_total", "gRPC requests that failed.", labels),
          r.GetHistogram("grpc_server_handling_seconds", "gRPC request latency.",
                         ExponentialBuckets(0.0001, 2, 18), labels)};
    }
  }
  const MethodMetrics& operator[](std::string_view method) const {
    auto it = by_method_.find(method);
    TRI_ASSERT_MSG(it != by_method_.end(), "gRPC method without metrics");
    return it->second;
  }

 private:
  std::map<std::string, MethodMetrics, std::less<>> by_method_;
};

// One request: finished exactly once, counted and timed.
class Call {
 public:
  Call(const MethodMetrics& metrics, grpc::ServerUnaryReactor* reactor)
      : metrics_(&metrics), reactor_(reactor), started_(std::chrono::steady_clock::now()) {}
  void Finish(const grpc::Status& status) const {
    metrics_->handled->Add();
    if (!status.ok()) metrics_->failed->Add();
    metrics_->latency->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    reactor_->Finish(status);
  }

 private:
  const MethodMetrics* metrics_;
  grpc::ServerUnaryReactor* reactor_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

class EtcdServices::Impl {
 public:
  explicit Impl(Node* node) : kv(node), cluster(node), maintenance(node) {}

  // ---- KV ----
  class Kv final : public etcdserverpb::KV::CallbackService {
   public:
    explicit Kv(Node* node)
        : node_(node), metrics_(node, {"Range", "Put", "DeleteRange", "Txn", "Compact"}) {}

    grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                    const etcdserverpb::RangeRequest* req,
                                    etcdserverpb::RangeResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["Range"], reactor);
      rsm::RangeRequest r = FromProto(*req);
      rsm::KvOptions limits;
      limits.max_request_bytes = node_->config().raw.max_request_bytes;
      if (auto error = rsm::ValidateRange(r, limits)) {
        call.Finish(ToGrpc(*error));
        return reactor;
      }
      const bool serializable = r.serializable;
      node_->Post([this, call, r = std::move(r), resp, serializable](NodeCore& core) {
        const auto answer = [call, r, resp](NodeCore& core) {
          auto result = core.state_machine().Range(r);
          if (!result.ok()) return call.Finish(ToGrpc(result.error()));
          ToProto(*result, resp);
          FillHeader(core, result->header.revision, resp->mutable_header());
          call.Finish(grpc::Status::OK);
        };
        if (serializable) return answer(core);
        core.ReadLinearizable(node_->Track([call, answer](NodeCore& core, const Completion& c) {
          if (!c.status.ok()) return call.Finish(ToGrpc(c.status));
          answer(core);
        }));
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::PutRequest* req,
                                  etcdserverpb::PutResponse* resp) override {
      return Write<rsm::PutResponse>(ctx, "Put", FromProto(*req), resp);
    }

    grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                          const etcdserverpb::DeleteRangeRequest* req,
                                          etcdserverpb::DeleteRangeResponse* resp) override {
      return Write<rsm::DeleteRangeResponse>(ctx, "DeleteRange", FromProto(*req), resp);
    }

    grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::TxnRequest* req,
                                  etcdserverpb::TxnResponse* resp) override {
      return Write<rsm::TxnResponse>(ctx, "Txn", FromProto(*req), resp);
    }

    grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx,
                                      const etcdserverpb::CompactionRequest* req,
                                      etcdserverpb::CompactionResponse* resp) override {
      return Write<rsm::CompactionResponse>(ctx, "Compact", FromProto(*req), resp);
    }

   private:
    using Fill = std::function<void(NodeCore&, const rsm::Response&)>;

    // A request that goes through the log; the applied rsm response `R` is converted
    // into the proto response.
    template <typename R, typename Request, typename Proto>
    grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* ctx, const char* method,
                                    Request request, Proto* resp) {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Propose(Call(metrics_[method], reactor), rsm::KvRequest(std::move(request)),
              [resp](NodeCore& core, const rsm::Response& r) {
                const R& applied = std::get<R>(r);
                ToProto(applied, resp);
                FillHeader(core, applied.header.revision, resp->mutable_header());
              });
      return reactor;
    }

    void Propose(Call call, const rsm::KvRequest& request, Fill fill) {
      // Refused before it reaches the log; the state machine checks again when applying.
      rsm::KvOptions limits;
      limits.max_request_bytes = node_->config().raw.max_request_bytes;
      limits.max_txn_ops = node_->config().raw.max_txn_ops;
      if (auto error = rsm::ValidateKvRequest(request, limits)) return call.Finish(ToGrpc(*error));
      std::string payload = rsm::EncodeKvRequest(request);
      if (payload.size() > limits.max_request_bytes)
        return call.Finish(ToGrpc(rsm::ErrRequestTooLarge()));
      node_->Post([this, call, payload = std::move(payload),
                   fill = std::move(fill)](NodeCore& core) mutable {
        core.Propose(node_->Track([call, fill](NodeCore& core, const Completion& c) {
          if (!c.status.ok()) return call.Finish(ToGrpc(c.status));
          if (!c.applied->result.ok()) return call.Finish(ToGrpc(c.applied->result.error()));
          fill(core, *c.applied->result);
          call.Finish(grpc::Status::OK);
        }),
                     rsm::CommandKind::kKv, std::move(payload));
      });
    }

    Node* node_;
    ServiceMetrics metrics_;
  };

  // ---- Cluster ----
  class ClusterService final : public etcdserverpb::Cluster::CallbackService {
   public:
    explicit ClusterService(Node* node)
        : node_(node),
          metrics_(node,
                   {"MemberAdd", "MemberRemove", "MemberUpdate", "MemberList", "MemberPromote"}) {}

    grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::MemberAddRequest* req,
                                        etcdserverpb::MemberAddResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["MemberAdd"], reactor);
      auto parsed = PeerUrls(req->peerurls(), node_->config().peer_tls.has_value());
      if (!parsed.ok()) {
        call.Finish(ToGrpc(parsed.status()));
        return reactor;
      }
      const std::vector<std::string> urls = std::move(parsed).value();
      Member m;
      // Deterministic from the URLs and the token, so the new member started with
      // --initial-cluster-state existing derives the same id (docs/server.md).
      m.id = ComputeMemberId(urls, node_->config().raw.initial_cluster_token);
      m.peer_urls = urls;
      m.is_learner = req->islearner();
      node_->Post([this, call, m, resp](NodeCore& core) {
        core.ProposeMemberAdd(node_->Track([call, m, resp](NodeCore& core, const Completion& c) {
          if (!c.status.ok()) return call.Finish(ToGrpc(c.status));
          ToProto(m, resp->mutable_member());
          FillMembers(core, resp);
          FillHeader(core, 0, resp->mutable_header());  // etcd's cluster headers carry no revision
          call.Finish(grpc::Status::OK);
        }),
                              m, m.is_learner);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* ctx,
                                           const etcdserverpb::MemberRemoveRequest* req,
                                           etcdserverpb::MemberRemoveResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["MemberRemove"], reactor);
      const std::uint64_t id = req->id();
      node_->Post([this, call, id, resp](NodeCore& core) {
        core.ProposeMemberRemove(node_->Track(MembersReply(call, resp)), id);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* ctx,
                                           const etcdserverpb::MemberUpdateRequest* req,
                                           etcdserverpb::MemberUpdateResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["MemberUpdate"], reactor);
      auto parsed = PeerUrls(req->peerurls(), node_->config().peer_tls.has_value());
      if (!parsed.ok()) {
        call.Finish(ToGrpc(parsed.status()));
        return reactor;
      }
      const std::vector<std::string> urls = std::move(parsed).value();
      const std::uint64_t id = req->id();
      node_->Post([this, call, id, urls, resp](NodeCore& core) {
        core.ProposeMemberUpdate(node_->Track(MembersReply(call, resp)), id, urls);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::MemberListRequest*,
                                         etcdserverpb::MemberListResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["MemberList"], reactor);
      node_->Post([call, resp](NodeCore& core) {
        FillMembers(core, resp);
        FillHeader(core, 0, resp->mutable_header());  // etcd's cluster headers carry no revision
        call.Finish(grpc::Status::OK);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* ctx,
                                            const etcdserverpb::MemberPromoteRequest* req,
                                            etcdserverpb::MemberPromoteResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["MemberPromote"], reactor);
      const std::uint64_t id = req->id();
      node_->Post([this, call, id, resp](NodeCore& core) {
        core.ProposeMemberPromote(node_->Track(MembersReply(call, resp)), id);
      });
      return reactor;
    }

   private:
    template <typename Response>
    static std::function<void(NodeCore&, const Completion&)> MembersReply(Call call,
                                                                          Response* resp) {
      return [call, resp](NodeCore& core, const Completion& c) {
        if (!c.status.ok()) return call.Finish(ToGrpc(c.status));
        FillMembers(core, resp);
        FillHeader(core, 0, resp->mutable_header());  // etcd's cluster headers carry no revision
        call.Finish(grpc::Status::OK);
      };
    }

    Node* node_;
    ServiceMetrics metrics_;
  };

  // ---- Maintenance ----
  class Maintenance final : public etcdserverpb::Maintenance::CallbackService {
   public:
    explicit Maintenance(Node* node)
        : node_(node), metrics_(node, {"Alarm", "Status", "HashKV", "MoveLeader", "Defragment"}) {}

    grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* ctx,
                                    const etcdserverpb::AlarmRequest* req,
                                    etcdserverpb::AlarmResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["Alarm"], reactor);
      rsm::AlarmRequest a;
      a.action = static_cast<rsm::AlarmRequest::AlarmAction>(req->action());
      a.member_id = req->memberid();
      a.alarm = static_cast<rsm::AlarmType>(req->alarm());
      node_->Post([this, call, a, resp](NodeCore& core) {
        const auto fill = [call, resp](NodeCore& core, const rsm::AlarmResponse& r) {
          for (const auto& m : r.alarms) {
            auto* out = resp->add_alarms();
            // Alarms are cluster-wide in Trinity's state; report them against this member.
            out->set_memberid(m.member_id != 0 ? m.member_id : core.id());
            out->set_alarm(static_cast<etcdserverpb::AlarmType>(m.alarm));
          }
          FillHeader(core, core.state_machine().store().current_revision(), resp->mutable_header());
          call.Finish(grpc::Status::OK);
        };
        if (a.action == rsm::AlarmRequest::GET) {
          rsm::AlarmResponse r;
          if (core.state_machine().store().nospace_alarm())
            r.alarms.push_back({0, rsm::AlarmType::NOSPACE});
          return fill(core, r);
        }
        core.Propose(node_->Track([call, fill](NodeCore& core, const Completion& c) {
          if (!c.status.ok()) return call.Finish(ToGrpc(c.status));
          if (!c.applied->result.ok()) return call.Finish(ToGrpc(c.applied->result.error()));
          fill(core, std::get<rsm::AlarmResponse>(*c.applied->result));
        }),
                     rsm::CommandKind::kAlarm, rsm::EncodeAlarmRequest(a));
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                     const etcdserverpb::StatusRequest*,
                                     etcdserverpb::StatusResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["Status"], reactor);
      // The "database" is the data directory: its size on disk (WAL segments as
      // allocated, snapshots); in use is the state's quota accounting plus the fixed
      // part of its snapshot encoding.
      const std::int64_t disk_bytes = DirectoryBytes(node_->config().raw.DataDir());
      node_->Post([call, resp, disk_bytes](NodeCore& core) {
        const auto& store = core.state_machine().store();
        FillHeader(core, store.current_revision(), resp->mutable_header());
        resp->set_version(kServerVersion);
        static const std::int64_t kEmptyStateBytes =
            static_cast<std::int64_t>(rsm::StateMachine(rsm::KvOptions{}).Snapshot().size());
        resp->set_dbsize(disk_bytes);
        resp->set_dbsizeinuse(static_cast<std::int64_t>(store.used_bytes()) + kEmptyStateBytes);
        resp->set_leader(core.leader());
        resp->set_raftindex(core.committed_index());
        resp->set_raftterm(core.term());
        resp->set_raftappliedindex(core.applied_index());
        const Member* me = core.members().Find(core.id());
        resp->set_islearner(me != nullptr && me->is_learner);
        if (store.nospace_alarm())
          resp->add_errors("memberID:" + std::to_string(core.id()) + " alarm:NOSPACE ");
        call.Finish(grpc::Status::OK);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* ctx,
                                     const etcdserverpb::HashKVRequest* req,
                                     etcdserverpb::HashKVResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["HashKV"], reactor);
      const std::int64_t rev = req->revision();
      node_->Post([call, rev, resp](NodeCore& core) {
        auto r = core.state_machine().HashKV(rev);
        if (!r.ok()) return call.Finish(ToGrpc(r.error()));
        resp->set_hash(r->hash);
        resp->set_compact_revision(r->compact_revision);
        FillHeader(core, r->header.revision, resp->mutable_header());
        call.Finish(grpc::Status::OK);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::MoveLeaderRequest* req,
                                         etcdserverpb::MoveLeaderResponse* resp) override {
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["MoveLeader"], reactor);
      const std::uint64_t target = req->targetid();
      node_->Post([this, call, target, resp](NodeCore& core) {
        if (core.leader() != core.id())
          return call.Finish(
              grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: not leader"));
        const Member* m = core.members().Find(target);
        if (m == nullptr || m->is_learner)
          return call.Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                          m == nullptr ? "etcdserver: bad leader transferee"
                                                       : "etcdserver: learner cannot be leader"));
        core.TransferLeader(node_->Track([call, resp](NodeCore& core, const Completion& c) {
          if (!c.status.ok()) return call.Finish(ToGrpc(c.status));
          FillHeader(core, core.state_machine().store().current_revision(), resp->mutable_header());
          call.Finish(grpc::Status::OK);
        }),
                            target);
      });
      return reactor;
    }

    grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::DefragmentRequest*,
                                         etcdserverpb::DefragmentResponse* resp) override {
      // The state lives in memory: there is nothing to defragment, and etcd clients
      // call this after compaction as routine.
      // DefaultReactor() constructs the reactor anew on every call: take it once.
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      Call call(metrics_["Defragment"], reactor);
      node_->Post([call, resp](NodeCore& core) {
        FillHeader(core, core.state_machine().store().current_revision(), resp->mutable_header());
        call.Finish(grpc::Status::OK);
      });
      return reactor;
    }

   private:
    Node* node_;
    ServiceMetrics metrics_;
  };

  Kv kv;
  ClusterService cluster;
  Maintenance maintenance;
  // Auth is not built: its RPCs answer UNIMPLEMENTED with a message (gRPC's own
  // answer for an unregistered service has none). Watch and Lease are their own
  // services (server/watch_service.h, server/lease_grpc_service.h).
  // clang-format off
#define TRI_UNIMPLEMENTED(Rpc, Req, Resp)                                                          \
  grpc::Status Rpc(grpc::ServerContext*, const etcdserverpb::Req*, etcdserverpb::Resp*) override { \
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,                                           \
                        "trinity: " #Rpc " is not implemented yet");                               \
  }
  class AuthUnimplemented final : public etcdserverpb::Auth::Service {
    TRI_UNIMPLEMENTED(AuthEnable, AuthEnableRequest, AuthEnableResponse)
    TRI_UNIMPLEMENTED(AuthDisable, AuthDisableRequest, AuthDisableResponse)
    TRI_UNIMPLEMENTED(Authenticate, AuthenticateRequest, AuthenticateResponse)
    TRI_UNIMPLEMENTED(UserAdd, AuthUserAddRequest, AuthUserAddResponse)
    TRI_UNIMPLEMENTED(UserGet, AuthUserGetRequest, AuthUserGetResponse)
    TRI_UNIMPLEMENTED(UserList, AuthUserListRequest, AuthUserListResponse)
    TRI_UNIMPLEMENTED(UserDelete, AuthUserDeleteRequest, AuthUserDeleteResponse)
    TRI_UNIMPLEMENTED(UserChangePassword, AuthUserChangePasswordRequest, AuthUserChangePasswordResponse)
    TRI_UNIMPLEMENTED(UserGrantRole, AuthUserGrantRoleRequest, AuthUserGrantRoleResponse)
    TRI_UNIMPLEMENTED(UserRevokeRole, AuthUserRevokeRoleRequest, AuthUserRevokeRoleResponse)
    TRI_UNIMPLEMENTED(RoleAdd, AuthRoleAddRequest, AuthRoleAddResponse)
    TRI_UNIMPLEMENTED(RoleGet, AuthRoleGetRequest, AuthRoleGetResponse)
    TRI_UNIMPLEMENTED(RoleList, AuthRoleListRequest, AuthRoleListResponse)
    TRI_UNIMPLEMENTED(RoleDelete, AuthRoleDeleteRequest, AuthRoleDeleteResponse)
    TRI_UNIMPLEMENTED(RoleGrantPermission, AuthRoleGrantPermissionRequest, AuthRoleGrantPermissionResponse)
    TRI_UNIMPLEMENTED(RoleRevokePermission, AuthRoleRevokePermissionRequest, AuthRoleRevokePermissionResponse)
  } auth;
#undef TRI_UNIMPLEMENTED
  // clang-format on
};

EtcdServices::EtcdServices(Node* node) : impl_(std::make_unique<Impl>(node)) {}
EtcdServices::~EtcdServices() = default;

void EtcdServices::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(&impl_->kv);
  builder.RegisterService(&impl_->cluster);
  builder.RegisterService(&impl_->maintenance);
  builder.RegisterService(&impl_->auth);
}

}  // namespace tri::server
