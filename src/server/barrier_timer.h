#pragma once

// BarrierTimer: what the leader does for the replicated barrier table
// (rsm/barrier_table.h): when its clock passes the earliest deadline of a
// barrier not ended (BarrierTable::NextDeadline), it proposes one
// BarrierExpireCommand. Applying it times out exactly the barriers whose
// deadline the entry's log time has reached, so an early, late or repeated
// expire is harmless. Deterministic and single-threaded, like LeaseExecutor:
// the node's loop (or a test) calls Round() after every Process() with its
// clock; only a leader that has applied everything committed before its term
// (NodeCore::LeaderReady) proposes, and at most one expire is in flight.

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "rsm/barrier_table.h"
#include "rsm/state_machine.h"

namespace tri::server {

// Proposes an encoded barrier command through the log; `done` runs once with
// the apply result (ok: `applied` is set) or the failure (no leader, timeout).
using BarrierProposeFn =
    std::function<void(std::string payload, std::function<void(Status, const rsm::Applied*)> done)>;

struct BarrierTimerStats {
  std::uint64_t expires_proposed = 0;
  std::uint64_t barriers_timed_out = 0;  // by this timer's entries
};

class BarrierTimer {
 public:
  // `table` returns the node's current barrier table (a snapshot install
  // replaces the state machine, so the timer keeps no pointer to it).
  BarrierTimer(BarrierProposeFn propose, std::function<const rsm::BarrierTable&()> table);

  // One round. `term` is the node's current Raft term.
  void Round(bool leader_ready, std::uint64_t term, std::uint64_t now_ms);
  // When Round() wants to run again without a new input: UINT64_MAX when never.
  std::uint64_t next_wake_ms() const;

  const BarrierTimerStats& stats() const { return stats_; }

 private:
  const BarrierProposeFn propose_;
  const std::function<const rsm::BarrierTable&()> table_;

  bool ready_ = false;
  std::uint64_t ready_term_ = 0;
  std::uint64_t generation_ = 0;  // bumped whenever leadership is lost
  bool in_flight_ = false;
  BarrierTimerStats stats_;
};

}  // namespace tri::server
