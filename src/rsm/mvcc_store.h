#pragma once

// The multi-version key-value store with etcd v3.4 semantics (docs/rsm.md, "KV
// semantics"). A pure core: no I/O, no clock, no threads. Single-threaded; the
// state machine owns it and applies committed entries in log order.
//
// Revisions: the store starts at revision 1 (as etcd). Every write request (a
// Put, a DeleteRange that deletes something, a Txn whose executed branch writes)
// takes the next revision once, however many keys it writes; a request that
// changes nothing leaves the revision alone. Within one revision each write gets
// a sub-revision in execution order, and each key is written at most once
// (kv_validate.h), which the store asserts.
//
// Data structure: an ordered map key -> that key's kept revisions, ascending.
// With n keys in the map, m keys in a requested range, h revisions kept for a
// key, and R revisions kept in all:
//   Range            O(log n + m log h)   (+ m log m when sorting)
//   Put              O(log n)             amortized
//   DeleteRange      O(log n + m log h)
//   Txn              the sum of its operations and compares
//   Compact          O(n + dropped revisions)
//   HashKV, Encode   O(R)
//
// Quota: used_bytes() is the sum, over kept revisions (tombstones included), of
// key size + value size + kRevisionOverheadBytes. A request whose puts would take
// it past options.quota_bytes is refused with ErrNoSpace and raises the NOSPACE
// alarm; while the alarm is raised every request with a put is refused the same
// way. Deletes, reads and compaction are never refused by the quota (etcd
// allows them too: delete then compact is how space is freed).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "rsm/kv_error.h"
#include "rsm/kv_options.h"
#include "rsm/kv_types.h"
#include "rsm/lease_hook.h"
#include "rsm/reserved_keys.h"
#include "rsm/watch_event.h"

namespace tri::rsm {

class MvccStore {
 public:
  explicit MvccStore(KvOptions options = {});

  // Reads at request.revision (<= 0: current). Fails with ErrFutureRev above the
  // current revision and ErrCompacted below the compact revision (reading at the
  // compact revision itself works, as in etcd).
  KvOr<RangeResponse> Range(const RangeRequest& request) const;

  KvOr<PutResponse> Put(const PutRequest& request);
  KvOr<DeleteRangeResponse> DeleteRange(const DeleteRangeRequest& request);
  // Compares and nested-txn branch choices are all evaluated on the state before
  // the txn; reads inside the txn see the txn's earlier writes. Every check
  // (validation, ignore_value on a missing key, range revisions, quota) is made
  // before the first write, so a failed txn changes nothing.
  KvOr<TxnResponse> Txn(const TxnRequest& request);
  // Txn after its checks and branch choices: `path` is what the txn's compares
  // answer on the current state (one bool per txn level that runs, depth
  // first, as Txn computes it), found by someone else (the parallel apply,
  // rsm/parallel_apply.h). REQUIRES: ValidateTxn passed and `path` is exactly
  // that; the rest (puts' key and lease checks, range revisions, quota) is
  // checked here as Txn does.
  KvOr<TxnResponse> TxnOnPath(const TxnRequest& request, const std::vector<bool>& path);
  // Drops history below `revision`: reads at revisions >= it answer as before.
  // ErrCompacted when revision <= compact_revision(), ErrFutureRev when above
  // current_revision().
  KvOr<CompactionResponse> Compact(const CompactionRequest& request);

  // etcd's HashKV (revision <= 0: current); errors as etcd's HashByRev.
  KvOr<HashKVResponse> HashKV(std::int64_t revision) const;

  // NOSPACE alarm (etcd's Alarm RPC for that alarm type; CORRUPT is unimplemented).
  // DEACTIVATE fails with ErrNoSpace, leaving the alarm raised, while used_bytes()
  // is still above the quota.
  KvOr<AlarmResponse> Alarm(const AlarmRequest& request);

  // Leases: a put with a lease asks `hook` whether it may attach; every change of
  // a live key's lease (put, delete) is reported to it. Not owned; nullptr (the
  // default) refuses every lease id. Not part of the state or of snapshots.
  void set_lease_hook(LeaseHook* hook) { lease_hook_ = hook; }
  // Tombstones the live keys among `keys` and makes the `reserved` writes (as
  // WriteReserved), all in one revision (none when nothing changes); returns how
  // many keys were deleted. For lease revocation, whose fence-key writes of the
  // locks it ends go in the same revision; never refused by the quota.
  std::int64_t DeleteKeys(const std::vector<std::string>& keys,
                          const std::vector<ReservedWrite>& reserved = {});
  // The key's live state at the current revision, or nullopt when it does not
  // exist. Safe to call from several threads while nothing writes.
  std::optional<KeyValue> Current(std::string_view key) const;
  // Every live key with a lease, (key, lease) in key order.
  std::vector<std::pair<std::string, std::int64_t>> LeasedKeys() const;
  // The state machine's own writes of keys under kReservedPrefix (which client
  // requests may not write): all of `writes` in one revision, in order, with no
  // lease; a delete of a missing key is skipped, and nothing changed takes no
  // revision. Never refused, not even by the quota or its alarm: these writes
  // mirror a decision the state machine has already applied. REQUIRES: every key
  // reserved, each key at most once.
  void WriteReserved(const std::vector<ReservedWrite>& writes);
  // Watch events (rsm/watch_event.h): every write records one event per key in
  // the live buffer; TakeEvents empties it. Events answers the same events from
  // the kept history: ErrCompacted when from_revision < compact_revision() (the
  // compact revision itself can still be watched, as in etcd), ErrFutureRev when
  // to_revision > current_revision().
  TakenEvents TakeEvents() { return events_.Take(); }
  KvOr<EventsPage> Events(const EventsQuery& query) const;

