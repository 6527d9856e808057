// The lease commands on the state machine: one test per rule of
// docs/coordination.md, "Leases"; the codec; snapshots (version 3, and the
// older versions still read).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/lease_table.h"
#include "rsm/state_machine.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::PutReq;
using testing::RangeReq;

// Applies commands with increasing indexes, each stamped with the time given.
class Machine {
 public:
  explicit Machine(LeaseOptions options = {}) : sm_(KvOptions{}, SagaOptions{}, options) {}

  Applied Lease(LeaseCommand command, std::uint64_t time_ms) {
    return Apply(CommandKind::kLease, EncodeLeaseCommand(command), time_ms);
  }
  Applied Kv(KvRequest request, std::uint64_t time_ms) {
    return Apply(CommandKind::kKv, EncodeKvRequest(request), time_ms);
  }
  Applied Put(std::string key, std::int64_t lease, std::uint64_t time_ms) {
    PutRequest r = PutReq(std::move(key), "v");
    r.lease = lease;
    return Kv(r, time_ms);
  }
  bool Live(const std::string& key) const {
    auto r = sm_.Range(RangeReq(key));
    return r.ok() && r->count == 1;
  }
  std::vector<std::string> KeysOf(std::int64_t lease) const {
    const rsm::Lease* l = sm_.leases().Find(lease);
    if (l == nullptr) return {};
    return {l->keys.begin(), l->keys.end()};
  }
  StateMachine& sm() { return sm_; }

 private:
  Applied Apply(CommandKind kind, std::string payload, std::uint64_t time_ms) {
    ++index_;
    return sm_.Apply(index_, EncodeCommand(Command{kind, index_, time_ms, std::move(payload)}));
  }
  StateMachine sm_;
  std::uint64_t index_ = 0;
};

TEST(LeaseRules, GrantAnswersTheIdAndTtlAndExpiresAtLogTimePlusTtl) {
  Machine m;
  Applied a = m.Lease(LeaseGrant{7, 10}, 1000);
  ASSERT_TRUE(a.result.ok());
  ASSERT_TRUE(a.lease.has_value());
  EXPECT_EQ(a.lease->id, 7);
  EXPECT_EQ(a.lease->ttl_s, 10);
  ASSERT_NE(m.sm().leases().Find(7), nullptr);
  EXPECT_EQ(m.sm().leases().Find(7)->expiry_ms, 11000u);
}

TEST(LeaseRules, TtlBelowTheMinimumIsRaisedToIt) {
  Machine m(LeaseOptions{.min_ttl_s = 5});
  Applied a = m.Lease(LeaseGrant{1, 1}, 0);
  ASSERT_TRUE(a.result.ok());
  EXPECT_EQ(a.lease->ttl_s, 5);
  Applied negative = m.Lease(LeaseGrant{2, -3}, 0);
  ASSERT_TRUE(negative.result.ok());
  EXPECT_EQ(negative.lease->ttl_s, 5);
}

TEST(LeaseRules, TtlAboveTheMaximumFailsWithEtcdsError) {
  Machine m;
  Applied a = m.Lease(LeaseGrant{1, kMaxLeaseTtlSeconds + 1}, 0);
  ASSERT_FALSE(a.result.ok());
  EXPECT_EQ(a.result.error(), ErrLeaseTtlTooLarge());
  EXPECT_EQ(a.result.error().message, "etcdserver: too large lease TTL");
  EXPECT_TRUE(m.Lease(LeaseGrant{1, kMaxLeaseTtlSeconds}, 0).result.ok());
}

TEST(LeaseRules, GrantingAnExistingIdFailsWithLeaseAlreadyExists) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{3, 10}, 0).result.ok());
  Applied again = m.Lease(LeaseGrant{3, 20}, 0);
  ASSERT_FALSE(again.result.ok());
  EXPECT_EQ(again.result.error().message, "etcdserver: lease already exists");
  EXPECT_EQ(again.result.error().grpc_code, GrpcCode::kFailedPrecondition);
  EXPECT_EQ(m.sm().leases().Find(3)->ttl_s, 10);
}

