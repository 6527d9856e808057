#include "server/watch_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <utility>

#include "base/assert.h"
#include "server/node.h"
#include "server/watch_hub.h"

namespace tri::server {
namespace {

WatchHeader HeaderOf(const NodeCore& core) {
  return WatchHeader{core.cluster_id(), core.id(), core.term()};
}

class WatchReactor;

// The stream's outgoing queue, shared by the hub (loop thread) and the reactor
// (gRPC threads). The reactor may be gone (the call ended) while the hub still
// holds the sink: responses are then dropped.
class StreamSink final : public WatchSink {
 public:
  explicit StreamSink(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  bool Send(etcdserverpb::WatchResponse response, bool control) override;
  void Close() override;
  bool HasRoom() const override {
    std::lock_guard lock(mu_);
    return queued_bytes_ <= max_bytes_ / 2;
  }

  // What the reactor does next; under mu_ (see WatchReactor).
  enum class Step { kNone, kWrite, kFinish };

  std::mutex& mu() const { return mu_; }
  WatchReactor* reactor = nullptr;  // guarded by mu_; null once the call is done
  std::deque<etcdserverpb::WatchResponse> queue;
  etcdserverpb::WatchResponse writing;  // the response being written
  std::size_t writing_bytes = 0;
  bool write_in_flight = false;
  bool finish_called = false;
  bool ending = false;  // finish (with end_status) once no write is in flight
  grpc::Status end_status = grpc::Status::CANCELLED;

  Step Decide() {
    if (finish_called || write_in_flight || reactor == nullptr) return Step::kNone;
    if (ending) {
      finish_called = true;
      return Step::kFinish;
    }
    if (queue.empty()) return Step::kNone;
    writing = std::move(queue.front());
    queue.pop_front();
    writing_bytes = writing.ByteSizeLong();
    write_in_flight = true;
    return Step::kWrite;
  }

  void WriteDone(bool ok) {
    write_in_flight = false;
    queued_bytes_ -= std::min(queued_bytes_, writing_bytes);
    if (!ok) {
      ending = true;  // the stream broke: nothing more gets through
      queue.clear();
      queued_bytes_ = 0;
    }
  }

  void End() {
    ending = true;
    queue.clear();
    queued_bytes_ = 0;
  }

 private:
  friend class WatchReactor;
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::size_t queued_bytes_ = 0;  // queued plus the one being written
};

// One Watch call. Reads requests one at a time and posts each to the loop;
// writes the sink's queue one response at a time. At most one thread acts on
// the stream's writes at a time: Decide() (under the sink's lock) hands out the
// next write or the Finish, never both.
class WatchReactor final
    : public grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  WatchReactor(Node* node, WatchHub* hub, WatchHub::StreamId id, std::size_t max_bytes)
      : node_(node), hub_(hub), id_(id), sink_(std::make_shared<StreamSink>(max_bytes)) {
    sink_->reactor = this;
    node_->Post([hub = hub_, id = id_, sink = sink_](NodeCore&) { hub->OpenStream(id, sink); });
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    // !ok: the client closed its side (or the call ended); etcd keeps sending
    // until the call ends, so only the reading stops.
    if (!ok) return;
    node_->Post([hub = hub_, id = id_, request = request_](NodeCore& core) {
      hub->Handle(id, request, core.state_machine(), HeaderOf(core));
    });
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(sink_->mu());
    sink_->WriteDone(ok);
    Act(sink_->Decide(), lock);
  }

  void OnCancel() override {
    std::unique_lock lock(sink_->mu());
    sink_->End();
    Act(sink_->Decide(), lock);
  }

  void OnDone() override {
    {
      std::lock_guard lock(sink_->mu());
      sink_->reactor = nullptr;
    }
    node_->Post([hub = hub_, id = id_](NodeCore&) { hub->CloseStream(id); });
    delete this;
  }

  // Called by the sink, under its lock, after queueing.
  void Kick(std::unique_lock<std::mutex>& lock) { Act(sink_->Decide(), lock); }

 private:
  // Releases the lock, then does what Decide handed out; `this` may be deleted
  // once Finish is called, so nothing touches members after it.
  void Act(StreamSink::Step step, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    if (step == StreamSink::Step::kWrite) StartWrite(&sink_->writing);
    if (step == StreamSink::Step::kFinish) Finish(sink_->end_status);
  }

  Node* const node_;
  WatchHub* const hub_;
  const WatchHub::StreamId id_;
  const std::shared_ptr<StreamSink> sink_;
  etcdserverpb::WatchRequest request_;
};

void StreamSink::Close() {
  std::unique_lock lock(mu_);
  if (reactor == nullptr || ending) return;
  End();
  end_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped");
  reactor->Kick(lock);
}

bool StreamSink::Send(etcdserverpb::WatchResponse response, bool control) {
  const std::size_t bytes = response.ByteSizeLong();
  std::unique_lock lock(mu_);
  if (reactor == nullptr || ending) return true;  // nobody to tell: dropped
  if (!control && queued_bytes_ + bytes > max_bytes_) return false;
  queued_bytes_ += bytes;
  queue.push_back(std::move(response));
  reactor->Kick(lock);
  return true;
}

}  // namespace

class WatchService::Impl {
 public:
  Impl(Node* node, WatchHub* hub, WatchServiceOptions options)
      : node(node), hub(hub), options(options) {}
  Node* const node;
  WatchHub* const hub;
  const WatchServiceOptions options;
  std::atomic<WatchHub::StreamId> next_stream_id{1};
};

WatchService::WatchService(Node* node, WatchHub* hub, WatchServiceOptions options)
    : impl_(std::make_unique<Impl>(node, hub, options)) {}

WatchService::~WatchService() = default;

grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>*
WatchService::Watch(grpc::CallbackServerContext*) {
  return new WatchReactor(impl_->node, impl_->hub, impl_->next_stream_id++,
                          impl_->options.max_stream_buffer_bytes);
}

}  // namespace tri::server
