#pragma once

// What the MVCC store asks about leases, and tells about them. The state
// machine's lease table implements it; a store without one refuses every lease
// id (etcd's "requested lease not found").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rsm/kv_error.h"

namespace tri::rsm {

class LeaseHook {
 public:
  virtual ~LeaseHook() = default;
  // Whether `key` may be attached to lease `lease` (non-zero) now: nullopt, or
  // the error the write fails with (the lease does not exist, or is full).
  virtual std::optional<KvError> CheckAttach(std::int64_t lease, std::string_view key) const = 0;
  // A live key's lease changed: a put with another lease (0 for none), or the key
  // was deleted (new_lease 0). Called only when old_lease != new_lease.
  virtual void OnKeyLeaseChanged(const std::string& key, std::int64_t old_lease,
                                 std::int64_t new_lease) = 0;
};

}  // namespace tri::rsm
