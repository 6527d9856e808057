#pragma once

// etcd v3.4's server-side lock and election services, v3lockpb.Lock (Lock,
// Unlock) and v3electionpb.Election (Campaign, Proclaim, Leader, Observe,
// Resign), on a node (docs/coordination.md "Elections", docs/api.md).
//
// As etcd does, they run the client recipes (client/concurrency.h) against the
// node's own KV, Watch and Lease services. The node's gRPC server reaches
// itself over an in-process channel (grpc::Server::InProcessChannel): the
// recipes see exactly what a remote client sees (writes forwarded to the
// leader, linearizable reads, watches from a revision), with no TLS or client
// port to configure and no network hop. Each call of a recipe is a child of
// the service call (grpc::ClientContext::FromServerContext), so a client that
// cancels or goes away cancels its waits, and its deadline bounds them.
//
// Synchronous handlers: a Lock or Campaign that waits holds one gRPC thread of
// the node while it waits (as a goroutine in etcd).
//
// Errors, as etcd 3.4 answers them (checked against it): code UNKNOWN with the
// message for every error of the recipes (ErrElectionNotLeader "election: not
// leader", ErrElectionNoLeader "election: no leader", a missing leader
// `"leader" field must be provided`) and of the services under them (a Lock
// with a lease that does not exist: "etcdserver: requested lease not found"),
// since etcd's in-process client hands those on as plain errors; a cancelled
// or expired call keeps CANCELLED / DEADLINE_EXCEEDED.

#include <grpcpp/server.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "client/concurrency.h"

namespace grpc {
class ServerBuilder;
class ServerContext;
class Service;
}  // namespace grpc

namespace tri::server {

// The channel the services use to reach the node; set once the gRPC server
// is built (calls before that are answered UNAVAILABLE).
//
// Stop() is for the node's shutdown, before the gRPC server's: it cancels
// every service call in progress (their recipes' waits end), and from then on
// a recipe makes no call to the node (RecipeClient's `closed`) and new service
// calls are answered UNAVAILABLE. A call made to the node while it stops
// would wait for its loop, which is stopping, and keep the server's shutdown
// waiting; a call created on the in-process channel after the server shut down
// crashes inside gRPC. The channel is dropped too, so it goes with the last
// handler that holds it, before the server.
class SelfChannel {
 public:
  void Set(std::shared_ptr<grpc::Channel> channel);
  void Stop();
  bool stopped() const;

  // Registers a service call for the length of the handler, so Stop() can
  // cancel it; ok() false (UNAVAILABLE) once stopped.
  class ActiveCall {
   public:
    ActiveCall(SelfChannel& self, grpc::ServerContext* context);
    ~ActiveCall();
    ActiveCall(const ActiveCall&) = delete;
    ActiveCall& operator=(const ActiveCall&) = delete;

    // The recipes' client for this call: over the node's channel, every call
    // a child of the service call (with `deadline` when given), clean-up calls
    // on their own contexts bounded by 5 s. Unavailable once stopped.
    Result<client::RecipeClient> Client(
        std::optional<std::chrono::system_clock::time_point> deadline = std::nullopt) const;

   private:
    SelfChannel& self_;
    grpc::ServerContext* context_;
    bool registered_ = false;
  };

 private:
  mutable std::mutex mu_;
  std::shared_ptr<grpc::Channel> channel_;
  bool stopped_ = false;
  std::set<grpc::ServerContext*> active_;
};

class ElectionServices {
 public:
  ElectionServices();
  ~ElectionServices();
  // Registers v3lockpb.Lock, v3electionpb.Election and trinity.v1.Elections
  // (server/native_elections.h); this object must outlive the server.
  void Register(grpc::ServerBuilder& builder);
  // Points the services at `server` (the one Register was given to), once built.
  void Attach(grpc::Server& server);
  // Before the server shuts down (SelfChannel::Stop).
  void Stop();

  class LockImpl;
  class ElectionImpl;

 private:
  SelfChannel self_;
  std::unique_ptr<LockImpl> lock_;
  std::unique_ptr<ElectionImpl> election_;
  std::unique_ptr<grpc::Service> native_;
};

}  // namespace tri::server
