#include "server/saga_grpc_service.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "base/assert.h"
#include "server/metrics.h"
#include "trinity/v1/sagas.grpc.pb.h"

namespace tri::server {
namespace {

using trinity::v1::WatchSagaResponse;
using SteadyTime = std::chrono::steady_clock::time_point;

// One method's series, as etcd's services count theirs (server/etcd_services.cc);
// looked up once at start, so a request only touches the pointers.
class MethodMetrics {
 public:
  MethodMetrics() = default;  // counts nothing
  MethodMetrics(MetricsRegistry& registry, const char* method) {
    const Labels labels{{"grpc_method", method}};
    handled_ = registry.GetCounter("grpc_server_handled_total", "gRPC requests handled.", labels);
    failed_ = registry.GetCounter("grpc_server_failed_total", "gRPC requests that failed.", labels);
    latency_ = registry.GetHistogram("grpc_server_handling_seconds", "gRPC request latency.",
                                     ExponentialBuckets(0.0001, 2, 18), labels);
  }
  void Record(SteadyTime started, const grpc::Status& status) const {
    if (handled_ == nullptr) return;
    handled_->Add();
    if (!status.ok()) failed_->Add();
    latency_->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }

 private:
  Counter* handled_ = nullptr;
  Counter* failed_ = nullptr;
  Histogram* latency_ = nullptr;
};

// Finishes a unary call, counted.
void Finish(grpc::ServerUnaryReactor* reactor, const MethodMetrics& metrics, SteadyTime started,
            const grpc::Status& status) {
  metrics.Record(started, status);
  reactor->Finish(status);
}

// One WatchSaga call. Three kinds of threads touch it: the backend's loop
// thread (events, errors), gRPC's threads (write done, cancel, done) and the
// handler that starts it. All state is guarded by Link::mu; the backend's
// callbacks hold the Link (not the reactor), so a callback that arrives after
// the call is over finds `reactor` null and does nothing.
//
// At most one thread acts on the stream at a time: Decide() (under the lock)
// hands out either the next write (write_in_flight_) or the Finish
// (finish_called_), never both, and nothing else is handed out until that
// write completes. So the reactor cannot be done, and deleted, while the thread
// that got a write has yet to start it.
class WatchReactor final : public grpc::ServerWriteReactor<WatchSagaResponse> {
 public:
  WatchReactor(SagaBackend& backend, std::size_t max_queue_batches, const MethodMetrics& metrics)
      : backend_(backend),
        max_queue_batches_(max_queue_batches),
        metrics_(metrics),
        started_(std::chrono::steady_clock::now()),
        link_(std::make_shared<Link>()) {
    link_->reactor = this;
  }

  void Start(const trinity::v1::WatchSagaRequest& request) {
    saga_id_ = request.saga_id();
    next_position_ = request.from_position();
    if (Status st = CheckSagaId(saga_id_); !st.ok()) {
      std::unique_lock lock(link_->mu);
      end_ = ToGrpcStatus(st);
      link_->backend_done = true;
      Act(Decide(), lock);
      return;
    }
    std::shared_ptr<Link> link = link_;
    const WatchId id = backend_.WatchSaga(
        saga_id_, next_position_,
        [link](std::vector<SagaEventView> events, bool finished) {
          std::unique_lock lock(link->mu);
          if (finished) link->backend_done = true;
          if (link->reactor == nullptr) return;
          link->reactor->OnEvents(std::move(events), finished, lock);
        },
        [link](Status status) {
          std::unique_lock lock(link->mu);
          link->backend_done = true;
          if (link->reactor == nullptr) return;
          link->reactor->OnBackendError(status, lock);
        });
    std::lock_guard lock(link_->mu);
    link_->watch_id = id;
    link_->watch_started = true;
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(link_->mu);
    write_in_flight_ = false;
    if (!ok) {
      // The client is gone (or the server is shutting down): nothing more to write.
      queue_.clear();
      if (!end_) end_ = grpc::Status(grpc::StatusCode::CANCELLED, "watch: the stream broke");
    }
    Act(Decide(), lock);
  }

  void OnCancel() override {
    std::unique_lock lock(link_->mu);
    queue_.clear();
    if (!end_) end_ = grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled by the client");
    Act(Decide(), lock);
  }

