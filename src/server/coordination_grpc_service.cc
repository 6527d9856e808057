#include "server/coordination_grpc_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "client/grpc_status.h"
#include "rsm/barrier_codec.h"
#include "rsm/lock_codec.h"
#include "rsm/lock_table.h"
#include "server/coordination_service.h"
#include "server/lease_service.h"
#include "server/node.h"
#include "trinity/v1/coordination.grpc.pb.h"

namespace tri::server {
namespace {

namespace pb = ::trinity::v1;

grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(client::GrpcCodeOf(s), s.message());
}

// The apply failure or error of a proposal, as one Status.
Status Outcome(Status s, const rsm::Applied* applied) {
  if (s.ok() && !applied->result.ok()) s = rsm::ToStatus(applied->result.error());
  return s;
}

pb::BarrierState ToProto(rsm::BarrierState s) {
  switch (s) {
    case rsm::BarrierState::kWaitingForPredecessor:
      return pb::WAITING_FOR_PREDECESSOR;
    case rsm::BarrierState::kCollecting:
      return pb::COLLECTING;
    case rsm::BarrierState::kReleased:
      return pb::RELEASED;
    case rsm::BarrierState::kTimedOut:
      return pb::TIMED_OUT;
    case rsm::BarrierState::kCancelled:
      return pb::CANCELLED;
  }
  return pb::BARRIER_STATE_UNSPECIFIED;
}

void FillBarrier(const std::string& name, const rsm::Barrier& b, pb::BarrierInfo* out) {
  out->set_name(name);
  out->set_state(ToProto(b.state));
  out->set_participants(b.participants);
  for (const std::string& p : b.participant_names)
    out->add_participant_names(p);
  out->set_threshold(b.threshold);
  out->set_deadline_ms(b.deadline_ms);
  out->set_predecessor(b.predecessor);
  out->set_created_ms(b.created_ms);
  out->set_ended_ms(b.ended_ms);
  for (const rsm::BarrierArrival& a : b.arrivals) {
    pb::BarrierArrival* arrival = out->add_arrivals();
    arrival->set_participant(a.participant);
    arrival->set_time_ms(a.time_ms);
  }
  for (const std::string& p : rsm::AbsentParticipants(b))
    out->add_absent(p);
  out->set_absent_count(b.participants - static_cast<std::uint32_t>(b.arrivals.size()));
}

void FillLock(const std::string& name, const rsm::LockEntry& e, pb::LockInfo* out) {
  out->set_name(name);
  out->set_holder(e.holder.owner);
  out->set_token(e.holder.token);
  out->set_hold_count(e.holder.hold_count);
  out->set_lease(e.holder.lease);
  for (const rsm::LockWaiter& w : e.waiters) {
    pb::LockWaiter* waiter = out->add_waiters();
    waiter->set_owner(w.owner);
    waiter->set_lease(w.lease);
  }
  out->set_fence_key(rsm::LockFenceKey(name));
}

// A linearizable read point, then `read` fills the response on the loop (its
// Status is the call's).
void ReadLinearizable(Node& node, grpc::ServerUnaryReactor* reactor,
                      std::function<Status(NodeCore&)> read) {
  node.Post([&node, reactor, read = std::move(read)](NodeCore& core) {
    core.ReadLinearizable(node.Track([reactor, read](NodeCore& core, const Completion& c) {
      if (!c.status.ok()) return reactor->Finish(ToGrpc(c.status));
      reactor->Finish(ToGrpc(read(core)));
    }));
  });
}

// One Locks.Acquire. The client's cancel makes a waiting acquire leave the
// queue; NodeCoordination always answers (granted, not granted, failed,
// cancelled, or stopping), so Finish always comes and OnDone deletes this.
class AcquireReactor final : public grpc::ServerUnaryReactor {
 public:
  AcquireReactor(Node& node, NodeCoordination& coordination, std::uint64_t wait_id,
                 LockAcquireRequest request, pb::AcquireLockResponse* response)
      : node_(node), coordination_(coordination), wait_id_(wait_id) {
    node_.Post([this, request = std::move(request), response](NodeCore& core) mutable {
      const std::string name = request.name;
      coordination_.Acquire(core, wait_id_, std::move(request),
                            [this, response, name](Status s, const LockAcquireOutcome& o) {
                              if (s.ok()) {
                                response->set_acquired(o.acquired);
                                response->set_token(o.token);
                                response->set_hold_count(o.hold_count);
                                response->set_lease(o.lease);
                                response->set_fence_key(rsm::LockFenceKey(name));
                                response->set_position(o.position);
                              }
                              Finish(ToGrpc(s));
                            });
    });
  }

