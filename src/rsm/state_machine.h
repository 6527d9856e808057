#pragma once

// The replicated state machine: applies committed log entries (rsm/command.h
// envelopes) in log order to the MVCC store, and snapshots, restores and hashes
// the whole state (docs/rsm.md). A pure core, single-threaded: the node calls it
// from its apply thread and serves reads from the same thread (or a copy).
//
// Determinism: the result of Apply depends only on the state, the entry and the
// options, so every replica with the same options reaches the same state at the
// same applied index (StateHash() compares them).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "rsm/barrier_codec.h"
#include "rsm/barrier_table.h"
#include "rsm/command.h"
#include "rsm/kv_error.h"
#include "rsm/kv_options.h"
#include "rsm/kv_types.h"
#include "rsm/lease_codec.h"
#include "rsm/lease_table.h"
#include "rsm/lock_codec.h"
#include "rsm/lock_table.h"
#include "rsm/mvcc_store.h"
#include "rsm/parallel_apply.h"
#include "rsm/saga_codec.h"
#include "rsm/saga_table.h"

namespace tri::rsm {

// Snapshot body header: magic, then a fixed32 format version.
inline constexpr std::string_view kStateSnapshotMagic = "TRIRSMSS";
// Version 2 adds the saga table after the store, version 3 the lease, lock and
// barrier tables after the sagas; versions 1 (no sagas) and 2 (no coordination
// tables) are still read.
inline constexpr std::uint32_t kStateSnapshotVersion = 3;

// What applying one entry answers, for the node to hand to the waiting client.
struct Applied {
  std::uint64_t index = 0;
  // The envelope's request_id; 0 when the envelope itself did not decode.
  std::uint64_t request_id = 0;
  // The store's revision after the entry (whatever the outcome).
  std::int64_t revision = 0;
  // The response, or the etcd error (with its gRPC code). An entry that does not
  // decode, is too large, or has an unknown kind is an error here, never a crash.
  KvOr<Response> result;
  // Saga commands: their answer when `result` is ok (`result` then holds an
  // empty response that means nothing).
  std::optional<SagaReply> saga;
  // Lease, lock and barrier commands: their answer when `result` is ok (as for
  // sagas).
  std::optional<LeaseReply> lease;
  std::optional<LockReply> lock;
  std::optional<BarrierReply> barrier;
};

// The bounds of the native coordination tables (every replica runs with the same).
struct CoordinationOptions {
  LockOptions locks;
  BarrierOptions barriers;
};

class StateMachine {
 public:
  explicit StateMachine(KvOptions options = {}, SagaOptions saga_options = {},
                        LeaseOptions lease_options = {},
                        CoordinationOptions coordination_options = {});
  // The store holds a pointer to this object's lease table: a moved state
  // machine points its store at its own table again.
  StateMachine(StateMachine&& other) noexcept;
  StateMachine& operator=(StateMachine&& other) noexcept;

  // Applies the committed entry at `index`. REQUIRES: index > applied_index()
  // (gaps are allowed: the node does not pass entries without a command, such
  // as the leader's empty entry or membership changes).
  Applied Apply(std::uint64_t index, std::string_view data);

  // Applies `entries` (in increasing index order) and answers what Apply on
  // each in turn answers, one Applied per entry, leaving the same state: runs
  // of KV entries go through options.executor (rsm/parallel_apply.h).
  std::vector<Applied> ApplyBatch(std::span<const BatchEntry> entries,
                                  const ParallelApplyOptions& options);

  std::uint64_t applied_index() const { return applied_index_; }
  // max(timestamp_ms) over the applied commands: the replicated clock.
  std::uint64_t time_ms() const { return time_ms_; }

  // Reads outside the log (serializable reads, or linearizable ones after a
  // ReadIndex): exactly what a Range entry applied now would answer.
  KvOr<RangeResponse> Range(const RangeRequest& request) const { return store_.Range(request); }
  KvOr<HashKVResponse> HashKV(std::int64_t revision) const { return store_.HashKV(revision); }

  // 64-bit FNV-1a of Snapshot(): equal on replicas at the same applied index.
  std::uint64_t StateHash() const;

  // The whole state, versioned (docs/rsm.md). Integrity (a checksum) is the
  // snapshot file's job (wal::SnapshotStore); this body is validated on Restore.
  std::string Snapshot() const;
  // Replaces the state with a snapshot's. On error the state is unchanged and the
  // status (InvalidArgument) names what is wrong and where.
  Status Restore(std::string_view snapshot);

