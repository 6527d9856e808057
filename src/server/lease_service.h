#pragma once

// NodeLeases: the node's side of etcd leases (docs/coordination.md, "Leases"),
// on the loop thread. It proposes lease commands for the gRPC Lease service,
// coalesces the keep-alives that arrive during one loop round into one
// KeepAlive entry, and runs the leader-only LeaseExecutor (Promote once per
// term, then Expire as leases come due).
//
// Every method runs on the node's loop thread (inside Node::Post or the loop).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "rsm/lease_codec.h"
#include "server/lease_executor.h"
#include "server/node_core.h"

namespace tri::server {

class Node;

class NodeLeases final : public LeaseProposer {
 public:
  NodeLeases(Node& node, LeaseExecutorOptions options);

  // After every Process(): proposes the keep-alives gathered since the last
  // round (one entry, or more of max_ids_per_command ids each) and runs the
  // executor with `now_ms`, which proposals from now on carry.
  void AfterRound(NodeCore& core, std::uint64_t now_ms);
  // When AfterRound wants to run without a new input (UINT64_MAX: never).
  std::uint64_t next_wake_ms() const {
    return proposed_ || !keep_alive_order_.empty() ? 0 : executor_.next_wake_ms();
  }
  // The node is stopping: gathered keep-alives fail.
  void Stop();

  // Proposes one lease command; `done` gets the applied entry (its result may
  // be an etcd error) or the failure (no leader, timeout, stopping).
  void Propose(NodeCore& core, const rsm::LeaseCommand& command,
               std::function<void(Status, const rsm::Applied*)> done);
  // A keep-alive, proposed with the others of this round; `done` gets the
  // lease's TTL after it (0: not found or already expired).
  void KeepAlive(std::int64_t id, std::function<void(Status, std::int64_t ttl)> done);

  // LeaseProposer (the executor's proposals).
  void ProposeLease(std::string payload,
                    std::function<void(Status, const rsm::Applied*)> done) override;

  const LeaseExecutorStats& executor_stats() const { return executor_.stats(); }
  // Keep-alives received, and the KeepAlive entries they were proposed in.
  std::uint64_t keep_alives_received() const { return keep_alives_received_; }
  std::uint64_t keep_alive_entries() const { return keep_alive_entries_; }

 private:
  void FlushKeepAlives(NodeCore& core);

  Node& node_;
  NodeCore* core_ = nullptr;  // set by AfterRound and Propose (loop thread)
  bool proposed_ = false;     // since the last AfterRound: Process() should run again
  std::uint64_t keep_alives_received_ = 0;
  std::uint64_t keep_alive_entries_ = 0;
  LeaseExecutor executor_;
  // Keep-alives of this round, by lease id, in arrival order of first mention.
  std::vector<std::int64_t> keep_alive_order_;
  std::map<std::int64_t, std::vector<std::function<void(Status, std::int64_t)>>> keep_alives_;
};

}  // namespace tri::server
