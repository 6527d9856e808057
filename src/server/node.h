#pragma once

// Node: the thin driver around NodeCore — the process behind `tri server`.
//
// Threads: one event-loop thread owns the NodeCore, its storage and the state
// machine; it waits for inputs (client requests, peer messages, the tick timer),
// feeds them to the core, calls Process() (which does the WAL writes and the
// fdatasync on this thread: everything that arrives meanwhile is batched into the
// next Ready, which is the group commit) and dispatches the results. The peer
// transport has its own thread (net/peer_transport.h), gRPC its own pool, and the
// metrics HTTP server its own threads; they talk to the loop only by posting work
// to it (Post), and read published state (status()).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/node_core.h"
#include "server/saga_backend.h"

namespace grpc {
class Server;
}

namespace tri::server {

// State published by the loop after every round, for readers on other threads.
struct NodeStatusView {
  std::uint64_t member_id = 0;
  std::uint64_t cluster_id = 0;
  std::uint64_t leader = 0;
  std::uint64_t term = 0;
  std::uint64_t committed_index = 0;
  std::uint64_t applied_index = 0;
  std::int64_t revision = 0;
  std::uint64_t db_size_bytes = 0;
  bool is_learner = false;
  bool nospace_alarm = false;
  bool stopping = false;
  std::uint64_t syncs = 0;  // fdatasyncs of the log so far
};

class NodeLeases;

class Node {
 public:
  // Opens the data directory (refused when another process holds it), starts the
  // peer transport, the loop, the gRPC server and the metrics server.
  static Result<std::unique_ptr<Node>> Start(const ResolvedConfig& config);
  ~Node();

  // Runs `fn` on the loop thread with the core (in order of posting).
  void Post(std::function<void(NodeCore&)> fn);
  // Registers `done` for the request with this token and returns the token; call
  // only on the loop thread (inside a posted function).
  RequestToken Track(std::function<void(NodeCore&, const Completion&)> done);

  // Blocks until the node stops: Shutdown(), a fatal storage error, or removal from
  // the cluster. Returns the reason (ok for a requested shutdown).
  Status Wait();
  // Graceful stop: a leader hands leadership to a caught-up voter first (bounded by
  // an election timeout), then everything stops. Safe from any thread and from a
  // signal-watching thread; idempotent.
  void Shutdown();
  // Stops at once, as a crash would to the cluster: no leadership transfer,
  // running saga actions cancelled. For in-process demos and tests.
  void Halt();

  NodeStatusView status() const;
  // Prometheus text for the peer transport: bytes, messages, drops and round-trip
  // time per peer. Safe from any thread.
  std::string RenderPeerMetrics() const;
  MetricsRegistry& metrics() { return metrics_; }
  // The saga service (server/saga_backend.h); calls are safe from any thread.
  SagaBackend& sagas();
  // The node's lease side (server/lease_service.h); loop thread only.
  NodeLeases& leases();
  bool OnLoopThread() const { return std::this_thread::get_id() == loop_.get_id(); }
  const ResolvedConfig& config() const { return config_; }
  std::uint16_t client_port() const { return client_port_; }
  std::uint16_t peer_port() const;

  class Impl;

 private:
  explicit Node(const ResolvedConfig& config);
  void Loop();
  void Publish();
  void HandleOutput(ProcessOutput out);
  // On the leader, proposes the compaction AutoCompactor says is due.
  void ProposeAutoCompaction();
  void Stop(Status reason);

  const ResolvedConfig config_;
  MetricsRegistry metrics_;
  std::unique_ptr<Impl> impl_;
  std::uint16_t client_port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::function<void(NodeCore&)>> inbox_;
  bool stop_requested_ = false;
  bool halt_requested_ = false;
  bool stopped_ = false;
  Status stop_reason_;
  NodeStatusView published_;
  std::condition_variable stopped_cv_;

  std::thread loop_;
};

}  // namespace tri::server