TEST(LeaseRules, GrantWithIdZeroIsRefused) {
  Machine m;
  Applied a = m.Lease(LeaseGrant{0, 10}, 0);
  ASSERT_FALSE(a.result.ok());
  EXPECT_EQ(a.result.error(), ErrLeaseNotFound());
}

TEST(LeaseRules, LeasesBeyondTheLimitAreRefused) {
  Machine m(LeaseOptions{.max_leases = 2});
  EXPECT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  EXPECT_TRUE(m.Lease(LeaseGrant{2, 10}, 0).result.ok());
  Applied third = m.Lease(LeaseGrant{3, 10}, 0);
  ASSERT_FALSE(third.result.ok());
  EXPECT_EQ(third.result.error().grpc_code, GrpcCode::kResourceExhausted);
  EXPECT_NE(third.result.error().message.find("too many leases"), std::string::npos);
}

TEST(LeaseRules, PutWithAnUnknownLeaseFailsAlsoInsideATxn) {
  Machine m;
  Applied put = m.Put("k", 42, 0);
  ASSERT_FALSE(put.result.ok());
  EXPECT_EQ(put.result.error(), ErrLeaseNotFound());
  PutRequest leased = PutReq("k", "v");
  leased.lease = 42;
  Applied txn = m.Kv(testing::TxnReq({}, {testing::Op(leased)}), 0);
  ASSERT_FALSE(txn.result.ok());
  EXPECT_EQ(txn.result.error(), ErrLeaseNotFound());
  EXPECT_FALSE(m.Live("k"));
}

TEST(LeaseRules, PutAttachesAndOverwriteMovesOrDetachesTheKey) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{2, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  ASSERT_TRUE(m.Put("b", 1, 0).result.ok());
  EXPECT_EQ(m.KeysOf(1), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(m.Put("a", 2, 0).result.ok());
  EXPECT_EQ(m.KeysOf(1), (std::vector<std::string>{"b"}));
  EXPECT_EQ(m.KeysOf(2), (std::vector<std::string>{"a"}));
  ASSERT_TRUE(m.Put("b", 0, 0).result.ok());
  EXPECT_TRUE(m.KeysOf(1).empty());
}

TEST(LeaseRules, IgnoreLeaseKeepsTheAttachment) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  PutRequest r = PutReq("a", "new");
  r.ignore_lease = true;
  ASSERT_TRUE(m.Kv(r, 0).result.ok());
  EXPECT_EQ(m.KeysOf(1), (std::vector<std::string>{"a"}));
}

TEST(LeaseRules, DeleteDetachesTheKey) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  ASSERT_TRUE(m.Kv(testing::DeleteReq("a"), 0).result.ok());
  EXPECT_TRUE(m.KeysOf(1).empty());
  // Revoking now deletes nothing: no new revision.
  const std::int64_t revision = m.sm().store().current_revision();
  ASSERT_TRUE(m.Lease(LeaseRevoke{1}, 0).result.ok());
  EXPECT_EQ(m.sm().store().current_revision(), revision);
}

TEST(LeaseRules, KeysPerLeaseAreBounded) {
  Machine m(LeaseOptions{.max_keys_per_lease = 2});
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  ASSERT_TRUE(m.Put("b", 1, 0).result.ok());
  Applied third = m.Put("c", 1, 0);
  ASSERT_FALSE(third.result.ok());
  EXPECT_EQ(third.result.error().grpc_code, GrpcCode::kResourceExhausted);
  // Writing an attached key again is no new attachment.
  EXPECT_TRUE(m.Put("a", 1, 0).result.ok());
}

TEST(LeaseRules, RevokeDeletesEveryAttachedKeyInOneRevision) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  ASSERT_TRUE(m.Put("b", 1, 0).result.ok());
  ASSERT_TRUE(m.Put("c", 0, 0).result.ok());
  const std::int64_t revision = m.sm().store().current_revision();
  Applied revoke = m.Lease(LeaseRevoke{1}, 0);
  ASSERT_TRUE(revoke.result.ok());
  EXPECT_EQ(revoke.revision, revision + 1);
  EXPECT_EQ(revoke.lease->revoked, (std::vector<std::int64_t>{1}));
  EXPECT_FALSE(m.Live("a"));
  EXPECT_FALSE(m.Live("b"));
  EXPECT_TRUE(m.Live("c"));
  EXPECT_EQ(m.sm().leases().Find(1), nullptr);
}

