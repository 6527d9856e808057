// Locks and barriers inside the state machine: commands in log entries, lease
// revocation handing a lock over with its fence key in the same revision,
// snapshots with every coordination table, and restores that refuse a store
// whose fence keys disagree with the lock table.

#include <gtest/gtest.h>

#include <string>

#include "base/coding.h"
#include "rsm/barrier_codec.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/lock_codec.h"
#include "rsm/lock_table.h"
#include "rsm/state_machine.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::RangeReq;

class Machine {
 public:
  Applied Lease(LeaseCommand c, std::uint64_t t = 1000) {
    return Apply(CommandKind::kLease, EncodeLeaseCommand(c), t);
  }
  Applied Lock(LockCommand c, std::uint64_t t = 1000) {
    return Apply(CommandKind::kLock, EncodeLockCommand(c), t);
  }
  Applied Barrier(BarrierCommand c, std::uint64_t t = 1000) {
    return Apply(CommandKind::kBarrier, EncodeBarrierCommand(c), t);
  }
  Applied Kv(KvRequest r, std::uint64_t t = 1000) {
    return Apply(CommandKind::kKv, EncodeKvRequest(r), t);
  }
  std::string Fence(const std::string& name) const {
    auto r = sm_.Range(RangeReq(LockFenceKey(name)));
    if (!r.ok() || r->kvs.empty()) return "";
    return r->kvs[0].value;
  }
  std::uint64_t index() const { return index_; }
  StateMachine& sm() { return sm_; }

 private:
  Applied Apply(CommandKind kind, std::string payload, std::uint64_t t) {
    ++index_;
    return sm_.Apply(index_, EncodeCommand(Command{kind, index_, t, std::move(payload)}));
  }
  StateMachine sm_;
  std::uint64_t index_ = 0;
};

TEST(CoordinationState, AGrantAnswersItsTokenAndWritesTheFenceKeyInOneRevision) {
  Machine m;
  const std::int64_t before = m.sm().store().current_revision();
  Applied a = m.Lock(LockAcquireCommand{"db", "alice", 0});
  ASSERT_TRUE(a.result.ok()) << a.result.error().message;
  ASSERT_TRUE(a.lock.has_value());
  EXPECT_EQ(a.lock->outcome, LockReply::Outcome::kGranted);
  EXPECT_EQ(a.lock->token, a.index);
  EXPECT_EQ(a.revision, before + 1);
  EXPECT_EQ(m.Fence("db"), std::to_string(a.index));
  Applied queued = m.Lock(LockAcquireCommand{"db", "bob", 0});
  ASSERT_TRUE(queued.lock.has_value());
  EXPECT_EQ(queued.lock->outcome, LockReply::Outcome::kQueued);
  EXPECT_EQ(queued.revision, before + 1);  // a queued acquire writes nothing
  EXPECT_EQ(m.sm().TakeChangedLocks(), std::vector<std::string>{"db"});
}

TEST(CoordinationState, ALockUnderAnUnknownLeaseIsRefusedAsEtcdRefusesTheLease) {
  Machine m;
  Applied a = m.Lock(LockAcquireCommand{"db", "alice", 77});
  ASSERT_FALSE(a.result.ok());
  EXPECT_EQ(a.result.error().message, "etcdserver: requested lease not found");
  EXPECT_EQ(m.Fence("db"), "");
}

