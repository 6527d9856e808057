// Snapshot/restore as a property: after random entries, a restored state machine
// has the same snapshot bytes and hashes, and answers every later entry and read
// exactly as the original does.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "random_requests.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/state_machine.h"

namespace tri::rsm {
namespace {

std::string Entry(const KvRequest& request, std::uint64_t timestamp_ms) {
  return EncodeCommand(Command{CommandKind::kKv, 1, timestamp_ms, EncodeKvRequest(request)});
}

bool SameApplied(const Applied& a, const Applied& b) {
  if (a.index != b.index || a.request_id != b.request_id || a.revision != b.revision ||
      a.result.ok() != b.result.ok()) {
    return false;
  }
  return a.result.ok() ? *a.result == *b.result : a.result.error() == b.result.error();
}

RC_GTEST_PROP(SnapshotProps, RestoredStateAnswersIdenticallyAndHashesEqual, ()) {
  KvOptions options;
  options.quota_bytes = testing::Uniform<std::uint64_t>(200, 4000);  // alarms happen
  StateMachine original(options);
  std::uint64_t index = 0;
  const int before = testing::Uniform<int>(0, 40);
  for (int i = 0; i < before; ++i) {
    const auto request = testing::GenRequest(
        {original.store().current_revision(), original.store().compact_revision()});
    index += testing::Uniform<std::uint64_t>(1, 3);
    (void)original.Apply(index, Entry(request, testing::Uniform<std::uint64_t>(0, 100)));
  }
  StateMachine restored(options);
  RC_ASSERT(restored.Restore(original.Snapshot()).ok());
  RC_ASSERT(restored.Snapshot() == original.Snapshot());
  RC_ASSERT(restored.StateHash() == original.StateHash());
  RC_ASSERT(restored.store().used_bytes() == original.store().used_bytes());
  auto hash_a = original.HashKV(0);
  auto hash_b = restored.HashKV(0);
  RC_ASSERT(hash_a.ok() && hash_b.ok());
  RC_ASSERT(*hash_a == *hash_b);

  const int after = testing::Uniform<int>(1, 30);
  for (int i = 0; i < after; ++i) {
    const auto request = testing::GenRequest(
        {original.store().current_revision(), original.store().compact_revision()});
    ++index;
    const std::string entry = Entry(request, 50);
    RC_ASSERT(SameApplied(original.Apply(index, entry), restored.Apply(index, entry)));
    const RangeRequest read = testing::GenRange(
        {original.store().current_revision(), original.store().compact_revision()}, true);
    const auto a = original.Range(read);
    const auto b = restored.Range(read);
    RC_ASSERT(a.ok() == b.ok());
    if (a.ok()) RC_ASSERT(*a == *b);
  }
  RC_ASSERT(restored.StateHash() == original.StateHash());
}

}  // namespace
}  // namespace tri::rsm
