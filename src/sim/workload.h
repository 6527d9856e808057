#pragma once

// Simulated clients of the replicated KV. Each client runs one operation at a
// time: it picks a node at random, submits, and waits for the answer up to an
// attempt timeout; then it retries the same command (same session seq, so the
// state machine applies it at most once) at another node, up to max_attempts.
// Every operation goes into the history with its invocation and response (a
// logical event counter, so no two events tie). An operation that never got
// an answer but may have reached the log is recorded as timed out (unknown
// outcome, returns at infinity); one refused by every node it tried is left
// out, since it certainly had no effect.

#include <cstdint>
#include <vector>

#include "base/rng.h"
#include "sim/history.h"
#include "sim/kv_state_machine.h"
#include "sim/network.h"

namespace tri::sim {

// What a workload needs from the cluster under test.
class KvCluster {
 public:
  virtual ~KvCluster() = default;
  // Hands `command` to `node` (a write goes through the log; a get is served by a
  // linearizable read). Returns false when the node refused it at once (down, no
  // leader known): this attempt certainly had no effect. The answer, if any,
  // comes later through Workload::OnResponse.
  virtual bool Submit(SimNodeId node, const KvCommand& command) = 0;
};

struct WorkloadConfig {
  std::uint32_t clients = 3;
  std::uint64_t total_ops = 100;
  std::uint32_t keys = 3;
  double put_fraction = 0.35;
  double cas_fraction = 0.30;  // the rest are gets
  SimTimeUs attempt_timeout_us = 400'000;
  std::uint32_t max_attempts = 5;
  SimTimeUs retry_backoff_us = 100'000;
  SimTimeUs think_time_max_us = 20'000;
};

struct WorkloadStats {
  std::uint64_t issued = 0;
  std::uint64_t completed = 0;  // answered
  std::uint64_t timed_out = 0;  // unknown outcome
  std::uint64_t refused = 0;    // refused everywhere: left out of the history
  std::uint64_t attempts = 0;
  std::uint64_t refusals = 0;  // single attempts refused at once
};

class Workload {
 public:
  Workload(const WorkloadConfig& config, std::vector<SimNodeId> nodes, Rng* rng);

  // Starts operations, retries and timeouts due at `now_us`.
  void Tick(SimTimeUs now_us, KvCluster& cluster);
  // A node answered the command (client, seq). Late or duplicate answers are ignored.
  void OnResponse(std::uint32_t client_id, std::uint64_t seq, const KvResult& result,
                  SimTimeUs now_us);
  // Ends the run: outstanding operations become timed out (or are left out).
  void Finish();

  bool AllIssued() const { return stats_.issued >= config_.total_ops; }
  bool Idle() const;  // nothing outstanding
  bool Done() const { return AllIssued() && Idle(); }
  // Valid after Finish(): every operation issued, minus those refused everywhere.
  const KvHistory& history() const { return final_history_; }
  const WorkloadStats& stats() const { return stats_; }
  // Time of the last answered operation (progress measure), -1 if none.
  SimTimeUs last_completion_us() const { return last_completion_us_; }

 private:
  enum class Phase { kThinking, kWaiting, kBackingOff };
  struct Client {
    Phase phase = Phase::kThinking;
    SimTimeUs wake_us = 0;  // thinking/backing off until; waiting: attempt deadline
    std::uint64_t seq = 0;
    KvCommand command;
    std::size_t history_slot = 0;
    std::uint32_t attempts = 0;
    bool maybe_applied = false;  // some attempt was accepted by a node
  };

  void StartOperation(Client& client, SimTimeUs now_us);
  void Attempt(Client& client, SimTimeUs now_us, KvCluster& cluster);
  void GiveUp(Client& client, SimTimeUs now_us);

  WorkloadConfig config_;
  std::vector<SimNodeId> nodes_;
  Rng* rng_;
  std::vector<Client> clients_;
  KvHistory history_;
  std::vector<bool> dropped_;  // per history slot: refused everywhere
  KvHistory final_history_;
  std::int64_t event_counter_ = 0;
  // Written values are unique (a read then names its write); compare-and-swaps
  // expect the last value some client wrote or saw, so they often succeed.
  KvValue next_unique_value_ = 1;
  std::vector<KvValue> last_seen_value_;  // per key
  WorkloadStats stats_;
  SimTimeUs last_completion_us_ = -1;
  bool finished_ = false;
};

}  // namespace tri::sim