TEST(LeaseRules, RevokingAMissingLeaseFailsWithLeaseNotFound) {
  Machine m;
  Applied a = m.Lease(LeaseRevoke{9}, 0);
  ASSERT_FALSE(a.result.ok());
  EXPECT_EQ(a.result.error().message, "etcdserver: requested lease not found");
}

TEST(LeaseRules, ExpireBeforeTheExpiryIsHarmless) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 1000).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 1000).result.ok());
  Applied early = m.Lease(LeaseExpire{{1}}, 10999);
  ASSERT_TRUE(early.result.ok());
  EXPECT_TRUE(early.lease->revoked.empty());
  EXPECT_TRUE(m.Live("a"));
}

TEST(LeaseRules, ExpireAtTheExpiryRevokesAllItsLeasesInOneRevision) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 1000).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{2, 10}, 1000).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{3, 100}, 1000).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 1000).result.ok());
  ASSERT_TRUE(m.Put("b", 2, 1000).result.ok());
  ASSERT_TRUE(m.Put("c", 3, 1000).result.ok());
  const std::int64_t revision = m.sm().store().current_revision();
  Applied expire = m.Lease(LeaseExpire{{1, 2, 3, 1, 99}}, 11000);
  ASSERT_TRUE(expire.result.ok());
  EXPECT_EQ(expire.lease->revoked, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(expire.revision, revision + 1);
  EXPECT_FALSE(m.Live("a"));
  EXPECT_FALSE(m.Live("b"));
  EXPECT_TRUE(m.Live("c"));
}

TEST(LeaseRules, ExpireUsesTheLogTimeNotTheEntrysOwnEarlierStamp) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 1000).result.ok());
  ASSERT_TRUE(m.Put("x", 0, 20000).result.ok());
  // An entry stamped earlier than the log's time applies at the log's time.
  Applied expire = m.Lease(LeaseExpire{{1}}, 5000);
  EXPECT_EQ(expire.lease->revoked, (std::vector<std::int64_t>{1}));
}

TEST(LeaseRules, KeepAliveWithinTheTtlPostponesExpiry) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  Applied keep = m.Lease(LeaseKeepAlive{{1, 5}}, 9000);
  ASSERT_TRUE(keep.result.ok());
  EXPECT_EQ(keep.lease->renewed, (std::vector<LeaseTtl>{{1, 10}, {5, 0}}));
  EXPECT_EQ(m.sm().leases().Find(1)->expiry_ms, 19000u);
  EXPECT_TRUE(m.Lease(LeaseExpire{{1}}, 10000).lease->revoked.empty());
}

TEST(LeaseRules, KeepAliveAfterTheExpiryAnswersZeroAndDoesNotRenew) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  Applied keep = m.Lease(LeaseKeepAlive{{1}}, 10000);
  EXPECT_EQ(keep.lease->renewed, (std::vector<LeaseTtl>{{1, 0}}));
  EXPECT_EQ(m.sm().leases().Find(1)->expiry_ms, 10000u);
}

TEST(LeaseRules, PromoteGivesEveryLeaseItsFullTtlAgainButNeverShortensOne) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());   // expires 10000
  ASSERT_TRUE(m.Lease(LeaseGrant{2, 100}, 0).result.ok());  // expires 100000
  ASSERT_TRUE(m.Lease(LeasePromote{}, 8000).result.ok());
  EXPECT_EQ(m.sm().leases().Find(1)->expiry_ms, 18000u);
  EXPECT_EQ(m.sm().leases().Find(2)->expiry_ms, 108000u);
  ASSERT_TRUE(m.Lease(LeaseKeepAlive{{2}}, 8000).result.ok());  // 108000 again
  ASSERT_TRUE(m.Lease(LeasePromote{}, 8000).result.ok());
  EXPECT_EQ(m.sm().leases().Find(2)->expiry_ms, 108000u);
}

