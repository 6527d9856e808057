#pragma once

// LeaseExecutor: what the leader does for the replicated lease table
// (rsm/lease_table.h). Deterministic and single-threaded, like SagaExecutor:
// the node's loop (or a test) calls Round() after every Process() with its
// clock; only a leader that has applied everything committed before its term
// (NodeCore::LeaderReady) proposes anything.
//
// - Once per term, before anything else, it proposes Promote: every lease gets
//   its full TTL again from this leader's clock (docs/coordination.md, "Leases":
//   keep-alives the old leader had not committed, and clock differences between
//   members, must not expire a lease the moment leadership moves).
// - Then, whenever its clock passes a lease's expiry, it proposes Expire with
//   the due leases, earliest first: at most `max_expire_per_entry` per entry
//   and `max_expire_per_second` per second (etcd revokes at most 1000 leases a
//   second). The state machine revokes only those whose expiry the entry's log
//   time has reached, so a stale or early Expire does nothing.
// A lease proposed for expiry is not proposed again until that proposal came
// back (applied or failed).

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "base/status.h"
#include "rsm/lease_table.h"
#include "rsm/state_machine.h"

namespace tri::server {

struct LeaseExecutorOptions {
  std::size_t max_expire_per_entry = 1000;
  std::size_t max_expire_per_second = 1000;
};

// Proposes a lease command through the log; `done` runs once with the apply
// result (ok: `applied` is set) or the failure (no leader, timeout).
class LeaseProposer {
 public:
  virtual ~LeaseProposer() = default;
  virtual void ProposeLease(std::string payload,
                            std::function<void(Status, const rsm::Applied*)> done) = 0;
};

struct LeaseExecutorStats {
  std::uint64_t promotes_proposed = 0;
  std::uint64_t promotes_applied = 0;
  std::uint64_t expire_entries_proposed = 0;
  std::uint64_t leases_expired = 0;  // revoked by this executor's entries
};

class LeaseExecutor {
 public:
  // `table` returns the node's current lease table (a snapshot install replaces
  // the state machine, so the executor never keeps a pointer to it).
  LeaseExecutor(LeaseExecutorOptions options, LeaseProposer* proposer,
                std::function<const rsm::LeaseTable&()> table);

  // One round. `term` is the node's current Raft term.
  void Round(bool leader_ready, std::uint64_t term, std::uint64_t now_ms);
  // When Round() wants to run again without a new input: UINT64_MAX when never.
  std::uint64_t next_wake_ms() const;
  // Whether this leader's Promote for its term has been applied.
  bool promoted() const { return ready_ && promoted_term_ == ready_term_; }

  const LeaseExecutorStats& stats() const { return stats_; }

 private:
  void Reset();

  const LeaseExecutorOptions options_;
  LeaseProposer* const proposer_;
  const std::function<const rsm::LeaseTable&()> table_;

  bool ready_ = false;
  std::uint64_t ready_term_ = 0;
  std::uint64_t generation_ = 0;  // bumped whenever leadership is lost
  std::uint64_t promoted_term_ = 0;
  bool promote_in_flight_ = false;
  std::set<std::int64_t> expiring_;  // proposed for expiry, not back yet
  std::uint64_t now_ms_ = 0;
  std::uint64_t window_start_ms_ = 0;  // the rate limit's current second
  std::size_t window_count_ = 0;
  LeaseExecutorStats stats_;
};

}  // namespace tri::server
