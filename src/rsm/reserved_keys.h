#pragma once

// Keys under "__trinity/" belong to Trinity's own replicated state: the state
// machine mirrors decisions into them (today the holders' fencing tokens of
// native locks, rsm/lock_table.h) so that clients can fence plain KV writes with
// an ordinary etcd Txn compare. Clients may read them; every client write that
// could touch one (a put of such a key, a delete whose range includes one, also
// inside a txn) is refused by the stateless checks (rsm/kv_validate.h). Only the
// state machine writes them, through MvccStore::WriteReserved.

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

// Whether etcd's range [key, range_end) can contain a reserved key. range_end
// empty: the single key; "\0": every key from `key` on; otherwise up to
// range_end, exclusive (an empty interval when range_end <= key).
bool RangeTouchesReserved(std::string_view key, std::string_view range_end);

// InvalidArgument naming the key (or the range's first key and its end), cut
// to a readable length, and the prefix: a client write refused because it
// would touch a reserved key.
KvError ErrReservedKey(std::string_view key, std::string_view range_end = {});

}  // namespace tri::rsm
