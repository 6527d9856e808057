#pragma once

// etcd's compareKV: whether one Compare holds for one key's state. Shared by
// the store (MvccStore::Txn) and the parallel apply's model of it
// (rsm/parallel_apply.h), so both judge a compare by the same code.

#include "rsm/kv_types.h"

namespace tri::rsm {

// `kv` is the key's state, or nullptr when the key does not exist: then a
// VALUE compare fails and the other targets compare against zero (etcd).
bool CompareHolds(const Compare& compare, const KeyValue* kv);

}  // namespace tri::rsm