  const MvccStore& store() const { return store_; }
  const SagaTable& sagas() const { return sagas_; }
  const LeaseTable& leases() const { return leases_; }
  const LockTable& locks() const { return locks_; }
  const BarrierTable& barriers() const { return barriers_; }
  // Observation of the saga table (not replicated state): see SagaTable.
  std::vector<std::string> TakeChangedSagas() { return sagas_.TakeChanged(); }
  std::vector<SagaSweepRecord> TakeSweptSagas() { return sagas_.TakeSwept(); }
  // Locks and barriers that changed since the last call (for the node to wake
  // the clients waiting on them): see LockTable and BarrierTable.
  std::vector<std::string> TakeChangedLocks() { return locks_.TakeChanged(); }
  std::vector<std::string> TakeChangedBarriers() { return barriers_.TakeChanged(); }
  const KvOptions& options() const { return options_; }

  // Watch events applied since the last take (rsm/watch_event.h); not replicated
  // state. `dropped` means the buffer overflowed: read the gap from history.
  TakenEvents TakeEvents() { return store_.TakeEvents(); }
  // Bumped by every successful Restore: the state was replaced wholesale, so
  // events may be missing from the buffer (a watcher re-reads from history).
  std::uint64_t restore_epoch() const { return restore_epoch_; }
  // For a state machine restored to replace `previous` (a snapshot install):
  // its epoch moves past the previous one's, so a watcher that saw that epoch
  // notices the replacement (a fresh state machine restored once would
  // otherwise show the same epoch as the one it replaces).
  void ContinueRestoreEpochFrom(const StateMachine& previous) {
    restore_epoch_ = std::max(restore_epoch_, previous.restore_epoch_ + 1);
  }

 private:
  struct ParsedKv;
  // Apply after the envelope decoded. `kv`: the payload already decoded (a
  // kKv command within max_request_bytes); `txn_path`: for a TxnRequest that
  // passed ValidateTxn, its compares' answers on the current state (see
  // MvccStore::TxnOnPath).
  Applied ApplyCommand(std::uint64_t index, const Command& command, const KvRequest* kv,
                       const std::vector<bool>* txn_path);
  KvOr<Response> ApplyKv(std::uint64_t index, std::string_view payload);
  KvOr<Response> ApplyKvRequest(const KvRequest& request, const std::vector<bool>* txn_path);
  // ApplyBatch's pieces (parallel_apply.cc).
  std::optional<ParsedKv> ParseEligible(const BatchEntry& entry) const;
  void ApplyRun(std::vector<ParsedKv>& run, const ParallelApplyOptions& options,
                std::vector<Applied>& out);
  KvOr<Response> ApplyAlarm(std::uint64_t index, std::string_view payload);
  KvOr<Response> ApplySaga(std::uint64_t index, std::string_view payload,
                           std::optional<SagaReply>& reply);
  KvOr<Response> ApplyLease(std::uint64_t index, std::string_view payload,
                            std::optional<LeaseReply>& reply);
  KvOr<Response> ApplyLock(std::uint64_t index, std::string_view payload,
                           std::optional<LockReply>& reply);
  KvOr<Response> ApplyBarrier(std::uint64_t index, std::string_view payload,
                              std::optional<BarrierReply>& reply);
  // The one way a lease ends (revoke, expiry) at entry `index`: deletes every
  // key attached to `ids` and ends the lock holds and waits under them (the
  // fence keys of the locks that change hands are written), all in one revision
  // (none when nothing changes), then drops the leases.
  // REQUIRES: each id exists, none repeated.
  void RevokeLeases(std::uint64_t index, const std::vector<std::int64_t>& ids);
  // After a restore: every lock's lease exists and the store's fence keys are
  // exactly the lock table's.
  static Status CheckCoordination(const MvccStore& store, const LeaseTable& leases,
                                  const LockTable& locks);

  KvOptions options_;
  MvccStore store_;
  SagaTable sagas_;
  LeaseTable leases_;
  LockTable locks_;
  BarrierTable barriers_;
  std::uint64_t applied_index_ = 0;
  std::uint64_t time_ms_ = 0;
  std::uint64_t restore_epoch_ = 0;
};

}  // namespace tri::rsm
