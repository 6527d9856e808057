#pragma once

// Trinity's native coordination API on a node (docs/coordination.md, "Locks",
// "Barriers"; trinity/v1/coordination.proto): the gRPC services
// trinity.v1.Locks (Acquire, Release, List) and trinity.v1.Barriers (Create,
// Arrive, Status, List, Cancel, Remove). Writes go through the log
// (NodeCoordination); List and Status read the tables after a linearizable
// read point.
//
// Callback services: no handler blocks a gRPC thread. A waiting Acquire and an
// Arrive stream hold no thread; the client's cancel ends the wait (the acquire
// leaves the lock's queue) or the stream.

#include <memory>

namespace grpc {
class ServerBuilder;
}

namespace tri::server {

class Node;
class NodeCoordination;

class CoordinationGrpcService {
 public:
  CoordinationGrpcService(Node& node, NodeCoordination& coordination);
  ~CoordinationGrpcService();
  // Registers both services; this object must outlive the server.
  void Register(grpc::ServerBuilder& builder);

  class LocksImpl;
  class BarriersImpl;

 private:
  std::unique_ptr<LocksImpl> locks_;
  std::unique_ptr<BarriersImpl> barriers_;
};

}  // namespace tri::server
