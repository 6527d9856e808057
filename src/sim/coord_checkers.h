#pragma once

// The checkers of the coordination simulation (`tri-sim coord`,
// coord_sim.h). CoordHistoryChecker judges a history of coordination events
// in log order against a model of its own (not the rsm tables it checks), so a
// hand-made bad history fails it as well as a buggy table does;
// CoordLogObserver turns the committed log into that history by applying each
// entry to a reference rsm::StateMachine and reporting what changed.
//
// Rules (each violation names its rule, the entry index and what was seen):
// - kRuleOneHolder: fenced writes of different tokens never interleave: once a
//   write fenced with a higher token succeeded, a lower one never does, and a
//   write succeeds only with the token of the lock's current holder.
// - kRuleTokensIncrease: fencing tokens strictly increase per lock across grants.
// - kRuleFifo: a lock passes from holder to waiter in queue order (queued by
//   applied acquires, left by cancelled waits and ended leases), and only to a
//   waiter; a lock with a holder is never granted to anyone else.
// - kRuleLeaseExpiry: an Expire entry never revokes a lease before the model's
//   expiry: grant or last applied keep-alive (or promote) log time + TTL.
// - kRuleBarrierRelease: a barrier releases exactly once, at the arrival that
//   brings its distinct accepted arrivals to the threshold, never before.
// - kRuleWatchOrder: a watcher sees every revision once and in order, each
//   with the committed log's events.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"
#include "rsm/state_machine.h"
#include "rsm/watch_event.h"

namespace tri::sim {

inline constexpr std::string_view kRuleOneHolder = "never two lock holders at once";
inline constexpr std::string_view kRuleTokensIncrease = "fencing tokens strictly increase";
inline constexpr std::string_view kRuleFifo = "locks pass to waiters in FIFO order";
inline constexpr std::string_view kRuleLeaseExpiry = "no lease expires while kept alive";
inline constexpr std::string_view kRuleBarrierRelease =
    "a barrier releases once and at its threshold";
// Replica state hashes equal at equal applied indexes, and equal to the
// reference's at the end (the name saga_checkers.h uses too).
inline constexpr std::string_view kRuleReplicaStates = "replicas agree";
inline constexpr std::string_view kRuleWatchOrder = "watchers see every revision once and in order";

struct CoordViolation {
  std::string rule;
  std::string details;
};

struct CoordStats {
  std::uint64_t entries = 0;
  std::uint64_t grants = 0;
  std::uint64_t handovers = 0;  // grants to a waiter
  std::uint64_t fenced_writes = 0;
  std::uint64_t fenced_writes_refused = 0;
  std::uint64_t leases_granted = 0;
  std::uint64_t keep_alives = 0;
  std::uint64_t leases_expired = 0;
  std::uint64_t leases_revoked = 0;
  std::uint64_t barriers_released = 0;
  std::uint64_t barriers_timed_out = 0;
  std::uint64_t arrivals = 0;
  std::uint64_t watch_events_checked = 0;
  std::uint64_t watch_resumes = 0;  // watchers that went on from history
  std::uint64_t resyncs = 0;        // CoordHistoryChecker::Resync
};

// Judges the history. Every call is one applied fact at entry `index` (log
// order; several calls may share one index) with the entry's log time.
class CoordHistoryChecker {
 public:
  // --- leases ---------------------------------------------------------------
  void LeaseGranted(std::uint64_t index, std::int64_t id, std::int64_t ttl_s, std::uint64_t log_ms);
  // An applied keep-alive that renewed the lease (answered a TTL above 0).
  void LeaseKeptAlive(std::uint64_t index, std::int64_t id, std::uint64_t log_ms);
  void LeasesPromoted(std::uint64_t index, std::uint64_t log_ms);
  // Revoked by an Expire entry (`expired`) or by a client's Revoke. Ends the
  // lease's waits before any hold change of the same entry is reported.
  void LeaseEnded(std::uint64_t index, std::int64_t id, bool expired, std::uint64_t log_ms);

  // --- locks ----------------------------------------------------------------
  void LockQueued(std::uint64_t index, const std::string& name, const std::string& owner,
                  std::int64_t lease);
  void LockWaitCancelled(std::uint64_t index, const std::string& name, const std::string& owner);
  // After entry `index`, `name` is held by `owner` with `token` (a new hold).
  void LockGranted(std::uint64_t index, const std::string& name, const std::string& owner,
                   std::uint64_t token);
  // After entry `index`, `name` has no holder.
  void LockFreed(std::uint64_t index, const std::string& name);
  // A KV write fenced by value(LockFenceKey(name)) == token succeeded.
  void FencedWrite(std::uint64_t index, const std::string& name, std::uint64_t token);

