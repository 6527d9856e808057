#pragma once

// Bounds of the key-value state machine. Every replica must run with the same
// options: they decide what a committed entry does (docs/rsm.md, "Bounds").

#include <cstdint>

#include "rsm/watch_event.h"

namespace tri::rsm {

// Bytes charged to the quota for every kept revision on top of its key and
// value: the index entry, the revision numbers and the allocator's share.
inline constexpr std::uint64_t kRevisionOverheadBytes = 64;

struct KvOptions {
  // Largest command payload applied (etcd's --max-request-bytes, default 1.5 MiB);
  // larger ones fail with "etcdserver: request is too large".
  std::uint64_t max_request_bytes = 1536 * 1024;
  // Most operations in one txn level: max(len(compare), len(success),
  // len(failure)) (etcd's --max-txn-ops, default 128).
  std::uint64_t max_txn_ops = 128;
  // Longest key or range_end. etcd bounds keys only through the request size; we
  // name the same bound and the same error ("etcdserver: request is too large").
  std::uint64_t max_key_bytes = 1536 * 1024;
  // State budget (etcd's --quota-backend-bytes, default 2 GiB): key + value +
  // kRevisionOverheadBytes for every kept revision, tombstones included.
  std::uint64_t quota_bytes = std::uint64_t{2} << 30;
  // Deepest TxnRequest nesting a decoded command may have.
  int max_txn_depth = 64;
  // Bounds of the live watch event buffer (observation only: replicas may differ).
  WatchEventBufferOptions watch_events;
};

}  // namespace tri::rsm