TEST(LeaseRules, ByExpiryListsEarliestFirst) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 30}, 0).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{2, 10}, 0).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{3, 20}, 0).result.ok());
  std::vector<std::int64_t> ids;
  for (const rsm::Lease* l : m.sm().leases().ByExpiry())
    ids.push_back(l->id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{2, 3, 1}));
  EXPECT_EQ(m.sm().leases().ExpiredBy(20000, 10), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(m.sm().leases().ExpiredBy(20000, 1), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(m.sm().leases().next_expiry_ms(), 10000u);
}

TEST(LeaseCodec, EveryCommandRoundTrips) {
  for (const LeaseCommand& c :
       {LeaseCommand(LeaseGrant{-5, 60}), LeaseCommand(LeaseRevoke{INT64_MAX}),
        LeaseCommand(LeaseKeepAlive{{1, 2, 3}}), LeaseCommand(LeaseExpire{{}}),
        LeaseCommand(LeasePromote{})}) {
    auto decoded = DecodeLeaseCommand(EncodeLeaseCommand(c), {});
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, c);
  }
}

TEST(LeaseCodec, BadBytesAreRefusedNamingWhat) {
  EXPECT_NE(DecodeLeaseCommand("", {}).status().message().find("op truncated"), std::string::npos);
  EXPECT_NE(DecodeLeaseCommand("\x09", {}).status().message().find("unknown op 9"),
            std::string::npos);
  EXPECT_NE(DecodeLeaseCommand(EncodeLeaseCommand(LeasePromote{}) + "x", {})
                .status()
                .message()
                .find("trailing"),
            std::string::npos);
  const std::string three = EncodeLeaseCommand(LeaseKeepAlive{{1, 2, 3}});
  EXPECT_NE(DecodeLeaseCommand(three, {.max_ids = 2}).status().message().find("above the limit"),
            std::string::npos);
  EXPECT_FALSE(DecodeLeaseCommand(three.substr(0, three.size() - 1), {}).ok());
}

TEST(LeaseCodec, AMalformedEntryIsAnErrorNotACrash) {
  Machine m;
  StateMachine& sm = m.sm();
  Applied a = sm.Apply(100, EncodeCommand(Command{CommandKind::kLease, 1, 0, "\x07"}));
  ASSERT_FALSE(a.result.ok());
  EXPECT_NE(a.result.error().message.find("entry 100"), std::string::npos);
}

TEST(LeaseSnapshot, RoundTripKeepsLeasesAndRecomputesTheirKeys) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 1000).result.ok());
  ASSERT_TRUE(m.Lease(LeaseGrant{-2, 20}, 1000).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 1000).result.ok());
  ASSERT_TRUE(m.Put("b", -2, 1000).result.ok());
  ASSERT_TRUE(m.Put("c", 1, 1000).result.ok());
  StateMachine restored;
  ASSERT_TRUE(restored.Restore(m.sm().Snapshot()).ok());
  EXPECT_EQ(restored.Snapshot(), m.sm().Snapshot());
  ASSERT_NE(restored.leases().Find(1), nullptr);
  EXPECT_EQ(restored.leases().Find(1)->keys, (std::set<std::string, std::less<>>{"a", "c"}));
  EXPECT_EQ(restored.leases().Find(-2)->expiry_ms, 21000u);
  // The restored store reports to the restored table: a revoke deletes the keys.
  Applied revoke = restored.Apply(1000, EncodeCommand(Command{CommandKind::kLease, 1, 2000,
                                                              EncodeLeaseCommand(LeaseRevoke{1})}));
  ASSERT_TRUE(revoke.result.ok());
  EXPECT_EQ(restored.Range(RangeReq("a", "\xff")).value().count, 1);
}

// A snapshot's bytes cut around its lease table, which the lock and barrier
// tables follow.
struct AroundLeaseTable {
  std::string before;
  std::string after;
};

AroundLeaseTable SplitAtLeaseTable(const StateMachine& sm) {
  std::string table;
  sm.leases().EncodeTo(table);
  std::string after;
  sm.locks().EncodeTo(after);
  sm.barriers().EncodeTo(after);
  const std::string bytes = sm.Snapshot();
  const std::size_t tail = table.size() + after.size();
  EXPECT_EQ(bytes.substr(bytes.size() - tail), table + after);
  return {bytes.substr(0, bytes.size() - tail), after};
}

