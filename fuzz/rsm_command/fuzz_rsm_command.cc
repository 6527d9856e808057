// Arbitrary bytes as a committed log entry: the state machine must answer an
// error or a response, never crash or assert, since a log may hold a corrupt
// entry or one written by a newer version. The bytes are applied twice on a
// small populated store with tight bounds: as a whole entry (envelope decoding)
// as the payload of a kKv envelope (request decoding and execution), and as the
// payload of a kLease envelope (lease commands on a store with a leased key).
// After all three, the state must still snapshot and restore (its invariants
// hold).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/state_machine.h"

namespace {

tri::rsm::KvOptions SmallOptions() {
  tri::rsm::KvOptions options;
  options.max_request_bytes = 4096;
  options.max_txn_ops = 16;
  options.max_key_bytes = 256;
  options.quota_bytes = 2048;
  options.max_txn_depth = 8;
  return options;
}

std::string KvEntry(const tri::rsm::KvRequest& request) {
  return tri::rsm::EncodeCommand(
      tri::rsm::Command{tri::rsm::CommandKind::kKv, 1, 0, tri::rsm::EncodeKvRequest(request)});
}

// A few keys with history, one deleted, and a compaction, so that ranges,
// compares, historical reads and compactions have something to find.
tri::rsm::StateMachine Populated() {
  using namespace tri::rsm;  // NOLINT: a .cc file
  StateMachine sm(SmallOptions());
  std::uint64_t index = 0;
  for (const char* key : {"a", "b", "c", "a"}) {
    PutRequest put;
    put.key = key;
    put.value = "v";
    TRI_ASSERT(sm.Apply(++index, KvEntry(put)).result.ok());
  }
  DeleteRangeRequest del;
  del.key = "b";
  TRI_ASSERT(sm.Apply(++index, KvEntry(del)).result.ok());
  TRI_ASSERT(sm.Apply(++index, KvEntry(CompactionRequest{3, false})).result.ok());
  // Lease 7 (10 s from time 0) with key "l" attached; lease 8 without keys.
  for (const LeaseCommand& c : {LeaseCommand(LeaseGrant{7, 10}), LeaseCommand(LeaseGrant{8, 5})}) {
    TRI_ASSERT(
        sm.Apply(++index, EncodeCommand(Command{CommandKind::kLease, 1, 0, EncodeLeaseCommand(c)}))
            .result.ok());
  }
  PutRequest leased;
  leased.key = "l";
  leased.value = "v";
  leased.lease = 7;
  TRI_ASSERT(sm.Apply(++index, KvEntry(leased)).result.ok());
  return sm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string populated = Populated().Snapshot();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  tri::rsm::StateMachine sm(SmallOptions());
  TRI_ASSERT(sm.Restore(populated).ok());

  const std::uint64_t first = sm.applied_index() + 1;
  (void)sm.Apply(first, bytes);
  const tri::rsm::Applied applied =
      sm.Apply(first + 1, tri::rsm::EncodeCommand(tri::rsm::Command{tri::rsm::CommandKind::kKv, 9,
                                                                    0, std::string(bytes)}));
  TRI_ASSERT(applied.request_id == 9);
  // As a lease command, at a log time past both leases' expiry.
  (void)sm.Apply(first + 2, tri::rsm::EncodeCommand(tri::rsm::Command{
                                tri::rsm::CommandKind::kLease, 10, 20000, std::string(bytes)}));
  TRI_ASSERT(sm.applied_index() == first + 2);

  // A request that decodes re-encodes to one that decodes to the same request.
  auto request = tri::rsm::DecodeKvRequest(bytes);
  if (request.ok()) {
    auto again = tri::rsm::DecodeKvRequest(tri::rsm::EncodeKvRequest(*request));
    TRI_ASSERT_MSG(again.ok() && *again == *request, "a decoded request does not round-trip");
  }

  auto lease = tri::rsm::DecodeLeaseCommand(bytes, {});
  if (lease.ok()) {
    auto again = tri::rsm::DecodeLeaseCommand(tri::rsm::EncodeLeaseCommand(*lease), {});
    TRI_ASSERT_MSG(again.ok() && *again == *lease, "a decoded lease command does not round-trip");
  }

  tri::rsm::StateMachine restored(SmallOptions());
  TRI_ASSERT_MSG(restored.Restore(sm.Snapshot()).ok(), "applied state fails its own checks");
  TRI_ASSERT(restored.StateHash() == sm.StateHash());
  return 0;
}