  std::int64_t current_revision() const { return current_revision_; }
  std::int64_t compact_revision() const { return compact_revision_; }
  std::uint64_t used_bytes() const { return used_bytes_; }
  bool nospace_alarm() const { return nospace_alarm_; }
  std::size_t key_count() const { return index_.size(); }
  const KvOptions& options() const { return options_; }

  // The store's part of a snapshot (docs/rsm.md, "Snapshot format").
  void EncodeTo(std::string& out) const;
  // Reads what EncodeTo wrote and checks every invariant the store relies on; on
  // error names the key and revision that is wrong.
  static Result<MvccStore> DecodeFrom(coding::Decoder& in, const KvOptions& options);

 private:
  // One write of one key.
  struct KeyRevision {
    std::int64_t main = 0;
    std::int64_t sub = 0;
    bool tombstone = false;
    std::int64_t create_revision = 0;  // 0 for a tombstone
    std::int64_t version = 0;          // 0 for a tombstone
    std::int64_t lease = 0;
    std::string value;
  };
  using History = std::vector<KeyRevision>;
  using Index = std::map<std::string, History, std::less<>>;

  class WriteTxn;
  // The body of WriteReserved, for any write txn of the state machine's own
  // (lease revocation makes its key deletes and the locks' mirror writes in
  // one revision with it).
  static void AddReservedWrites(WriteTxn& write, const std::vector<ReservedWrite>& writes);

  // The revision of `history` visible at `revision`, or nullptr when the key did
  // not exist then.
  static const KeyRevision* VisibleAt(const History& history, std::int64_t revision);
  static KeyValue ToKeyValue(const std::string& key, const KeyRevision& r);
  // What a delete event reports: the key and the delete's revision only.
  static KeyValue TombstoneKeyValue(const std::string& key, std::int64_t revision);
  static std::uint64_t RevisionBytes(std::string_view key, const KeyRevision& r);

  // One key's visible revision, by pointer into the index.
  struct Hit {
    const std::string* key;
    const KeyRevision* revision;
  };
  // Keys of [key, range_end) live at `revision`, in key order.
  std::vector<Hit> LiveHits(const std::string& key, const std::string& range_end,
                            std::int64_t revision) const;
  // Range at `read_revision` (the current revision, or the txn's own inside a
  // write txn), which also goes into the header. REQUIRES: the request's own
  // revision passed CheckRangeRevision.
  RangeResponse RangeAt(const RangeRequest& request, std::int64_t read_revision) const;
  std::optional<KvError> CheckRangeRevision(std::int64_t revision) const;
  // Quota: refuses (and raises the alarm) when `put_bytes` more would not fit.
  std::optional<KvError> ReserveQuota(std::uint64_t put_bytes);
  std::uint64_t PutCost(const PutRequest& request) const;
  // Whether a put may attach `key` to `lease` (0: no lease, always).
  std::optional<KvError> CheckLease(std::int64_t lease, std::string_view key) const;
  bool EvaluateCompare(const Compare& compare) const;
  void ComputePath(const TxnRequest& txn, std::vector<bool>& path) const;
  // One of etcd's checkRequests passes over the ops the path will run:
  // puts (ignore_* on a missing key, leases, quota bytes) or ranges (revisions).
  std::optional<KvError> CheckPath(const TxnRequest& txn, const std::vector<bool>& path,
                                   std::size_t& at, bool puts_pass, std::uint64_t& put_bytes) const;
  TxnResponse ExecuteTxn(WriteTxn& write, const TxnRequest& txn, const std::vector<bool>& path,
                         std::size_t& at);

  KvOptions options_;
  Index index_;
  std::int64_t current_revision_ = 1;
  std::int64_t compact_revision_ = 0;  // 0: never compacted
  std::uint64_t used_bytes_ = 0;
  bool nospace_alarm_ = false;
  LeaseHook* lease_hook_ = nullptr;
  WatchEventBuffer events_;  // observation, not replicated state
};

}  // namespace tri::rsm
