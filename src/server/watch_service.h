#pragma once

// etcd v3.4's Watch service (etcdserverpb.Watch/Watch, a bidirectional stream)
// over the node's WatchHub (server/watch_hub.h). Each stream's requests are
// posted to the loop in arrival order; its responses queue in a bounded buffer
// drained by one gRPC write at a time (docs/coordination.md, "Watches").

#include <cstddef>
#include <memory>

#include "etcdserverpb/rpc.grpc.pb.h"

namespace tri::server {

class Node;
class WatchHub;

struct WatchServiceOptions {
  // Bytes of responses one stream may have queued for a slow client. Past it,
  // a watcher with new events is cancelled (with a cancel_reason saying why);
  // catch-up from history waits while the queue is over half of it.
  std::size_t max_stream_buffer_bytes = std::size_t{16} << 20;
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  // `hub` is used on the node's loop thread only.
  WatchService(Node* node, WatchHub* hub, WatchServiceOptions options = {});
  ~WatchService() override;

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::server
