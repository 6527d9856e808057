#pragma once

// Keys under "__trinity/" belong to Trinity's own replicated state: the state
// machine mirrors decisions into them (today the holders' fencing tokens of
// native locks, rsm/lock_table.h) so that clients can fence plain KV writes with
// an ordinary etcd Txn compare. Clients may read them; a client put of such a
// key or a delete whose range starts in the prefix (also inside a txn) is
// refused by the stateless checks (rsm/kv_validate.h), and a wider client delete
// leaves them alone (MvccStore::DeleteRange). Only the state machine writes
// them, through MvccStore::WriteReserved.

#include <optional>
#include <string>
#include <string_view>

#include "rsm/kv_error.h"

namespace tri::rsm {

inline constexpr std::string_view kReservedPrefix = "__trinity/";

// One write of a reserved key: a put of `value`, or a delete when it is empty.
struct ReservedWrite {
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const ReservedWrite&, const ReservedWrite&) = default;
};

inline bool IsReservedKey(std::string_view key) {
  return key.starts_with(kReservedPrefix);
}

// InvalidArgument naming the key (or the range's first key and its end), cut
// to a readable length, and the prefix: a client write refused because it
// would touch a reserved key.
KvError ErrReservedKey(std::string_view key, std::string_view range_end = {});

}  // namespace tri::rsm