  void OnDone() override {
    bool cancel = false;
    WatchId id = 0;
    {
      std::lock_guard lock(link_->mu);
      link_->reactor = nullptr;
      cancel = link_->watch_started && !link_->backend_done;
      id = link_->watch_id;
    }
    // The watch may end on its own meanwhile; the backend ignores a cancel of a
    // watch it has already ended.
    if (cancel) backend_.CancelWatch(id);
    delete this;
  }

 private:
  struct Link {
    std::mutex mu;
    WatchReactor* reactor = nullptr;  // null once the call is done
    bool watch_started = false;
    WatchId watch_id = 0;
    bool backend_done = false;  // the backend calls no more (finished or error)
  };

  enum class Step { kNone, kWrite, kFinish };

  void OnEvents(std::vector<SagaEventView> events, bool finished,
                std::unique_lock<std::mutex>& lock) {
    if (end_) return;  // ending already: the rest is not wanted
    if (queue_.size() >= max_queue_batches_) {
      queue_.clear();
      end_ = grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          fmt::format(
              "watch of saga {}: the watcher fell {} batches behind; resume from position {}",
              saga_id_, max_queue_batches_, next_position_));
      Act(Decide(), lock);
      return;
    }
    WatchSagaResponse batch;
    for (const SagaEventView& e : events)
      ToProto(e, batch.add_events());
    batch.set_finished(finished);
    queue_.push_back(std::move(batch));
    if (finished) end_ = grpc::Status::OK;
    Act(Decide(), lock);
  }

  void OnBackendError(const Status& status, std::unique_lock<std::mutex>& lock) {
    TRI_ASSERT_MSG(!status.ok(), "a watch error must carry an error");
    if (!end_) end_ = ToGrpcStatus(status);
    Act(Decide(), lock);
  }

  // Under the lock: the one thing to do next, if any (see the class comment).
  Step Decide() {
    if (finish_called_ || write_in_flight_) return Step::kNone;
    if (!queue_.empty()) {
      writing_ = std::move(queue_.front());
      queue_.pop_front();
      if (writing_.events_size() > 0)
        next_position_ = writing_.events(writing_.events_size() - 1).position() + 1;
      write_in_flight_ = true;
      return Step::kWrite;
    }
    if (end_) {
      finish_called_ = true;
      return Step::kFinish;
    }
    return Step::kNone;
  }

  // Releases the lock, then does what Decide handed out. `this` may be deleted
  // as soon as Finish is called, so nothing touches members after it.
  void Act(Step step, std::unique_lock<std::mutex>& lock) {
    const grpc::Status end = end_.value_or(grpc::Status::OK);
    lock.unlock();
    if (step == Step::kWrite) StartWrite(&writing_);
    if (step == Step::kFinish) {
      metrics_.Record(started_, end);
      Finish(end);
    }
  }

  SagaBackend& backend_;
  const std::size_t max_queue_batches_;
  const MethodMetrics& metrics_;
  const SteadyTime started_;
  const std::shared_ptr<Link> link_;
  std::string saga_id_;
  // Guarded by link_->mu.
  std::deque<WatchSagaResponse> queue_;
  WatchSagaResponse writing_;        // the batch being written (one at a time)
  std::uint64_t next_position_ = 0;  // the first position not yet handed to a write
  bool write_in_flight_ = false;
  bool finish_called_ = false;
  std::optional<grpc::Status> end_;  // finish with this once the queue is written
};

}  // namespace

class SagaGrpcService::Impl final : public trinity::v1::Sagas::CallbackService {
 public:
  Impl(SagaBackend& backend, SagaServiceOptions options)
      : backend_(backend), options_(std::move(options)) {
    if (options_.metrics != nullptr) {
      MetricsRegistry& r = *options_.metrics;
      define_ = MethodMetrics(r, "DefineSaga");
      start_ = MethodMetrics(r, "StartSaga");
      get_ = MethodMetrics(r, "GetSaga");
      list_ = MethodMetrics(r, "ListSagas");
      abort_ = MethodMetrics(r, "AbortSaga");
      watch_ = MethodMetrics(r, "WatchSaga");
    }
  }

