#pragma once

// The replicated table of native fenced locks (docs/coordination.md, "Locks"),
// driven by committed lock commands (rsm/lock_codec.h) and by lease revocation.
// A pure core: every replica applies the same entries in log order and holds the
// same table.
//
// Per lock name: one holder (owner, fencing token, hold count, lease) and a FIFO
// queue of waiters (owner, lease). A lock with no holder has no waiters either
// (a freed lock passes to its first waiter at once), and a lock with neither is
// removed, so every lock in the table has a holder.
//
// Fencing token: the log index of the entry that granted the hold. Log indexes
// only grow, so tokens strictly increase per lock across holders, leader changes
// and restarts with no counter to keep. The state machine mirrors the holder's
// token into the KV key LockFenceKey(name) (decimal text; deleted when the lock
// is free) in the same entry, from LockReply::fence_writes and the result of
// OnLeasesRevoked; a holder fences a KV write with the Txn compare
// value(LockFenceKey(name)) == "<token>", which a holder whose hold has ended
// (lease expired, lock handed over) fails.
//
// Costs: n locks (<= max_locks), w waiters of one lock (<= max_waiters_per_lock):
// Acquire, Release, CancelWait O(log n + w); OnLeasesRevoked O(n * w * r) for r leases.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "rsm/kv_error.h"
#include "rsm/lock_codec.h"
#include "rsm/reserved_keys.h"

namespace tri::rsm {

// Every bound is checked when a command applies (a clear error, nothing changed)
// and when a snapshot is read. Every replica must run with the same options.
struct LockOptions {
  // Locks with a holder; an Acquire that would add one more fails.
  std::uint32_t max_locks = 256;
  // Waiters queued on one lock.
  std::uint32_t max_waiters_per_lock = 64;
  std::uint32_t max_name_bytes = 256;
  std::uint32_t max_owner_bytes = 256;
  // Re-entrant acquires of one holder not yet released.
  std::uint32_t max_hold_count = 1'000'000;
  // Deliberate bugs for the simulator to catch (docs/simulation-coordination.md);
  // never set outside tests.
  struct TestingBugs {
    // A freed lock passes to the last waiter in its queue instead of the first.
    bool grant_to_last_waiter = false;
    // A lock passed to a waiter keeps the previous holder's token in its
    // fence key, so the old holder's fenced writes still succeed.
    bool stale_fence_on_handover = false;
  };
  TestingBugs testing_bugs;
};

struct LockHolder {
  std::string owner;
  std::uint64_t token = 0;  // the log index of the granting entry
  std::uint32_t hold_count = 0;
  std::int64_t lease = 0;  // 0 = none: the hold ends only by Release
  friend bool operator==(const LockHolder&, const LockHolder&) = default;
};

struct LockWaiter {
  std::string owner;
  std::int64_t lease = 0;
  friend bool operator==(const LockWaiter&, const LockWaiter&) = default;
};

struct LockEntry {
  LockHolder holder;
  std::deque<LockWaiter> waiters;  // front = next holder
  friend bool operator==(const LockEntry&, const LockEntry&) = default;
};

// "__trinity/locks/<name>": where the state machine mirrors the holder's token.
std::string LockFenceKey(std::string_view name);

class LockTable {
 public:
  // Whether a lease exists now (the state machine's lease table answers).
  using LeaseExists = std::function<bool(std::int64_t lease)>;

  explicit LockTable(LockOptions options = {});

  // Applies a decoded lock command committed at `index`. REQUIRES: `index`
  // above every index applied before (log order). An acquire with a lease that
  // does not exist fails with etcd's ErrLeaseNotFound. Errors (the lock and
  // owner named) leave the table unchanged.
  KvOr<LockReply> Apply(std::uint64_t index, const LockCommand& command,
                        const LeaseExists& lease_exists);

  // The leases `leases` were revoked (or expired) together by the entry at
  // `index` (pass all of one entry's leases in one call): every waiter under
  // one of them leaves its queue, then every hold under one of them ends
  // whatever its hold count (the lock passes to its first remaining waiter with
  // token `index`, or is freed). Answers the mirror writes to make in that
  // entry's revision, at most one per lock. REQUIRES: no lease 0, index as for
  // Apply.
  std::vector<ReservedWrite> OnLeasesRevoked(const std::vector<std::int64_t>& leases,
                                             std::uint64_t index);

  // --- reads ---------------------------------------------------------------
  const LockEntry* Find(std::string_view name) const;
  const std::map<std::string, LockEntry, std::less<>>& locks() const { return locks_; }
  // 1-based place of `owner` in the queue of `name`; nullopt when not queued.
  std::optional<std::uint32_t> QueuePosition(std::string_view name, std::string_view owner) const;
  // The mirror keys the store must hold: one put per lock, in name order (for
  // the state machine to check after a restore).
  std::vector<ReservedWrite> FenceState() const;

  // --- observation (not replicated state) -----------------------------------
  // Locks whose holder or queue changed since the last call, each once, in the
  // order of their first change (for the node to wake waiting clients).
  std::vector<std::string> TakeChanged();

  // --- snapshots -------------------------------------------------------------
  void EncodeTo(std::string& out) const;
  // Checks every invariant above and every bound of `options`; a token must
  // not exceed `applied_index` (the snapshot's). Errors name the lock and owner.
  static Result<LockTable> DecodeFrom(coding::Decoder& in, const LockOptions& options,
                                      std::uint64_t applied_index);

  const LockOptions& options() const { return options_; }

 private:
  KvOr<LockReply> Acquire(std::uint64_t index, const LockAcquireCommand& c,
                          const LeaseExists& lease_exists);
  KvOr<LockReply> Release(std::uint64_t index, const LockReleaseCommand& c);
  KvOr<LockReply> CancelWait(const LockCancelWaitCommand& c);
  std::optional<KvError> CheckNameAndOwner(std::string_view name, std::string_view owner) const;
  // The holder of `it` is gone: the first waiter takes the lock with token
  // `index`, or the lock is removed. Appends the mirror write.
  void PassOn(std::map<std::string, LockEntry, std::less<>>::iterator it, std::uint64_t index,
              std::vector<ReservedWrite>& fence_writes);
  void MarkChanged(const std::string& name);

  LockOptions options_;
  std::map<std::string, LockEntry, std::less<>> locks_;

  std::vector<std::string> changed_;
  std::set<std::string, std::less<>> changed_set_;
};

}  // namespace tri::rsm
