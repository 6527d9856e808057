#pragma once

// etcd v3.4's gRPC Lease service on a node (docs/api.md, docs/coordination.md
// "Leases"): LeaseGrant, LeaseRevoke, LeaseKeepAlive (bidirectional stream),
// LeaseTimeToLive (with keys), LeaseLeases. Grant, revoke and keep-alive go
// through the log (NodeLeases); TimeToLive and Leases read the lease table
// after a linearizable read point.
//
// Handlers are synchronous: each waits for the node's loop to answer, at most
// the node's request timeout plus a second. Stop() (before the gRPC server's
// Shutdown) releases every waiting handler with UNAVAILABLE.

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
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::server