  grpc::ServerUnaryReactor* DefineSaga(grpc::CallbackServerContext* ctx,
                                       const trinity::v1::DefineSagaRequest* req,
                                       trinity::v1::DefineSagaResponse* resp) override {
    // DefaultReactor() constructs the reactor anew on every call: take it once.
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const SteadyTime started = std::chrono::steady_clock::now();
    const MethodMetrics* m = &define_;
    auto request = FromProto(*req, options_.limits);
    if (!request.ok()) return Fail(reactor, *m, started, request.status());
    backend_.DefineSaga(std::move(*request),
                        [reactor, resp, m, started](Result<SagaDefineReply> r) {
                          if (!r.ok())
                            return Finish(reactor, *m, started, ToGrpcStatus(r.status()));
                          ToProto(*r, resp);
                          Finish(reactor, *m, started, grpc::Status::OK);
                        });
    return reactor;
  }

  grpc::ServerUnaryReactor* StartSaga(grpc::CallbackServerContext* ctx,
                                      const trinity::v1::StartSagaRequest* req,
                                      trinity::v1::StartSagaResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const SteadyTime started = std::chrono::steady_clock::now();
    const MethodMetrics* m = &start_;
    auto request = FromProto(*req, options_.limits);
    if (!request.ok()) return Fail(reactor, *m, started, request.status());
    backend_.StartSaga(std::move(*request), [reactor, resp, m, started](Result<SagaStartReply> r) {
      if (!r.ok()) return Finish(reactor, *m, started, ToGrpcStatus(r.status()));
      ToProto(*r, resp);
      Finish(reactor, *m, started, grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetSaga(grpc::CallbackServerContext* ctx,
                                    const trinity::v1::GetSagaRequest* req,
                                    trinity::v1::GetSagaResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const SteadyTime started = std::chrono::steady_clock::now();
    const MethodMetrics* m = &get_;
    if (Status st = CheckSagaId(req->saga_id()); !st.ok()) return Fail(reactor, *m, started, st);
    backend_.GetSaga(req->saga_id(), req->serializable(),
                     [reactor, resp, m, started](Result<SagaView> r) {
                       if (!r.ok()) return Finish(reactor, *m, started, ToGrpcStatus(r.status()));
                       ToProto(*r, resp->mutable_saga());
                       Finish(reactor, *m, started, grpc::Status::OK);
                     });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListSagas(grpc::CallbackServerContext* ctx,
                                      const trinity::v1::ListSagasRequest* req,
                                      trinity::v1::ListSagasResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const SteadyTime started = std::chrono::steady_clock::now();
    const MethodMetrics* m = &list_;
    auto request = FromProto(*req, options_.limits);
    if (!request.ok()) return Fail(reactor, *m, started, request.status());
    backend_.ListSagas(std::move(*request), [reactor, resp, m, started](Result<SagaListReply> r) {
      if (!r.ok()) return Finish(reactor, *m, started, ToGrpcStatus(r.status()));
      ToProto(*r, resp);
      Finish(reactor, *m, started, grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* AbortSaga(grpc::CallbackServerContext* ctx,
                                      const trinity::v1::AbortSagaRequest* req,
                                      trinity::v1::AbortSagaResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const SteadyTime started = std::chrono::steady_clock::now();
    const MethodMetrics* m = &abort_;
    if (Status st = CheckSagaId(req->saga_id()); !st.ok()) return Fail(reactor, *m, started, st);
    backend_.AbortSaga(req->saga_id(), [reactor, resp, m, started](Result<SagaView> r) {
      if (!r.ok()) return Finish(reactor, *m, started, ToGrpcStatus(r.status()));
      ToProto(*r, resp->mutable_saga());
      Finish(reactor, *m, started, grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerWriteReactor<WatchSagaResponse>* WatchSaga(
      grpc::CallbackServerContext*, const trinity::v1::WatchSagaRequest* req) override {
    auto* reactor = new WatchReactor(backend_, options_.max_watch_queue_batches, watch_);
    reactor->Start(*req);
    return reactor;
  }

 private:
  static grpc::ServerUnaryReactor* Fail(grpc::ServerUnaryReactor* reactor,
                                        const MethodMetrics& metrics, SteadyTime started,
                                        const Status& status) {
    Finish(reactor, metrics, started, ToGrpcStatus(status));
    return reactor;
  }

  SagaBackend& backend_;
  const SagaServiceOptions options_;
  MethodMetrics define_, start_, get_, list_, abort_, watch_;
};

SagaGrpcService::SagaGrpcService(SagaBackend& backend, SagaServiceOptions options)
    : impl_(std::make_unique<Impl>(backend, std::move(options))) {}

SagaGrpcService::~SagaGrpcService() = default;

void SagaGrpcService::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(impl_.get());
}

}  // namespace tri::server