  // --- barriers -------------------------------------------------------------
  void BarrierCreated(std::uint64_t index, const std::string& name, std::uint32_t threshold);
  // `participant`'s arrival was accepted while the barrier was collecting.
  void BarrierArrived(std::uint64_t index, const std::string& name, const std::string& participant);
  void BarrierReleased(std::uint64_t index, const std::string& name);
  // After entry `index` the barrier is still collecting: it must not have
  // reached its threshold.
  void BarrierStillCollecting(std::uint64_t index, const std::string& name);

  // --- watches --------------------------------------------------------------
  // The committed log's events of one revision (from the reference).
  void CommittedEvents(std::int64_t revision, std::vector<rsm::WatchEvent> events);
  // Watcher `watcher` starts, or resumes from history after a reconnect (it
  // then asks for the revisions after the last one it received: a duplicate
  // or a gap is judged like any other delivery).
  void WatcherStarts(const std::string& watcher);
  // Watcher `watcher` received these events (in delivery order). Judged once
  // the committed events of their revisions are known.
  void WatcherReceived(const std::string& watcher, const std::vector<rsm::WatchEvent>& events);
  // The revision up to which `watcher` has been judged.
  std::int64_t WatcherPosition(const std::string& watcher) const;
  // Judges what watchers received up to the reference's `revision`; at the
  // end (`final`), a watcher must have seen every revision up to it.
  void CheckWatchers(std::int64_t revision, bool final);

  // The observer went on from a replica's state over entries it could not read
  // (coord_sim.cc: only snapshots held them): the models restart from the
  // tables of `state` (trusted, as nothing else is left to judge them by), and
  // watch events up to its revision are accepted unjudged (in order only).
  void Resync(const rsm::StateMachine& state);

  const std::optional<CoordViolation>& violation() const { return violation_; }
  CoordStats& stats() { return stats_; }
  const CoordStats& stats() const { return stats_; }

 private:
  struct LeaseModel {
    std::int64_t ttl_s = 0;
    std::uint64_t expiry_ms = 0;
  };
  struct Waiter {
    std::string owner;
    std::int64_t lease = 0;
  };
  struct LockModel {
    std::optional<std::string> holder;
    std::uint64_t holder_token = 0;
    std::uint64_t last_token = 0;      // highest token ever granted
    std::uint64_t highest_fenced = 0;  // highest token that wrote
    std::deque<Waiter> queue;
  };
  struct BarrierModel {
    std::uint32_t threshold = 0;
    std::set<std::string> arrived;
    bool released = false;
  };
  struct WatcherModel {
    std::int64_t position = 0;  // every revision up to here seen
    std::vector<rsm::WatchEvent> pending;
  };

  void Fail(std::string_view rule, std::string details);

  std::map<std::int64_t, LeaseModel> leases_;
  std::map<std::string, LockModel> locks_;
  std::map<std::string, BarrierModel> barriers_;
  std::map<std::int64_t, std::vector<rsm::WatchEvent>> committed_events_;
  std::map<std::string, WatcherModel> watchers_;
  // Revisions up to here came from a resync: their events are unknown.
  std::int64_t unjudged_through_ = 0;
  std::optional<CoordViolation> violation_;
  CoordStats stats_;
};

// Applies committed entries in order to a reference state machine and reports
// the facts to the checker. The reference runs with the replicas' options
// (their testing bugs too: it must hold what they hold).
class CoordLogObserver {
 public:
  CoordLogObserver(rsm::KvOptions kv, rsm::LeaseOptions leases,
                   rsm::CoordinationOptions coordination, CoordHistoryChecker* checker);

  // REQUIRES: entry.index == observed_index() + 1.
  void Observe(const raft::Entry& entry);
  std::uint64_t observed_index() const { return observed_index_; }
  // Goes on from `replica` (applied past observed_index()) when the entries
  // between are in no log any more; see CoordHistoryChecker::Resync.
  void ResyncFrom(const rsm::StateMachine& replica);
  const rsm::StateMachine& reference() const { return reference_; }

 private:
  void ReportLease(std::uint64_t index, const rsm::LeaseCommand& command,
                   const rsm::LeaseReply& reply);
  void ReportLock(std::uint64_t index, const rsm::LockCommand& command,
                  const rsm::LockReply& reply);
  void ReportFencedWrite(std::uint64_t index, const rsm::KvRequest& request,
                         const rsm::Response& response);
  void ReportLockChanges(std::uint64_t index);
  void ReportBarrierChanges(std::uint64_t index, const std::map<std::string, rsm::Barrier>& before);

  rsm::StateMachine reference_;
  CoordHistoryChecker* const checker_;
  std::uint64_t observed_index_ = 0;
  // The holder each lock had after the last entry (owner, token).
  std::map<std::string, std::pair<std::string, std::uint64_t>> holders_;
};

}  // namespace tri::sim