TEST(LeaseSnapshot, AKeyWhoseLeaseIsMissingIsRefused) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  const AroundLeaseTable parts = SplitAtLeaseTable(m.sm());
  const std::string bytes = parts.before + '\0' + parts.after;  // an empty lease table
  StateMachine restored;
  const Status s = restored.Restore(bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("key 'a' is attached to lease 1"), std::string::npos) << s.message();
}

TEST(LeaseSnapshot, VersionTwoWithoutLeasesStillReads) {
  Machine m;
  ASSERT_TRUE(m.Put("a", 0, 0).result.ok());
  // Version 2 ends after the saga table.
  std::string bytes = SplitAtLeaseTable(m.sm()).before;
  std::string version;
  coding::PutFixed32(version, 2);
  bytes.replace(kStateSnapshotMagic.size(), 4, version);
  StateMachine restored;
  ASSERT_TRUE(restored.Restore(bytes).ok());
  EXPECT_EQ(restored.Snapshot(), m.sm().Snapshot());
}

TEST(LeaseSnapshot, BadLeaseTablesAreRefused) {
  Machine m;
  const AroundLeaseTable parts = SplitAtLeaseTable(m.sm());
  auto restore = [&](std::string table) {
    StateMachine restored;
    return restored.Restore(parts.before + table + parts.after);
  };
  std::string zero_id;
  coding::PutVarint64(zero_id, 1);
  coding::PutVarint64(zero_id, 0);
  coding::PutVarint64(zero_id, 10);
  coding::PutVarint64(zero_id, 10);
  EXPECT_NE(restore(zero_id).message().find("id 0"), std::string::npos);
  std::string repeated;
  coding::PutVarint64(repeated, 2);
  for (int i = 0; i < 2; ++i) {
    coding::PutVarint64(repeated, 4);
    coding::PutVarint64(repeated, 10);
    coding::PutVarint64(repeated, 10);
  }
  EXPECT_NE(restore(repeated).message().find("out of order or repeated"), std::string::npos);
  std::string zero_ttl;
  coding::PutVarint64(zero_ttl, 1);
  coding::PutVarint64(zero_ttl, 4);
  coding::PutVarint64(zero_ttl, 0);
  coding::PutVarint64(zero_ttl, 10);
  EXPECT_NE(restore(zero_ttl).message().find("TTL 0"), std::string::npos);
  EXPECT_NE(restore("\x01\x04").message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace tri::rsm

namespace tri::rsm {
namespace {

TEST(LeaseRules, AMovedStateMachineKeepsTrackingLeaseKeys) {
  Machine m;
  ASSERT_TRUE(m.Lease(LeaseGrant{1, 10}, 0).result.ok());
  ASSERT_TRUE(m.Put("a", 1, 0).result.ok());
  StateMachine moved(std::move(m.sm()));
  ASSERT_TRUE(moved
                  .Apply(100, EncodeCommand(Command{CommandKind::kKv, 1, 0,
                                                    EncodeKvRequest(PutReq("b", "v"))}))
                  .result.ok());
  PutRequest leased = PutReq("c", "v");
  leased.lease = 1;
  ASSERT_TRUE(
      moved.Apply(101, EncodeCommand(Command{CommandKind::kKv, 2, 0, EncodeKvRequest(leased)}))
          .result.ok());
  EXPECT_EQ(moved.leases().Find(1)->keys, (std::set<std::string, std::less<>>{"a", "c"}));
  StateMachine assigned;
  assigned = std::move(moved);
  ASSERT_TRUE(assigned
                  .Apply(102, EncodeCommand(Command{CommandKind::kLease, 3, 0,
                                                    EncodeLeaseCommand(LeaseRevoke{1})}))
                  .result.ok());
  EXPECT_EQ(assigned.Range(RangeReq("a", "\xff")).value().count, 1);
}

}  // namespace
}  // namespace tri::rsm
