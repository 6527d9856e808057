#pragma once

// Lease commands (CommandKind::kLease) and what applying one answers
// (docs/coordination.md, "Leases"; docs/rsm.md, "Lease commands").
//
// Payload layout (base/coding.h): op (fixed8), then
//   Grant:     id (varint64, two's complement of the int64), ttl_s (same)
//   Revoke:    id
//   KeepAlive: count (varint64), ids
//   Expire:    count (varint64), ids
//   Promote:   nothing
// and nothing after it.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace tri::rsm {

// etcd's LeaseGrant. `id` is never 0 in a command: the proposing node picks a
// random positive id for a client that left it 0 (as etcd's server does).
struct LeaseGrant {
  std::int64_t id = 0;
  std::int64_t ttl_s = 0;
  friend bool operator==(const LeaseGrant&, const LeaseGrant&) = default;
};
struct LeaseRevoke {
  std::int64_t id = 0;
  friend bool operator==(const LeaseRevoke&, const LeaseRevoke&) = default;
};
// The keep-alives one node received in one loop round, coalesced into one entry.
struct LeaseKeepAlive {
  std::vector<std::int64_t> ids;
  friend bool operator==(const LeaseKeepAlive&, const LeaseKeepAlive&) = default;
};
// The leader's expiry candidates; applying revokes only those whose expiry is
// at or before the entry's log time, so a stale or early Expire is harmless.
struct LeaseExpire {
  std::vector<std::int64_t> ids;
  friend bool operator==(const LeaseExpire&, const LeaseExpire&) = default;
};
// A new leader's first lease entry: every lease gets its full TTL again from
// the log time of this entry (never less than it had).
struct LeasePromote {
  friend bool operator==(const LeasePromote&, const LeasePromote&) = default;
};

using LeaseCommand =
    std::variant<LeaseGrant, LeaseRevoke, LeaseKeepAlive, LeaseExpire, LeasePromote>;

struct LeaseDecodeLimits {
  // Most ids in one KeepAlive or Expire command.
  std::uint64_t max_ids = 10000;
};

std::string EncodeLeaseCommand(const LeaseCommand& command);
// Fails (InvalidArgument naming the field and byte offset) on an unknown op,
// truncation, too many ids, or trailing bytes.
Result<LeaseCommand> DecodeLeaseCommand(std::string_view bytes, const LeaseDecodeLimits& limits);

// One lease's TTL after a keep-alive: 0 when the lease was not found or had
// already expired at the entry's log time (etcd answers a keep-alive of a
// missing lease with TTL 0).
struct LeaseTtl {
  std::int64_t id = 0;
  std::int64_t ttl_s = 0;
  friend bool operator==(const LeaseTtl&, const LeaseTtl&) = default;
};

// What applying a lease command answers (beside Applied::revision).
struct LeaseReply {
  // Grant: the lease and its TTL (raised to the minimum TTL when below it).
  std::int64_t id = 0;
  std::int64_t ttl_s = 0;
  // KeepAlive: one per id, in command order.
  std::vector<LeaseTtl> renewed;
  // Revoke and Expire: the leases revoked, in command order.
  std::vector<std::int64_t> revoked;
  friend bool operator==(const LeaseReply&, const LeaseReply&) = default;
};

}  // namespace tri::rsm