TEST(CoordinationState, RevokingTheHoldersLeaseHandsTheLockOverWithItsKeysInOneRevision) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{5, 10}).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{6, 10}).result.ok());
  PutRequest put = testing::PutReq("session/alice", "x");
  put.lease = 5;
  ASSERT_TRUE(m.Kv(put).result.ok());
  Applied held = m.Lock(LockAcquireCommand{"db", "alice", 5});
  ASSERT_TRUE(held.result.ok());
  Applied waiting = m.Lock(LockAcquireCommand{"db", "bob", 6});
  ASSERT_EQ(waiting.lock->outcome, LockReply::Outcome::kQueued);
  const std::int64_t before = m.sm().store().current_revision();
  Applied revoke = m.Lease(LeaseRevoke{5});
  ASSERT_TRUE(revoke.result.ok());
  EXPECT_EQ(revoke.revision, before + 1);  // the leased key and the fence key together
  EXPECT_EQ(m.Fence("db"), std::to_string(revoke.index));
  const LockEntry* entry = m.sm().locks().Find("db");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->holder.owner, "bob");
  EXPECT_EQ(entry->holder.token, revoke.index);
  EXPECT_EQ(m.sm().Range(RangeReq("session/alice")).value().count, 0);
}

TEST(CoordinationState, BarriersApplyWithTheEntrysLogTime) {
  Machine m;
  BarrierCreateCommand create;
  create.name = "stage1";
  create.participants = 2;
  create.timeout_ms = 500;
  Applied c = m.Barrier(create, 10'000);
  ASSERT_TRUE(c.result.ok()) << c.result.error().message;
  ASSERT_TRUE(c.barrier.has_value());
  EXPECT_EQ(m.sm().barriers().NextDeadline(), 10'500u);
  ASSERT_TRUE(m.Barrier(BarrierArriveCommand{"stage1", "a"}, 10'100).result.ok());
  Applied early = m.Barrier(BarrierExpireCommand{}, 10'400);
  ASSERT_TRUE(early.result.ok());
  EXPECT_EQ(early.barrier.has_value() ? early.barrier->state : BarrierState::kCollecting,
            BarrierState::kCollecting);
  ASSERT_TRUE(m.Barrier(BarrierExpireCommand{}, 10'600).result.ok());
  const std::vector<std::string> changed = m.sm().TakeChangedBarriers();
  ASSERT_FALSE(changed.empty());
  EXPECT_EQ(changed.front(), "stage1");
}

TEST(CoordinationState, SnapshotsCarryLocksAndBarriersAndRoundTrip) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{5, 10}).result.ok());
  ASSERT_TRUE(m.Lock(LockAcquireCommand{"db", "alice", 5}).result.ok());
  ASSERT_TRUE(m.Lock(LockAcquireCommand{"db", "bob", 0}).result.ok());
  BarrierCreateCommand create;
  create.name = "b";
  create.participants = 3;
  ASSERT_TRUE(m.Barrier(create).result.ok());
  ASSERT_TRUE(m.Barrier(BarrierArriveCommand{"b", "p1"}).result.ok());
  StateMachine restored;
  const Status s = restored.Restore(m.sm().Snapshot());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(restored.Snapshot(), m.sm().Snapshot());
  EXPECT_EQ(restored.locks().locks(), m.sm().locks().locks());
  EXPECT_EQ(restored.StateHash(), m.sm().StateHash());
}

TEST(CoordinationState, ARestoreRefusesFenceKeysThatDisagreeWithTheLockTable) {
  Machine m;
  ASSERT_TRUE(m.Lock(LockAcquireCommand{"db", "alice", 0}).result.ok());
  // The same table over a store without the fence key: rebuild the snapshot
  // from a state machine that never wrote it.
  Machine empty;
  std::string tables;
  m.sm().locks().EncodeTo(tables);
  std::string bytes = empty.sm().Snapshot();
  std::string empty_tables;
  empty.sm().locks().EncodeTo(empty_tables);
  empty.sm().barriers().EncodeTo(empty_tables);
  ASSERT_EQ(bytes.substr(bytes.size() - empty_tables.size()), empty_tables);
  bytes.resize(bytes.size() - empty_tables.size());
  // The snapshot's applied index must cover the tokem.
  std::string header;
  coding::PutVarint64(header, 100);
  bytes.replace(kStateSnapshotMagic.size() + 4, 1, header);
  m.sm().barriers().EncodeTo(tables);
  StateMachine restored;
  const Status s = restored.Restore(bytes + tables);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("do not mirror the lock table"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tri::rsm
