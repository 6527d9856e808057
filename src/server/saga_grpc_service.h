#pragma once

// The gRPC service trinity.v1.Sagas (sagas.proto, docs/sagas-api.md) over a
// SagaBackend. A callback service: each call is a reactor that hands its
// request to the backend and returns at once; the backend's answer arrives on
// the node's loop thread and finishes the reactor there without blocking.
//
// WatchSaga streams through a bounded queue of event batches, written one at a
// time; a watcher whose queue is full (it reads slower than the saga moves) is
// ended with RESOURCE_EXHAUSTED and may resume from its last position.

#include <cstddef>
#include <memory>

#include "server/saga_backend.h"
#include "server/saga_convert.h"

namespace grpc {
class ServerBuilder;
}

namespace tri::server {

class MetricsRegistry;

struct SagaServiceOptions {
  SagaApiLimits limits;
  // Event batches queued for one watcher before it is ended as too slow.
  std::size_t max_watch_queue_batches = 1024;
  // Where each method's grpc_server_handled_total, grpc_server_failed_total and
  // grpc_server_handling_seconds go (labelled grpc_method="StartSaga", ...);
  // null: not counted. Must outlive the service.
  MetricsRegistry* metrics = nullptr;
};

class SagaGrpcService {
 public:
  // `backend` must outlive this object and the server it is registered with.
  SagaGrpcService(SagaBackend& backend, SagaServiceOptions options = {});
  ~SagaGrpcService();
  SagaGrpcService(const SagaGrpcService&) = delete;
  SagaGrpcService& operator=(const SagaGrpcService&) = delete;

  // Registers the service; this object must outlive the server.
  void Register(grpc::ServerBuilder& builder);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::server
