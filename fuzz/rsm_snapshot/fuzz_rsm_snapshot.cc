// Arbitrary bytes as a state machine snapshot: Restore gives an error and leaves
// the state unchanged, or accepts a state that is a snapshot/restore fixed point
// and that every kind of request can then run on without tripping an assertion
// (so Restore's checks cover every invariant the store relies on).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/state_machine.h"

namespace {

std::string KvEntry(const tri::rsm::KvRequest& request) {
  return tri::rsm::EncodeCommand(
      tri::rsm::Command{tri::rsm::CommandKind::kKv, 1, 0, tri::rsm::EncodeKvRequest(request)});
}

// Runs reads, writes, a txn, compaction and hashes over every key.
void Exercise(tri::rsm::StateMachine& sm) {
  using namespace tri::rsm;  // NOLINT: a .cc file
  const std::string all(1, '\0');
  RangeRequest range;
  range.key = all;
  range.range_end = all;
  range.sort_order = RangeRequest::DESCEND;
  range.sort_target = RangeRequest::VERSION;
  (void)sm.Range(range);
  range.revision = sm.store().compact_revision();
  (void)sm.Range(range);
  (void)sm.HashKV(0);
  std::uint64_t index = sm.applied_index();
  if (index > UINT64_MAX - 16) return;
  PutRequest put;
  put.key = "a";
  put.value = "v";
  (void)sm.Apply(++index, KvEntry(put));
  put.ignore_value = true;
  put.value.clear();
  put.key = sm.store().key_count() > 0 ? "b" : "a";
  TxnRequest txn;
  txn.success.push_back(RequestOp{put});
  txn.failure.push_back(RequestOp{range});
  Compare compare;
  compare.key = all;
  compare.range_end = all;
  compare.target = Compare::VERSION;
  compare.result = Compare::GREATER;
  txn.compare.push_back(compare);
  (void)sm.Apply(++index, KvEntry(txn));
  // Every lease: kept alive, promoted, then expired at a log time past them
  // all (deleting their keys); a new lease attached to a key, then revoked.
  std::vector<std::int64_t> ids;
  std::uint64_t latest = 0;
  for (const Lease* lease : sm.leases().ByExpiry()) {
    ids.push_back(lease->id);
    latest = std::max(latest, lease->expiry_ms);
  }
  if (latest > UINT64_MAX / 4 || sm.time_ms() > UINT64_MAX / 4) return;
  auto lease_entry = [](const LeaseCommand& c, std::uint64_t time_ms) {
    return EncodeCommand(Command{CommandKind::kLease, 1, time_ms, EncodeLeaseCommand(c)});
  };
  // In commands of at most max_ids_per_command ids.
  const std::size_t chunk = sm.leases().options().max_ids_per_command;
  auto for_chunks = [&](auto make) {
    for (std::size_t begin = 0; begin < ids.size(); begin += chunk) {
      const std::size_t end = std::min(ids.size(), begin + chunk);
      make(std::vector<std::int64_t>(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                     ids.begin() + static_cast<std::ptrdiff_t>(end)));
    }
  };
  if (index > UINT64_MAX - 16 - 2 * (ids.size() / chunk + 1)) return;
  for_chunks([&](std::vector<std::int64_t> part) {
    (void)sm.Apply(++index, lease_entry(LeaseKeepAlive{std::move(part)}, sm.time_ms()));
  });
  (void)sm.Apply(++index, lease_entry(LeasePromote{}, sm.time_ms()));
  const std::uint64_t past = std::max(sm.time_ms(), latest) + kMaxLeaseTtlSeconds * 1000 + 1;
  for_chunks([&](std::vector<std::int64_t> part) {
    (void)sm.Apply(++index, lease_entry(LeaseExpire{std::move(part)}, past));
  });
  TRI_ASSERT(sm.leases().size() == 0);
  (void)sm.Apply(++index, lease_entry(LeaseGrant{1, 10}, past));
  put.ignore_value = false;
  put.value = "v";
  put.lease = 1;
  (void)sm.Apply(++index, KvEntry(put));
  (void)sm.Apply(++index, lease_entry(LeaseRevoke{1}, past));
  TRI_ASSERT(sm.leases().size() == 0);
  DeleteRangeRequest del;
  del.key = all;
  del.range_end = all;
  del.prev_kv = true;
  (void)sm.Apply(++index, KvEntry(del));
  (void)sm.Apply(++index, KvEntry(CompactionRequest{sm.store().current_revision(), false}));
  TRI_ASSERT(sm.store().key_count() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  tri::rsm::StateMachine sm;
  const std::string before = sm.Snapshot();
  if (!sm.Restore(bytes).ok()) {
    TRI_ASSERT_MSG(sm.Snapshot() == before, "a failed Restore changed the state");
    return 0;
  }
  const std::string encoded = sm.Snapshot();
  tri::rsm::StateMachine again;
  TRI_ASSERT_MSG(again.Restore(encoded).ok(), "a restored state does not restore");
  TRI_ASSERT_MSG(again.Snapshot() == encoded, "restore/snapshot is not a fixed point");
  TRI_ASSERT(again.StateHash() == sm.StateHash());
  Exercise(sm);
  return 0;
}
