#pragma once

// Stateless request checks, exactly etcd v3.4's kvServer checks
// (etcdserver/api/v3rpc/key.go): empty keys, ignore_value/ignore_lease with a
// value/lease, too many txn ops, duplicate keys in a txn, plus the key-size and
// txn-depth bounds; and one of Trinity's: no put or delete may touch a key under
// the reserved prefix "__trinity/" (rsm/reserved_keys.h), also inside a txn.
// The API runs them before proposing (to fail fast); the store runs them again
// when applying, so a committed entry is judged the same way on every replica.
//
// Duplicate keys: etcd's checkIntervals, plus one case it misses (a put in an
// earlier nested txn overlapped by a delete in a later sibling), which etcd 3.4
// lets through and then panics on while applying; here it is refused with the
// same "duplicate key" error. Result: within one txn each key is written at most
// once, which the store asserts.

#include <optional>

#include "rsm/kv_error.h"
#include "rsm/kv_options.h"
#include "rsm/kv_types.h"

namespace tri::rsm {

std::optional<KvError> ValidateRange(const RangeRequest& r, const KvOptions& options);
std::optional<KvError> ValidatePut(const PutRequest& r, const KvOptions& options);
std::optional<KvError> ValidateDeleteRange(const DeleteRangeRequest& r, const KvOptions& options);
std::optional<KvError> ValidateTxn(const TxnRequest& r, const KvOptions& options);
// Dispatches on the alternative; compaction requests have nothing to check here.
std::optional<KvError> ValidateKvRequest(const KvRequest& r, const KvOptions& options);

}  // namespace tri::rsm
