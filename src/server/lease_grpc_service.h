#pragma once

// etcd v3.4's gRPC Lease service on a node (docs/api.md, docs/coordination.md
// "Leases"): LeaseGrant, LeaseRevoke, LeaseKeepAlive (bidirectional stream),
// LeaseTimeToLive (with keys), LeaseLeases. Grant, revoke and keep-alive go
// through the log (NodeLeases); TimeToLive and Leases read the lease table
// after a linearizable read point.
//
// A callback service, like the KV service: no handler blocks a gRPC thread;
// each posts its work to the node's loop and finishes from there (a
// keep-alive stream holds no thread between its keep-alives).

#include <memory>

namespace grpc {
class ServerBuilder;
}

namespace tri::server {

class Node;
class NodeLeases;

class LeaseGrpcService {
 public:
  LeaseGrpcService(Node& node, NodeLeases& leases);
  ~LeaseGrpcService();
  // Registers the service; this object must outlive the server.
  void Register(grpc::ServerBuilder& builder);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::server
