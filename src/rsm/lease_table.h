#pragma once

// The replicated lease table (docs/coordination.md, "Leases"): etcd v3.4's
// lessor as a pure core. Every decision is made when a committed entry is
// applied, with the entry's log time (StateMachine::time_ms), never a clock:
// a lease granted or kept alive at log time t expires at t + TTL, and only an
// Expire entry whose log time has reached that expiry revokes it.
//
// The table also knows which live keys are attached to each lease: the store
// reports every change through LeaseHook. The key sets are not in snapshots;
// Restore recomputes them from the store (AttachKeys).
//
// Costs, with n leases: Grant, Renew, Remove, Find O(log n) (+ keys for
// Remove); ExpiredBy O(log n + returned); Promote O(n log n).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "rsm/kv_error.h"
#include "rsm/lease_hook.h"

namespace tri::rsm {

// etcd's MaxLeaseTTL: 9,000,000,000 seconds.
inline constexpr std::int64_t kMaxLeaseTtlSeconds = 9'000'000'000;

// Every replica must run with the same options: they decide what an entry does.
struct LeaseOptions {
  // A granted TTL below this is raised to it (etcd's minLeaseTTL, ceil(3/2 x
  // election timeout): 2 s for etcd's default 1 s election timeout). The node
  // derives it from its election timeout.
  std::int64_t min_ttl_s = 2;
  // A larger TTL fails with ErrLeaseTtlTooLarge.
  std::int64_t max_ttl_s = kMaxLeaseTtlSeconds;
  // Leases at once; a Grant beyond fails with ErrTooManyLeases.
  std::size_t max_leases = 1'000'000;
  // Keys attached to one lease; a put beyond fails with ErrLeaseFull.
  std::size_t max_keys_per_lease = 1'000'000;
  // Ids in one KeepAlive or Expire command (decoding refuses more).
  std::size_t max_ids_per_command = 10'000;
  // Deliberate bugs for the simulator to catch (docs/simulation-coordination.md);
  // never set outside tests.
  struct TestingBugs {
    // A keep-alive answers the lease's TTL but leaves its expiry where it was,
    // so a lease kept alive within its TTL still expires.
    bool ignore_keep_alives = false;
  };
  TestingBugs testing_bugs;
};

// etcd's lease errors (rpctypes), and the bounds above.
KvError ErrLeaseExist();        // FailedPrecondition "etcdserver: lease already exists"
KvError ErrLeaseTtlTooLarge();  // OutOfRange "etcdserver: too large lease TTL"
KvError ErrTooManyLeases(std::size_t max_leases);                // ResourceExhausted
KvError ErrLeaseFull(std::int64_t lease, std::size_t max_keys);  // ResourceExhausted

struct Lease {
  std::int64_t id = 0;
  std::int64_t ttl_s = 0;                   // granted TTL (after raising to the minimum)
  std::uint64_t expiry_ms = 0;              // log time
  std::set<std::string, std::less<>> keys;  // live keys attached
};

class LeaseTable final : public LeaseHook {
 public:
  explicit LeaseTable(LeaseOptions options = {});

  // A new lease expiring at now_ms + TTL. Fails with ErrLeaseNotFound for id 0
  // (etcd's lessor does the same), ErrLeaseTtlTooLarge, ErrLeaseExist,
  // ErrTooManyLeases. Returns the granted TTL.
  KvOr<std::int64_t> Grant(std::int64_t id, std::int64_t ttl_s, std::uint64_t now_ms);
  // Keep-alive: the lease expires at now_ms + TTL again. nullopt when it does not
  // exist or has expired (expiry <= now_ms: it waits for its Expire entry).
  std::optional<std::int64_t> Renew(std::int64_t id, std::uint64_t now_ms);
  // Every lease: expiry = max(expiry, now_ms + TTL).
  void Promote(std::uint64_t now_ms);
  // Drops the lease record. REQUIRES: it exists and has no keys attached (the
  // state machine deletes them first, which detaches them through the hook).
  void Remove(std::int64_t id);

  const Lease* Find(std::int64_t id) const;
  bool Contains(std::int64_t id) const { return leases_.count(id) != 0; }
  // Leases with expiry <= now_ms, earliest expiry first, at most `max`.
  std::vector<std::int64_t> ExpiredBy(std::uint64_t now_ms, std::size_t max) const;
  // The earliest expiry; UINT64_MAX when there is no lease.
  std::uint64_t next_expiry_ms() const;
  // Every lease, earliest expiry first (etcd's Leases order).
  std::vector<const Lease*> ByExpiry() const;
  std::size_t size() const { return leases_.size(); }
  const LeaseOptions& options() const { return options_; }

  // LeaseHook.
  std::optional<KvError> CheckAttach(std::int64_t lease, std::string_view key) const override;
  void OnKeyLeaseChanged(const std::string& key, std::int64_t old_lease,
                         std::int64_t new_lease) override;

  // Snapshot part: count, then per lease id, ttl_s, expiry_ms (keys are not kept).
  void EncodeTo(std::string& out) const;
  // Checks ids (non-zero, ascending, unique), TTL bounds and the lease count.
  static Result<LeaseTable> DecodeFrom(coding::Decoder& in, const LeaseOptions& options);
  // Attaches the store's live leased keys (key, lease) after a restore; fails
  // naming the first key whose lease does not exist.
  Status AttachKeys(const std::vector<std::pair<std::string, std::int64_t>>& leased_keys);

 private:
  void SetExpiry(Lease& lease, std::uint64_t expiry_ms);

  LeaseOptions options_;
  std::map<std::int64_t, Lease> leases_;
  std::set<std::pair<std::uint64_t, std::int64_t>> by_expiry_;  // (expiry_ms, id)
};

}  // namespace tri::rsm
