// Arbitrary bytes, twice: as a lock command applied to a populated lock table
// (held locks with queues, re-entrant holds, leases), and as a lock table
// snapshot. A command must be refused with the table unchanged, or applied
// with the table still valid (its snapshot restores) and its mirror writes
// keeping the fence keys equal to the holders' tokens; a decoded command must
// round-trip. A snapshot must be refused, or restore a table that encodes to
// bytes that restore the same table and that takes further commands.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "rsm/lock_codec.h"
#include "rsm/lock_table.h"

namespace {

using tri::rsm::LockAcquireCommand;
using tri::rsm::LockCommand;
using tri::rsm::LockOptions;
using tri::rsm::LockReleaseCommand;
using tri::rsm::LockTable;
using tri::rsm::ReservedWrite;

constexpr std::uint64_t kPopulatedIndex = 20;

LockOptions Options() {
  LockOptions options;
  options.max_locks = 4;
  options.max_waiters_per_lock = 3;
  options.max_name_bytes = 16;
  options.max_owner_bytes = 16;
  options.max_hold_count = 5;
  return options;
}

bool LeaseExists(std::int64_t lease) {
  return lease == 1 || lease == 2;
}

std::string Encode(const LockTable& table) {
  std::string out;
  table.EncodeTo(out);
  return out;
}

LockTable Decode(const std::string& bytes, std::uint64_t applied_index) {
  tri::coding::Decoder in(bytes);
  auto table = LockTable::DecodeFrom(in, Options(), applied_index);
  TRI_ASSERT_MSG(table.ok() && in.done(), "a lock table's own snapshot does not restore");
  return std::move(table).value();
}

std::string Populated() {
  LockTable table(Options());
  std::uint64_t index = 0;
  const LockCommand commands[] = {
      LockAcquireCommand{"db", "a", 1},   LockAcquireCommand{"db", "a", 1},
      LockAcquireCommand{"db", "b", 2},   LockAcquireCommand{"db", "c", 0},
      LockAcquireCommand{"jobs", "b", 2}, LockAcquireCommand{"jobs", "a", 1},
      LockAcquireCommand{"x", "c", 0}};
  for (const LockCommand& c : commands)
    TRI_ASSERT(table.Apply(++index, c, LeaseExists).ok());
  TRI_ASSERT(index < kPopulatedIndex);
  return Encode(table);
}

void Mirror(std::map<std::string, std::string>& mirror, const std::vector<ReservedWrite>& writes) {
  for (const ReservedWrite& w : writes) {
    if (w.value) {
      mirror[w.key] = *w.value;
    } else {
      TRI_ASSERT_MSG(mirror.erase(w.key) == 1, "a fence key deleted that was not there");
    }
  }
}

void CheckMirror(const LockTable& table, const std::map<std::string, std::string>& mirror) {
  std::map<std::string, std::string> expected;
  for (const ReservedWrite& w : table.FenceState())
    expected[w.key] = *w.value;
  TRI_ASSERT_MSG(expected == mirror, "mirror writes do not keep the fence keys equal to tokens");
}

void AsCommand(std::string_view bytes) {
  static const std::string populated = Populated();
  LockTable table = Decode(populated, kPopulatedIndex);
  std::map<std::string, std::string> mirror;
  Mirror(mirror, table.FenceState());
  auto command = tri::rsm::DecodeLockCommand(bytes);
  if (!command.ok()) return;
  const std::string once = tri::rsm::EncodeLockCommand(*command);
  auto again = tri::rsm::DecodeLockCommand(once);
  TRI_ASSERT_MSG(again.ok() && tri::rsm::EncodeLockCommand(*again) == once,
                 "a decoded lock command does not round-trip");
  std::uint64_t index = kPopulatedIndex;
  auto reply = table.Apply(++index, *command, LeaseExists);
  if (!reply.ok()) {
    TRI_ASSERT_MSG(Encode(table) == populated, "a refused lock command changed the table");
    return;
  }
  Mirror(mirror, reply->fence_writes);
  CheckMirror(table, mirror);
  Mirror(mirror, table.OnLeasesRevoked({1}, ++index));
  CheckMirror(table, mirror);
  const std::string after = Encode(table);
  TRI_ASSERT(Encode(Decode(after, index)) == after);
}

void AsSnapshot(std::string_view bytes) {
  tri::coding::Decoder in(bytes);
  auto table = LockTable::DecodeFrom(in, Options(), 1000);
  if (!table.ok()) return;
  const std::string encoded = Encode(*table);
  TRI_ASSERT_MSG(Encode(Decode(encoded, 1000)) == encoded,
                 "a restored lock table re-encodes "
                 "differently");
  std::map<std::string, std::string> mirror;
  Mirror(mirror, table->FenceState());
  std::uint64_t index = 1000;
  for (const auto& [name, lock] : std::map(table->locks())) {
    auto released = table->Apply(++index, LockReleaseCommand{name, lock.holder.owner}, LeaseExists);
    TRI_ASSERT_MSG(released.ok(), "a restored holder cannot release its lock");
    Mirror(mirror, released->fence_writes);
  }
  Mirror(mirror, table->OnLeasesRevoked({1, 2}, ++index));
  CheckMirror(*table, mirror);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  AsCommand(bytes);
  AsSnapshot(bytes);
  return 0;
}
