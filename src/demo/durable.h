#pragma once

// `tri demo` on the durable path: the scenarios run through the saga API of
// embedded nodes (server::Node, a temporary data directory, fsync on), so
// every saga transition is in the Raft log before it takes effect. One member
// for the four reference scenarios; three members in this process for
// `failover`, whose leader is stopped while its sagas run.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "demo/scenarios.h"
#include "server/node.h"

namespace tri::demo {

// Members of one cluster, all in this process, on 127.0.0.1 and free ports,
// each in a directory under `base_dir` (removed by the destructor).
class EmbeddedCluster {
 public:
  struct Options {
    std::uint32_t members = 1;
    std::uint32_t heartbeat_ms = 50;
    std::uint32_t election_timeout_ms = 500;
    std::string saga_redispatch_grace = "5s";
  };
  // Starts the members and waits until one leads.
  static Result<std::unique_ptr<EmbeddedCluster>> Start(const Options& options);
  ~EmbeddedCluster();

  std::size_t size() const { return nodes_.size(); }
  server::Node* node(std::size_t i) { return nodes_[i].get(); }
  // Index of the member that leads now, or -1.
  int leader() const;
  // Waits (bounded) for a leader other than `not_member`; its index or -1.
  int WaitForLeader(int not_member, int timeout_ms) const;
  // Stops member i at once (no leadership transfer), as a crash looks to the others.
  void Halt(std::size_t i);
  // Log entries applied (the highest of the live members) and fdatasyncs (all members).
  std::uint64_t entries() const;
  std::uint64_t syncs() const;

 private:
  EmbeddedCluster() = default;
  std::string base_dir_;
  std::vector<std::unique_ptr<server::Node>> nodes_;
  std::vector<std::uint64_t> halted_syncs_;
};

// Runs the scenario through `backend` (any member of `cluster`): every saga is
// started by the API and watched until its terminal state; the report counts
// what the API returned, plus log entries and fsyncs per saga.
Result<ScenarioReport> RunScenarioDurable(const Scenario& scenario, EmbeddedCluster& cluster,
                                          std::size_t member);

// Three members; `sagas` diamonds start through a follower; once half of their
// steps succeeded the leader is stopped; every saga must still end with the
// diamond's counts. The note names the old and new leader.
Result<ScenarioReport> RunFailoverScenario(std::uint32_t sagas);

}  // namespace tri::demo