  void OnCancel() override {
    NodeCoordination* coordination = &coordination_;
    const std::uint64_t id = wait_id_;
    node_.Post([coordination, id](NodeCore& core) { coordination->CancelAcquire(core, id); });
  }

  void OnDone() override { delete this; }

 private:
  Node& node_;
  NodeCoordination& coordination_;
  const std::uint64_t wait_id_;
};

// One Barriers.Arrive stream: proposes the arrival, writes the barrier after
// it (with `counted`), then after every change until it ends or is removed.
// Writes go one at a time; a change that comes while one is in flight replaces
// the one waiting (each message is the whole barrier, so the latest is enough).
// The watch is dropped and the reactor deleted on the loop thread, after the
// call is done, so a watch callback never sees a deleted reactor.
class ArriveReactor final : public grpc::ServerWriteReactor<pb::BarrierUpdate> {
 public:
  ArriveReactor(Node& node, NodeCoordination& coordination, std::string name,
                std::string participant)
      : node_(node), coordination_(coordination), name_(std::move(name)) {
    node_.Post([this, participant = std::move(participant)](NodeCore& core) {
      coordination_.Propose(
          core, rsm::CommandKind::kBarrier,
          rsm::EncodeBarrierCommand(rsm::BarrierArriveCommand{name_, participant}),
          [this, &core](Status s, const rsm::Applied* applied) {
            arrive_pending_ = false;
            s = Outcome(s, applied);
            if (!s.ok()) return End(ToGrpc(s));
            const bool counted = applied->barrier.has_value() && applied->barrier->counted;
            const rsm::Barrier* barrier = core.state_machine().barriers().Find(name_);
            Send(barrier, counted);
            if (barrier == nullptr || barrier->ended()) return;
            if (cancelled_) return End(CancelledStatus());
            auto watch = coordination_.WatchBarrier(name_, [this](Status s, const rsm::Barrier* b) {
              if (!s.ok()) {
                End(ToGrpc(s));
                return false;
              }
              return Send(b, false);
            });
            if (!watch.ok()) return End(ToGrpc(watch.status()));
            watch_id_ = *watch;
          });
    });
  }

  void OnCancel() override {
    node_.Post([this](NodeCore&) {
      // While the arrival is in flight its answer ends the stream (this
      // reactor must live until then).
      cancelled_ = true;
      if (arrive_pending_) return;
      coordination_.Unwatch(watch_id_);
      watch_id_ = 0;
      End(CancelledStatus());
    });
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    if (written_final_) return FinishLocked(grpc::Status::OK);
    if (next_.has_value()) return WriteLocked();
    if (end_status_.has_value()) FinishLocked(*end_status_);
  }

  void OnDone() override {
    node_.Post([this](NodeCore&) {
      coordination_.Unwatch(watch_id_);
      delete this;
    });
  }

 private:
  static grpc::Status CancelledStatus() {
    return grpc::Status(grpc::StatusCode::CANCELLED, "barrier arrive cancelled by the client");
  }

  // Loop thread. Answers whether the stream goes on (the barrier not ended).
  bool Send(const rsm::Barrier* barrier, bool counted) {
    pb::BarrierUpdate update;
    update.set_counted(counted);
    bool final = true;
    if (barrier == nullptr) {
      update.mutable_barrier()->set_name(name_);
      update.mutable_barrier()->set_state(pb::REMOVED);
    } else {
      FillBarrier(name_, *barrier, update.mutable_barrier());
      final = barrier->ended();
    }
    std::lock_guard lock(mu_);
    if (finished_) return false;
    // A round may report a change this stream has shown already.
    std::string bytes = update.barrier().SerializeAsString();
    if (sent_any_ && bytes == last_sent_ && !final) return true;
    sent_any_ = true;
    last_sent_ = std::move(bytes);
    next_ = std::move(update);
    next_final_ = final;
    if (!writing_) WriteLocked();
    return !final;
  }

