#pragma once

// The etcd v3.4-compatible gRPC services of a node: KV, Cluster and Maintenance
// served from the node's loop (Watch is server/watch_service.h, Lease
// server/lease_grpc_service.h); Auth and the rest answer UNIMPLEMENTED with a
// message saying so (docs/api.md).

#include <memory>

namespace grpc {
class ServerBuilder;
}

namespace tri::server {

class Node;

class EtcdServices {
 public:
  explicit EtcdServices(Node* node);
  ~EtcdServices();
  // Registers every service with the builder; this object must outlive the server.
  void Register(grpc::ServerBuilder& builder);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::server
