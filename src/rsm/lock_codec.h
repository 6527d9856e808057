#pragma once

// Native lock commands in the replicated log (payload of CommandKind::kLock),
// and what applying one answers. Layout (base/coding.h): operation (fixed8),
// then per operation:
//   1 acquire      name, owner (length-prefixed), lease id (varint64 of the int64)
//   2 release      name, owner
//   3 cancel wait  name, owner
// and nothing after it. Lease revocation is not a lock command: the state
// machine calls LockTable::OnLeasesRevoked from its one revoke path.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "rsm/reserved_keys.h"

namespace tri::rsm {

// Take the lock `name` for `owner`, or queue behind its holder. `lease` (0 =
// none) bounds the hold and the wait: when it is revoked both end.
struct LockAcquireCommand {
  std::string name;
  std::string owner;
  std::int64_t lease = 0;
  friend bool operator==(const LockAcquireCommand&, const LockAcquireCommand&) = default;
};

// Undo one Acquire of the holder `owner`; at hold count 0 the lock passes on.
struct LockReleaseCommand {
  std::string name;
  std::string owner;
  friend bool operator==(const LockReleaseCommand&, const LockReleaseCommand&) = default;
};

// `owner`'s wait timed out on its server: leave the queue.
struct LockCancelWaitCommand {
  std::string name;
  std::string owner;
  friend bool operator==(const LockCancelWaitCommand&, const LockCancelWaitCommand&) = default;
};

using LockCommand = std::variant<LockAcquireCommand, LockReleaseCommand, LockCancelWaitCommand>;

// Decoding bounds: a name or owner longer than this is refused before the table
// sees it (the table's own, smaller bounds give the clearer error).
struct LockDecodeLimits {
  std::uint64_t max_field_bytes = 64 * 1024;
};

std::string EncodeLockCommand(const LockCommand& command);
// InvalidArgument naming the field and byte offset on truncation, an unknown
// operation, a field above its bound, or trailing bytes.
Result<LockCommand> DecodeLockCommand(std::string_view bytes, const LockDecodeLimits& limits = {});

// What applying a lock command answers (on success; errors are KvErrors).
struct LockReply {
  enum class Outcome : std::uint8_t {
    kGranted = 1,    // acquire: the caller holds the lock (new, or re-entrant)
    kQueued = 2,     // acquire: the caller waits at `position`
    kReleased = 3,   // release: one hold undone (`hold_count` left; 0 = let go)
    kCancelled = 4,  // cancel wait: the caller left the queue
    kHeld = 5,       // cancel wait: too late, the lock was granted meanwhile:
                     // the caller holds it (`token`) and must release it
  };
  Outcome outcome = Outcome::kGranted;
  // kGranted, kHeld: the holder's fencing token and hold count.
  // kReleased: the caller's hold count left.
  std::uint64_t token = 0;
  std::uint32_t hold_count = 0;
  // kQueued: 1 = next in line.
  std::uint32_t position = 0;
  // The mirror writes of the holder's token (rsm/reserved_keys.h) the state
  // machine must make in this entry's revision, in order; empty when the holder
  // and its token did not change (a re-entrant grant, a queued acquire).
  std::vector<ReservedWrite> fence_writes;
};

}  // namespace tri::rsm
