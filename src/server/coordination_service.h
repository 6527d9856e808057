#pragma once

// NodeCoordination: the node's side of the native locks and barriers
// (docs/coordination.md, "Locks", "Barriers"), on the loop thread. It proposes
// kLock / kBarrier commands for the gRPC services, keeps the lock acquires that
// wait behind a holder and the barrier Arrive streams, wakes them from the
// tables' change lists after every round (StateMachine::TakeChangedLocks /
// TakeChangedBarriers: every decision was made by a committed entry, this only
// reports it), and runs the leader-only BarrierTimer.
//
// Every method runs on the node's loop thread (inside Node::Post or the loop).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "rsm/barrier_table.h"
#include "rsm/command.h"
#include "rsm/lock_table.h"
#include "server/barrier_timer.h"
#include "server/node_core.h"

namespace tri::server {

class Node;
class NodeLeases;

struct NodeCoordinationOptions {
  // Lock acquires waiting behind a holder on this member; one more is refused
  // with RESOURCE_EXHAUSTED.
  std::size_t max_lock_waits = 4096;
  // Barrier Arrive streams open on this member.
  std::size_t max_barrier_watches = 4096;
  // The lease TTL of an acquire that names neither a TTL nor a lease.
  std::int64_t default_lock_ttl_s = 10;
  // Longest wait an acquire may ask for (1 day).
  std::uint64_t max_lock_wait_ms = 24ull * 3600 * 1000;
};

struct LockAcquireRequest {
  std::string name;
  std::string owner;
  std::int64_t ttl_s = 0;             // > 0: grant a lease of this TTL for the hold
  std::int64_t lease = 0;             // else this existing lease (0 and ttl 0: the default TTL)
  std::uint64_t wait_timeout_ms = 0;  // 0: try-lock
};

struct LockAcquireOutcome {
  bool acquired = false;
  std::uint64_t token = 0;
  std::uint32_t hold_count = 0;
  std::int64_t lease = 0;
  std::uint32_t position = 0;  // not acquired: the place in the queue last seen
};

class NodeCoordination {
 public:
  NodeCoordination(Node& node, NodeLeases& leases, NodeCoordinationOptions options);
  ~NodeCoordination();

  // After every Process(): wakes waiting acquires and Arrive streams whose lock
  // or barrier changed, cancels the waits past their deadline, and runs the
  // barrier timer with `now_ms`.
  void AfterRound(NodeCore& core, std::uint64_t now_ms);
  // When AfterRound wants to run without a new input (UINT64_MAX: never).
  std::uint64_t next_wake_ms() const;
  // A snapshot replaced the tables: its changes are in no change list, so the
  // next AfterRound checks every waiting acquire and Arrive stream.
  void OnSnapshotInstalled() { check_everything_ = true; }
  // The node is stopping: waiting acquires and Arrive streams fail UNAVAILABLE.
  void Stop();

  // Proposes one lock or barrier command; `done` gets the applied entry (its
  // result may be an error) or the failure (no leader, timeout, stopping).
  void Propose(NodeCore& core, rsm::CommandKind kind, std::string payload,
               std::function<void(Status, const rsm::Applied*)> done);

  // Locks.Acquire: grants the lease when asked to, proposes the acquire, and
  // when queued waits for the grant until the wait timeout, then proposes
  // CancelWait (a grant that won the race answers acquired). A lease this call
  // granted is revoked again when the lock was not acquired. `wait_id` (unique,
  // from NewWaitId) lets CancelAcquire find the call.
  void Acquire(NodeCore& core, std::uint64_t wait_id, LockAcquireRequest request,
               std::function<void(Status, const LockAcquireOutcome&)> done);
  // The client went away: a waiting acquire leaves the queue at once and
  // answers CANCELLED; one not yet waiting does so when it would start waiting.
  void CancelAcquire(NodeCore& core, std::uint64_t wait_id);

  // Calls `on_change` with the barrier after every entry that changed it
  // (nullptr: removed) until it returns false; on Stop, once with UNAVAILABLE.
  // Answers the watch id, or RESOURCE_EXHAUSTED.
  using BarrierWatchFn = std::function<bool(Status, const rsm::Barrier*)>;
  Result<std::uint64_t> WatchBarrier(const std::string& name, BarrierWatchFn on_change);
  void Unwatch(std::uint64_t watch_id);

  std::size_t lock_waits() const { return waits_.size(); }
  std::size_t barrier_watches() const { return watches_.size(); }
  const BarrierTimerStats& timer_stats() const { return timer_.stats(); }

 private:
  struct Acquiring;
  struct Wait {
    std::shared_ptr<Acquiring> call;
    std::uint64_t deadline_ms = 0;
  };
  struct Watch {
    std::string name;
    BarrierWatchFn on_change;
  };

  void ProposeAcquire(NodeCore& core, std::shared_ptr<Acquiring> call);
  void StartWait(NodeCore& core, std::shared_ptr<Acquiring> call);
  void CancelWait(NodeCore& core, std::shared_ptr<Acquiring> call, Status if_cancelled);
  void Finish(NodeCore& core, const std::shared_ptr<Acquiring>& call, Status status,
              LockAcquireOutcome outcome);
  void CheckWaits(NodeCore& core, const std::string& name);

  Node& node_;
  NodeLeases& leases_;
  const NodeCoordinationOptions options_;
  NodeCore* core_ = nullptr;  // set by AfterRound and Propose (loop thread)
  std::uint64_t now_ms_ = 0;
  bool stopped_ = false;
  std::mt19937_64 rng_;
  BarrierTimer timer_;

  std::map<std::uint64_t, std::shared_ptr<Acquiring>> calls_;  // by wait id, until answered
  std::map<std::uint64_t, Wait> waits_;                        // by wait id: queued, waiting
  std::set<std::string> recheck_;  // locks whose new waits must be checked this round
  bool check_everything_ = false;  // a snapshot was installed
  std::uint64_t next_watch_id_ = 1;
  std::map<std::uint64_t, Watch> watches_;
};

}  // namespace tri::server