  void End(grpc::Status status) {
    std::lock_guard lock(mu_);
    if (finished_ || written_final_ || next_final_) return;
    if (writing_ || next_.has_value()) {
      end_status_ = std::move(status);
      return;
    }
    FinishLocked(std::move(status));
  }

  void WriteLocked() {
    current_ = std::move(*next_);
    next_.reset();
    written_final_ = next_final_;
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  Node& node_;
  NodeCoordination& coordination_;
  const std::string name_;
  // Loop thread only.
  std::uint64_t watch_id_ = 0;
  bool arrive_pending_ = true;
  bool cancelled_ = false;

  std::mutex mu_;
  pb::BarrierUpdate current_;  // being written
  std::optional<pb::BarrierUpdate> next_;
  bool next_final_ = false;
  bool written_final_ = false;
  bool writing_ = false;
  bool finished_ = false;
  bool sent_any_ = false;
  std::string last_sent_;
  std::optional<grpc::Status> end_status_;
};

}  // namespace

class CoordinationGrpcService::LocksImpl final : public pb::Locks::CallbackService {
 public:
  LocksImpl(Node& node, NodeCoordination& coordination)
      : node_(node), coordination_(coordination) {}

  grpc::ServerUnaryReactor* Acquire(grpc::CallbackServerContext*,
                                    const pb::AcquireLockRequest* request,
                                    pb::AcquireLockResponse* response) override {
    LockAcquireRequest r{.name = request->name(),
                         .owner = request->owner(),
                         .ttl_s = request->ttl_seconds(),
                         .lease = request->lease(),
                         .wait_timeout_ms = request->wait_timeout_ms()};
    return new AcquireReactor(node_, coordination_, next_wait_id_.fetch_add(1), std::move(r),
                              response);
  }

  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* ctx,
                                    const pb::ReleaseLockRequest* request,
                                    pb::ReleaseLockResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string payload =
        rsm::EncodeLockCommand(rsm::LockReleaseCommand{request->name(), request->owner()});
    node_.Post([this, reactor, response, payload = std::move(payload)](NodeCore& core) mutable {
      coordination_.Propose(core, rsm::CommandKind::kLock, std::move(payload),
                            [reactor, response](Status s, const rsm::Applied* applied) {
                              s = Outcome(s, applied);
                              if (s.ok() && applied->lock.has_value())
                                response->set_hold_count(applied->lock->hold_count);
                              reactor->Finish(ToGrpc(s));
                            });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const pb::ListLocksRequest* request,
                                 pb::ListLocksResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string prefix = request->prefix();
    ReadLinearizable(node_, reactor, [response, prefix](NodeCore& core) {
      const auto& locks = core.state_machine().locks().locks();
      for (auto it = locks.lower_bound(prefix);
           it != locks.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        FillLock(it->first, it->second, response->add_locks());
      return Status::Ok();
    });
    return reactor;
  }

 private:
  Node& node_;
  NodeCoordination& coordination_;
  std::atomic<std::uint64_t> next_wait_id_{1};
};

class CoordinationGrpcService::BarriersImpl final : public pb::Barriers::CallbackService {
 public:
  BarriersImpl(Node& node, NodeCoordination& coordination)
      : node_(node), coordination_(coordination) {}

  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* ctx,
                                   const pb::CreateBarrierRequest* request,
                                   pb::BarrierInfo* response) override {
    rsm::BarrierCreateCommand c;
    c.name = request->name();
    c.participants = request->participants();
    c.participant_names.assign(request->participant_names().begin(),
                               request->participant_names().end());
    if (request->has_threshold_count()) {
      c.threshold.kind = rsm::BarrierThreshold::Kind::kCount;
      c.threshold.count = request->threshold_count();
    } else if (request->has_threshold_fraction()) {
      c.threshold.kind = rsm::BarrierThreshold::Kind::kFraction;
      c.threshold.numerator = request->threshold_fraction().numerator();
      c.threshold.denominator = request->threshold_fraction().denominator();
    }
    c.timeout_ms = request->timeout_ms();
    c.predecessor = request->predecessor();
    return ProposeAndDescribe(ctx, c.name, rsm::EncodeBarrierCommand(c), response);
  }

  grpc::ServerWriteReactor<pb::BarrierUpdate>* Arrive(
      grpc::CallbackServerContext*, const pb::ArriveBarrierRequest* request) override {
    return new ArriveReactor(node_, coordination_, request->name(), request->participant());
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const pb::BarrierStatusRequest* request,
                                   pb::BarrierInfo* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string name = request->name();
    ReadLinearizable(node_, reactor, [response, name](NodeCore& core) {
      const rsm::Barrier* b = core.state_machine().barriers().Find(name);
      if (b == nullptr) return NotFound("barrier " + name + " not found");
      FillBarrier(name, *b, response);
      return tri::Status::Ok();
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const pb::ListBarriersRequest* request,
                                 pb::ListBarriersResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string prefix = request->prefix();
    ReadLinearizable(node_, reactor, [response, prefix](NodeCore& core) {
      const auto& barriers = core.state_machine().barriers().barriers();
      for (auto it = barriers.lower_bound(prefix);
           it != barriers.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        FillBarrier(it->first, it->second, response->add_barriers());
      return tri::Status::Ok();
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* ctx,
                                   const pb::CancelBarrierRequest* request,
                                   pb::BarrierInfo* response) override {
    return ProposeAndDescribe(ctx, request->name(),
                              rsm::EncodeBarrierCommand(rsm::BarrierCancelCommand{request->name()}),
                              response);
  }

  grpc::ServerUnaryReactor* Remove(grpc::CallbackServerContext* ctx,
                                   const pb::RemoveBarrierRequest* request,
                                   pb::RemoveBarrierResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string payload = rsm::EncodeBarrierCommand(rsm::BarrierRemoveCommand{request->name()});
    node_.Post([this, reactor, response, payload = std::move(payload)](NodeCore& core) mutable {
      coordination_.Propose(core, rsm::CommandKind::kBarrier, std::move(payload),
                            [reactor, response](tri::Status s, const rsm::Applied* applied) {
                              s = Outcome(s, applied);
                              if (s.ok() && applied->barrier.has_value()) {
                                for (const std::string& n : applied->barrier->cancelled_successors)
                                  response->add_cancelled_successors(n);
                              }
                              reactor->Finish(ToGrpc(s));
                            });
    });
    return reactor;
  }

 private:
  // Proposes a barrier command and answers the barrier as the entry left it.
  grpc::ServerUnaryReactor* ProposeAndDescribe(grpc::CallbackServerContext* ctx, std::string name,
                                               std::string payload, pb::BarrierInfo* response) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node_.Post([this, reactor, response, name = std::move(name),
                payload = std::move(payload)](NodeCore& core) mutable {
      coordination_.Propose(
          core, rsm::CommandKind::kBarrier, std::move(payload),
          [reactor, response, name, &core](tri::Status s, const rsm::Applied* applied) {
            s = Outcome(s, applied);
            if (s.ok()) {
              const rsm::Barrier* b = core.state_machine().barriers().Find(name);
              if (b != nullptr) FillBarrier(name, *b, response);
            }
            reactor->Finish(ToGrpc(s));
          });
    });
    return reactor;
  }

  Node& node_;
  NodeCoordination& coordination_;
};

CoordinationGrpcService::CoordinationGrpcService(Node& node, NodeCoordination& coordination)
    : locks_(std::make_unique<LocksImpl>(node, coordination)),
      barriers_(std::make_unique<BarriersImpl>(node, coordination)) {}

CoordinationGrpcService::~CoordinationGrpcService() = default;

void CoordinationGrpcService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(locks_.get());
  builder.RegisterService(barriers_.get());
}

}  // namespace tri::server
